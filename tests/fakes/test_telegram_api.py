"""The fake Telegram Bot API, driven only through python-telegram-bot's real ``telegram.Bot``.

If these pass, the fake accepts what the real client sends and answers so that the client
reacts as it does to Telegram: the same objects, the same exceptions.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import struct
import time
import zlib
from collections.abc import Iterator

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.request import BaseRequest, HTTPXRequest, RequestData

from .telegram_api import FakeTelegram

TOKEN = "123456:TEST-token"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeTelegram]:
    with FakeTelegram(TOKEN) as fake:
        yield fake


@pytest.fixture
def fake(server: FakeTelegram) -> FakeTelegram:
    server.reset()
    return server


@pytest.fixture(autouse=True)
def _timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    # RetryAfter.retry_after warns (an error here) unless PTB's timedelta mode is on.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


def wait_of(refused: RetryAfter) -> float:
    """The seconds a RetryAfter asks to wait (a timedelta, with PTB_TIMEDELTA set)."""
    assert isinstance(refused.retry_after, dt.timedelta)
    return refused.retry_after.total_seconds()


def bot_for(fake: FakeTelegram, request: BaseRequest | None = None) -> Bot:
    return Bot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url,
               request=request)


def png(width: int, height: int) -> bytes:
    """A valid RGB PNG, so the upload is what a bot would really send."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


KEYBOARD = InlineKeyboardMarkup(
    [[InlineKeyboardButton("כן", callback_data="answer:yes"),
      InlineKeyboardButton("לא", callback_data="answer:no")]]
)


async def test_get_me(fake: FakeTelegram) -> None:
    async with bot_for(fake) as bot:
        me = await bot.get_me()
    assert (me.id, me.is_bot, me.first_name, me.username) == (
        123456, True, "Kolot Test", "kolot_test_bot")
    assert me.can_join_groups is True
    assert me.supports_inline_queries is False
    assert [call.method for call in fake.calls] == ["getMe", "getMe"]  # initialize() + ours


async def test_send_message_with_inline_keyboard_round_trips(fake: FakeTelegram) -> None:
    async with bot_for(fake) as bot:
        first = await bot.send_message(42, "מה דעתך?", reply_markup=KEYBOARD)
        second = await bot.send_message(42, "ועוד שאלה", parse_mode="HTML")
    assert first.reply_markup == KEYBOARD
    assert (first.message_id, second.message_id) == (1, 2)
    assert first.chat.id == 42 and first.chat.type == "private"
    assert first.from_user is not None and first.from_user.username == "kolot_test_bot"
    [call, _] = fake.sent(42)
    assert call.params["chat_id"] == 42 and call.chat_id == "42"
    assert call.params["reply_markup"] == {"inline_keyboard": [[
        {"text": "כן", "callback_data": "answer:yes"},
        {"text": "לא", "callback_data": "answer:no"},
    ]]}
    assert fake.texts(42) == ["מה דעתך?", "ועוד שאלה"]
    assert fake.sent(43) == []


@pytest.mark.parametrize(("data", "accepted"), [("א" * 32, True), ("א" * 32 + "!", False)])
async def test_callback_data_is_limited_to_64_utf8_bytes(
    fake: FakeTelegram, data: str, accepted: bool
) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("בחר", callback_data=data)]])
    async with bot_for(fake) as bot:
        if accepted:
            await bot.send_message(1, "ok", reply_markup=markup)
        else:
            with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
                await bot.send_message(1, "too long", reply_markup=markup)
    assert len(fake.sent(1)) == (1 if accepted else 0)


async def test_message_length_limits(fake: FakeTelegram) -> None:
    async with bot_for(fake) as bot:
        await bot.send_message(5, "א" * 4096)
        with pytest.raises(BadRequest, match=r"(?i)message is too long"):
            await bot.send_message(5, "א" * 4097)
        with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
            await bot.send_message(5, "  \n")
    assert [call.status for call in fake.calls[1:]] == [200, 400, 400]


async def test_edit_message_text_and_reply_markup(fake: FakeTelegram) -> None:
    async with bot_for(fake) as bot:
        sent = await bot.send_message(8, "שאלה", reply_markup=KEYBOARD)
        edited = await bot.edit_message_text("שאלה (נענתה)", chat_id=8,
                                             message_id=sent.message_id, reply_markup=KEYBOARD)
        assert not isinstance(edited, bool)
        assert edited.text == "שאלה (נענתה)" and edited.reply_markup == KEYBOARD
        assert edited.edit_date is not None
        with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
            await bot.edit_message_text("שאלה (נענתה)", chat_id=8, message_id=sent.message_id,
                                        reply_markup=KEYBOARD)
        cleared = await bot.edit_message_reply_markup(chat_id=8, message_id=sent.message_id)
        assert not isinstance(cleared, bool) and cleared.reply_markup is None
        with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
            await bot.edit_message_reply_markup(chat_id=8, message_id=sent.message_id)
        with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
            await bot.edit_message_text("?", chat_id=8, message_id=99)
    assert [call.method for call in fake.sent()] == ["sendMessage"]


async def test_answer_callback_query_once(fake: FakeTelegram) -> None:
    async with bot_for(fake) as bot:
        assert await bot.answer_callback_query("q-1", text="נרשם", show_alert=True) is True
        with pytest.raises(BadRequest, match=r"(?i)query is too old"):
            await bot.answer_callback_query("q-1")
    call = fake.calls[1]
    assert call.method == "answerCallbackQuery"
    assert call.params == {"callback_query_id": "q-1", "text": "נרשם", "show_alert": True}


async def test_send_photo_uploads_the_file(fake: FakeTelegram) -> None:
    image = png(3, 2)
    async with bot_for(fake) as bot:
        message = await bot.send_photo(7, photo=image, caption="תוצאות", filename="chart.png")
        again = await bot.send_photo(7, photo=message.photo[-1].file_id)
        with pytest.raises(BadRequest, match=r"(?i)image_process_failed"):
            await bot.send_photo(7, photo=b"not an image", filename="x.png")
        with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
            await bot.send_photo(7, photo=image, caption="x" * 1025)
    size = message.photo[-1]
    assert (size.width, size.height, size.file_size) == (3, 2, len(image))
    assert message.caption == "תוצאות"
    assert again.photo[-1].file_id == size.file_id
    assert fake.sent(7)[0].params["photo"] == image
    assert fake.texts(7) == ["תוצאות"]


async def test_chat_limit_answers_retry_after(fake: FakeTelegram) -> None:
    async with bot_for(fake) as bot:
        for n in range(3):
            await bot.send_message(5, f"burst {n}")
        with pytest.raises(RetryAfter) as refused:
            await bot.send_message(5, "one too many")
        await bot.send_message(6, "another chat has its own window")
    assert wait_of(refused.value) == 3
    assert fake.rejected_429 == 1
    assert fake.texts(5) == ["burst 0", "burst 1", "burst 2"]


async def test_windows_slide_per_chat_per_group_and_overall() -> None:
    with FakeTelegram(chat_limit=(2, 0.4), group_limit=(2, 60.0), global_limit=(5, 10.0)) as fake:
        async with bot_for(fake) as bot:
            await bot.send_message(1, "a")
            await bot.send_message(1, "b")
            with pytest.raises(RetryAfter) as chat_full:
                await bot.send_message(1, "c")
            await asyncio.sleep(0.4)
            await bot.send_message(1, "d")  # the refused "c" did not use up the window
            await bot.send_message(-100, "g1")
            await bot.send_message(-100, "g2")
            with pytest.raises(RetryAfter) as group_full:
                await bot.send_message(-100, "g3")
            with pytest.raises(RetryAfter) as overall_full:  # a, b, d, g1, g2 in ten seconds
                await bot.send_message(2, "x")
    assert wait_of(chat_full.value) == 1
    assert 59 <= wait_of(group_full.value) <= 60
    assert 9 <= wait_of(overall_full.value) <= 10
    assert fake.rejected_429 == 3
    assert fake.texts(1) == ["a", "b", "d"]


async def test_limits_can_be_turned_off() -> None:
    with FakeTelegram(limits_enabled=False) as fake:
        async with bot_for(fake) as bot:
            for n in range(40):
                await bot.send_message(1, f"{n}")
    assert len(fake.sent(1)) == 40 and fake.rejected_429 == 0


async def test_blocked_chat_is_forbidden(fake: FakeTelegram) -> None:
    async with bot_for(fake) as bot:
        sent = await bot.send_message(9, "hello")
        fake.block(9)
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(9, "still there?")
        with pytest.raises(Forbidden):
            await bot.edit_message_text("edited", chat_id=9, message_id=sent.message_id)
        await bot.send_message(10, "others are not blocked")
        fake.unblock(9)
        await bot.send_message(9, "welcome back")
    assert fake.texts(9) == ["hello", "welcome back"]


async def test_injected_failures_then_success(fake: FakeTelegram) -> None:
    fake.fail(500, method="sendMessage")
    fake.fail(502, method="sendmessage", chat_id=3)
    fake.fail(429, method="sendMessage", retry_after=7)
    async with bot_for(fake) as bot:  # getMe at initialize() is not affected
        with pytest.raises(NetworkError, match="Internal Server Error") as first:
            await bot.send_message(3, "1")
        with pytest.raises(NetworkError, match="Bad Gateway") as second:
            await bot.send_message(3, "2")
        with pytest.raises(RetryAfter) as third:
            await bot.send_message(3, "3")
        await bot.send_message(3, "4")
    assert type(first.value) is NetworkError and type(second.value) is NetworkError
    assert wait_of(third.value) == 7
    assert fake.rejected_429 == 0
    assert [call.status for call in fake.calls[1:]] == [500, 502, 429, 200]
    assert fake.texts(3) == ["4"]


async def test_slow_answer_times_out_but_is_delivered(fake: FakeTelegram) -> None:
    fake.slow(1.0, method="sendMessage")
    async with bot_for(fake, HTTPXRequest(read_timeout=0.2)) as bot:
        started = time.monotonic()
        with pytest.raises(TimedOut):
            await bot.send_message(4, "late")
        assert time.monotonic() - started < 0.8
        assert fake.texts(4) == ["late"]  # delivered: a retry would send it twice
        again = await bot.send_message(4, "on time")
    assert again.message_id == 2


async def test_held_requests_take_effect_and_wait_for_their_answer(fake: FakeTelegram) -> None:
    async with bot_for(fake) as bot:
        fake.hold()
        sending = asyncio.ensure_future(bot.send_message(4, "in doubt"))
        while not fake.held:
            await asyncio.sleep(0.01)
        assert fake.texts(4) == ["in doubt"] and not sending.done()
        fake.release()
        assert (await sending).message_id == 1
        assert fake.held == 0


async def test_set_webhook_records_it(fake: FakeTelegram) -> None:
    async with bot_for(fake) as bot:
        assert await bot.set_webhook("https://kolot.example/telegram", secret_token="s3cr3t-_",
                                     allowed_updates=["message", "callback_query"],
                                     max_connections=10, drop_pending_updates=True)
        info = await bot.get_webhook_info()
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates()
        with pytest.raises(BadRequest, match=r"(?i)an HTTPS URL must be provided"):
            await bot.set_webhook("http://kolot.example/telegram")
        assert fake.webhook == {
            "url": "https://kolot.example/telegram", "secret_token": "s3cr3t-_",
            "allowed_updates": ["message", "callback_query"], "max_connections": 10,
            "drop_pending_updates": True,
        }
        assert await bot.delete_webhook()
    assert (info.url, info.max_connections) == ("https://kolot.example/telegram", 10)
    assert info.allowed_updates == ("message", "callback_query")
    assert fake.webhook is None


def message_update(text: str) -> dict[str, object]:
    user = {"id": 42, "is_bot": False, "first_name": "Dana"}
    return {"message": {"message_id": 1, "date": 0, "chat": {"id": 42, "type": "private"},
                        "from": user, "text": text}}


async def test_get_updates_honours_offset_and_long_polls(fake: FakeTelegram) -> None:
    fake.push_update(message_update("one"))
    fake.push_update(message_update("two"))
    async with bot_for(fake) as bot:
        updates = await bot.get_updates()
        assert [(u.update_id, u.message and u.message.text) for u in updates] == [
            (1, "one"), (2, "two")]
        assert [u.update_id for u in await bot.get_updates(offset=2)] == [2]
        assert await bot.get_updates(offset=3) == ()
        assert await bot.get_updates() == ()  # offset 3 confirmed both: they are forgotten

        started = time.monotonic()
        poll = asyncio.create_task(bot.get_updates(offset=3, timeout=5))
        await asyncio.sleep(0.1)
        fake.push_update(message_update("three"))
        [update] = await poll
        assert update.update_id == 3 and time.monotonic() - started < 2

        started = time.monotonic()
        assert await bot.get_updates(offset=4, timeout=1) == ()
        assert 0.9 < time.monotonic() - started < 2


async def test_reset_forgets_calls_and_windows(fake: FakeTelegram) -> None:
    async with bot_for(fake) as bot:
        for n in range(3):
            await bot.send_message(5, f"{n}")
        fake.reset()
        for n in range(3):
            await bot.send_message(5, f"after {n}")
    assert fake.texts(5) == ["after 0", "after 1", "after 2"]
    assert fake.rejected_429 == 0 and fake.sent(5)[0].params["text"] == "after 0"


async def test_token_and_method_names(fake: FakeTelegram) -> None:
    with pytest.raises(InvalidToken, match="rejected"):
        async with Bot("999:wrong", base_url=fake.base_url):
            pass
    async with bot_for(fake) as bot:
        with pytest.raises(EndPointNotFound):
            await bot.do_api_request("sendMessages", api_kwargs={"chat_id": 1, "text": "x"})
        result = await bot.do_api_request("SENDMESSAGE", api_kwargs={"chat_id": 1, "text": "x"})
    assert result["text"] == "x"
    assert [(call.method, call.status) for call in fake.calls] == [
        ("getMe", 401), ("getMe", 200), ("sendMessages", 404), ("sendMessage", 200)]


class JSONRequest(BaseRequest):
    """Posts application/json bodies with native JSON values, as other Bot API clients do."""

    def __init__(self) -> None:
        self._client = httpx.AsyncClient()

    @property
    def read_timeout(self) -> float:
        return 5.0

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        await self._client.aclose()

    async def do_request(  # type: ignore[override]
        self, url: str, method: str, request_data: RequestData | None = None, **_: object
    ) -> tuple[int, bytes]:
        body = json.dumps(request_data.parameters if request_data else {})
        response = await self._client.post(
            url, content=body, headers={"Content-Type": "application/json"})
        return response.status_code, response.content


async def test_json_bodies_are_accepted(fake: FakeTelegram) -> None:
    async with bot_for(fake, JSONRequest()) as bot:
        message = await bot.send_message(42, "json", reply_markup=KEYBOARD)
    assert message.reply_markup == KEYBOARD
    call = fake.sent(42)[0]
    assert call.params["chat_id"] == 42
    assert call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "answer:yes"
