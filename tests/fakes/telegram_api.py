"""A fake Telegram Bot API server: the real wire format on a local port, for tests.

The project replaces platform APIs only at the network edge, so the code under test runs its
real client (``telegram.Bot(token, base_url=fake.base_url)``) against this server.

What it promises:

* Requests as python-telegram-bot 22 sends them (form-encoded, nested values as JSON strings;
  multipart/form-data for uploads), JSON bodies and query strings, at ``/bot<token>/<method>``
  with method names case-insensitive; answers in Telegram's envelope ``{"ok": true, "result":
  ...}`` or ``{"ok": false, "error_code", "description", "parameters"}`` with the same HTTP
  status, descriptions worded as Telegram words them. Wrong token: 401; unknown method: 404.
* getMe, sendMessage, sendPhoto, editMessageText, editMessageReplyMarkup, answerCallbackQuery,
  setWebhook, deleteWebhook, getWebhookInfo, getUpdates (long polling), with Telegram's
  validation for the limits bots hit in practice (text and caption length, callback_data of
  1-64 UTF-8 bytes, "message is not modified", answering a callback query twice).
* Telegram's documented rate limits as sliding-window logs (overall, per private chat, per
  group); a request over a limit is not delivered and gets 429 with ``retry_after``.
* Failure injection: blocked chats, injected error statuses, slow answers.

Where it differs from Telegram: ``parse_mode`` is accepted but not parsed (text is echoed
as sent, without entities); text length counts code points; every numeric chat exists
(positive ids are private chats, ids at or below -10**12 supergroups, other negative ids
groups) and ``@username`` chat ids are "chat not found"; a photo gets one PhotoSize; uploaded
files cannot be downloaded; a webhook is recorded but never called; inline messages and all
other methods are not implemented (404). Telegram's real limits are undocumented beyond the
rules of thumb modelled here.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import re
import socket
import struct
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Self

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .telegram_wire import (
    INTEGER,
    ApiError,
    answer,
    bad_request,
    read_params,
    too_many_requests,
    wait_needed,
)

Params = dict[str, Any]
Limit = tuple[int, float]

SENDS = frozenset({"sendMessage", "sendPhoto"})
COUNTED = SENDS | {"editMessageText", "editMessageReplyMarkup"}
_BUTTON_ACTIONS = frozenset(
    {"url", "callback_data", "web_app", "login_url", "switch_inline_query",
     "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
     "callback_game", "pay"}
)
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
_NOT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_PHRASES = {500: "Internal Server Error", 502: "Bad Gateway"}
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF8", b"RIFF")
_PATH = re.compile(r"/bot([^/]+)/([^/]+)/?")


@dataclass(frozen=True)
class Call:
    """One request as the fake received it; ``params`` typed as Telegram reads them."""

    method: str
    params: Params
    chat_id: str | None
    at: float
    status: int


@dataclass
class _Rule:
    """An injected failure or delay, for the next ``times`` requests that match it."""

    times: int
    method: str | None
    chat_id: str | None = None
    status: int = 0
    retry_after: int | None = None
    seconds: float = 0.0

    def matches(self, method: str, chat_id: str | None) -> bool:
        return (self.method is None or self.method == method.lower()) and (
            self.chat_id is None or self.chat_id == chat_id
        )


@dataclass(frozen=True)
class _Poll:
    """getUpdates passed validation; its result is computed after long polling."""

    limit: int
    timeout: float


def _key(chat_id: int | str) -> str:
    """Chat ids compare as the decimal string Telegram would see: 42, "42" are one chat."""
    text = str(chat_id).strip()
    return str(int(text)) if INTEGER.fullmatch(text) else text


def _take(rules: list[_Rule], method: str, chat_id: str | None) -> _Rule | None:
    """The first rule matching this request, used up by one; exhausted rules are dropped."""
    for rule in rules:
        if rule.matches(method, chat_id):
            rule.times -= 1
            if rule.times <= 0:
                rules.remove(rule)
            return rule
    return None


def _chat(chat_id: int) -> Params:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "Test"}
    kind = "supergroup" if chat_id <= -(10**12) else "group"
    return {"id": chat_id, "type": kind, "title": f"Test {kind}"}


def _image_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG (read from its header); other images are reported 320x320."""
    if data.startswith(_IMAGE_MAGIC[0]) and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    return 320, 320


class FakeTelegram:
    """A Telegram Bot API server on 127.0.0.1 for one bot token, run in a background thread.

    The thread has its own event loop, so sync tests, async tests (whatever their loop) and
    subprocesses all reach it the same way, over HTTP. State is guarded by one lock; every
    public method is safe to call from any thread while the server runs.

    Rate limits are ``(count, seconds)``: at most ``count`` counted requests (sends and edits)
    in any window of ``seconds``. ``tolerance`` shortens every window the fake checks by that
    many seconds: a client pacing itself exactly by its own clock sees its requests arrive
    here with loopback jitter (one delayed a few ms, the next not), and must not be punished
    for that. Set ``limits_enabled`` false to measure throughput.
    """

    def __init__(
        self,
        token: str = "123456:TEST-token",
        *,
        global_limit: Limit = (30, 1.0),
        chat_limit: Limit = (3, 3.0),
        group_limit: Limit = (20, 60.0),
        tolerance: float = 0.05,
        limits_enabled: bool = True,
    ) -> None:
        if not re.fullmatch(r"\d+:[\w-]+", token):
            raise ValueError(f"not a bot token: {token!r}")
        if min(global_limit[0], chat_limit[0], group_limit[0]) < 1:
            raise ValueError("a limit must allow at least one request")
        self.token = token
        self.bot_id = int(token.partition(":")[0])
        self.global_limit, self.chat_limit, self.group_limit = global_limit, chat_limit, group_limit
        self.tolerance = tolerance
        self.limits_enabled = limits_enabled
        self._lock = threading.Lock()
        self._port = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._failure: BaseException | None = None
        self._stopping = False
        self._wakeup = asyncio.Event()
        self._handlers: dict[str, tuple[str, Callable[[Params], Any]]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me, "sendMessage": self._send_message,
                "sendPhoto": self._send_photo, "editMessageText": self._edit_message_text,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "answerCallbackQuery": self._answer_callback_query,
                "setWebhook": self._set_webhook, "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info, "getUpdates": self._get_updates,
            }.items()
        }
        self._clear()

    def _clear(self) -> None:
        self._calls: list[Call] = []
        self._rejected_429 = 0
        self._global_log: deque[float] = deque()
        self._chat_logs: defaultdict[int, deque[float]] = defaultdict(deque)
        self._messages: dict[tuple[int, int], Params] = {}
        self._last_message_id: defaultdict[int, int] = defaultdict(int)
        self._files: dict[str, Params] = {}
        self._blocked: set[str] = set()
        self._failures: list[_Rule] = []
        self._delays: list[_Rule] = []
        self._updates: list[Params] = []
        self._last_update_id = 0
        self._allowed_updates: list[str] = []
        self._answered: set[str] = set()
        self._webhook: Params | None = None

    # -- running -----------------------------------------------------------------------------

    def start(self) -> Self:
        """Serve on a free port; returns once the port accepts connections."""
        if self._thread is not None:
            raise RuntimeError("already running")
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        app = Starlette(routes=[Route("/{path:path}", self._endpoint, methods=["GET", "POST"])])
        config = uvicorn.Config(
            app, log_config=None, log_level="warning", access_log=False, lifespan="off",
            ws="none", timeout_graceful_shutdown=2,
        )
        self._server = server = uvicorn.Server(config)
        self._loop, self._stopping, self._failure = asyncio.new_event_loop(), False, None
        self._thread = threading.Thread(
            target=self._serve, args=(sock,), name=f"fake-telegram:{self._port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("fake Telegram server did not start") from self._failure
            time.sleep(0.005)
        socket.create_connection(("127.0.0.1", self._port), timeout=5).close()
        return self

    def _serve(self, sock: socket.socket) -> None:
        assert self._loop is not None and self._server is not None
        try:
            self._loop.run_until_complete(self._server.serve(sockets=[sock]))
        except BaseException as exc:  # reported by start(); a thread has nowhere to raise
            self._failure = exc
        finally:
            sock.close()
            self._loop.close()

    def stop(self) -> None:
        """Answer waiting long polls and delayed requests now, then shut the server down."""
        if self._thread is None or self._server is None or self._loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop already ended
            self._loop.call_soon_threadsafe(self._begin_stop)
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._thread = self._server = None

    def _begin_stop(self) -> None:
        self._stopping = True
        self._notify()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if not self._port:
            raise RuntimeError("the fake Telegram server was never started")
        return f"http://127.0.0.1:{self._port}"

    @property
    def base_url(self) -> str:
        """For ``telegram.Bot(base_url=...)``, which appends the token."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    # -- observing ---------------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        """Every request so far, in arrival order (a copy, so safe to read from any thread)."""
        with self._lock:
            return list(self._calls)

    def sent(self, chat_id: int | str | None = None) -> list[Call]:
        """Accepted sendMessage/sendPhoto calls, to one chat or to all."""
        key = None if chat_id is None else _key(chat_id)
        return [
            call for call in self.calls
            if call.method in SENDS and call.status == 200 and key in (None, call.chat_id)
        ]

    def texts(self, chat_id: int | str) -> list[str]:
        """Texts and photo captions delivered to a chat, in order (photos without a caption
        deliver no text and are left out)."""
        found = (call.params.get("text", call.params.get("caption")) for call in self.sent(chat_id))
        return [text for text in found if isinstance(text, str)]

    @property
    def rejected_429(self) -> int:
        """429 answers given because a rate limit was exceeded (not injected ones)."""
        with self._lock:
            return self._rejected_429

    @property
    def webhook(self) -> Params | None:
        """The parameters of the last setWebhook; None when no webhook is set."""
        with self._lock:
            return None if self._webhook is None else dict(self._webhook)

    # -- steering ----------------------------------------------------------------------------

    def block(self, chat_id: int | str) -> None:
        """Sends and edits to this chat answer 403, as after the user blocked the bot."""
        with self._lock:
            self._blocked.add(_key(chat_id))

    def unblock(self, chat_id: int | str) -> None:
        with self._lock:
            self._blocked.discard(_key(chat_id))

    def fail(
        self,
        status: int = 500,
        times: int = 1,
        *,
        method: str | None = None,
        chat_id: int | str | None = None,
        retry_after: int | None = None,
    ) -> None:
        """The next ``times`` matching requests answer ``status`` and take no effect.

        A 429 carries ``parameters.retry_after`` (``retry_after``, or 1 when not given: Telegram
        always sends it); it does not count in ``rejected_429``.
        """
        if status < 400 or times < 1:
            raise ValueError("fail() needs an error status and times >= 1")
        rule = _Rule(times, method and method.lower(), None if chat_id is None else _key(chat_id),
                     status=status, retry_after=retry_after)
        with self._lock:
            self._failures.append(rule)

    def slow(self, seconds: float, times: int = 1, *, method: str | None = None) -> None:
        """Answer the next ``times`` matching requests ``seconds`` late, to make clients time
        out. The request takes effect on arrival, as a real one that timed out on the client
        may well have: a delayed send is recorded as delivered whether or not the client
        waits for the answer."""
        with self._lock:
            self._delays.append(_Rule(times, method and method.lower(), seconds=seconds))

    def push_update(self, update: Params) -> None:
        """Queue an update for getUpdates; ``update_id`` is assigned when missing."""
        with self._lock:
            update = dict(update)
            update.setdefault("update_id", self._last_update_id + 1)
            self._last_update_id = max(self._last_update_id, update["update_id"])
            self._updates.append(update)
        loop = self._loop
        if loop is not None and loop.is_running():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._notify)

    def reset(self) -> None:
        """Forget everything (calls, rate windows, messages, blocks, injected failures, queued
        updates, the webhook) and keep serving: one server can serve many tests."""
        with self._lock:
            self._clear()

    # -- serving -----------------------------------------------------------------------------

    async def _endpoint(self, request: Request) -> Response:
        arrived = time.monotonic()
        found = _PATH.fullmatch(request.url.path)
        name = found.group(2) if found else request.url.path
        entry = self._handlers.get(name.lower())
        params: Params = {}
        outcome: Any
        if found is None or (found.group(1) == self.token and entry is None):
            outcome = ApiError(404, "Not Found")
        elif found.group(1) != self.token:
            outcome = ApiError(401, "Unauthorized")
        else:
            assert entry is not None
            name = entry[0]
            try:
                params = await read_params(request)
            except ApiError as exc:
                outcome = exc
        chat_id = None if params.get("chat_id") is None else _key(params["chat_id"])
        with self._lock:
            if not params and found is not None and entry is not None and name == entry[0]:
                outcome = self._dispatch(name, entry[1], params, chat_id)
            elif params:
                outcome = self._dispatch(name, entry[1], params, chat_id)  # type: ignore[index]
            status = outcome.status if isinstance(outcome, ApiError) else 200
            self._calls.append(Call(name, params, chat_id, arrived, status))
            delay = _take(self._delays, name, chat_id)
        if isinstance(outcome, _Poll):
            outcome = await self._poll(outcome)
        if delay is not None:
            await self._wait(arrived + delay.seconds, lambda: False)
        return answer(outcome)

    def _dispatch(self, name: str, handler: Callable[[Params], Any], params: Params,
                  chat_id: str | None) -> Any:
        """Injected failures first, then the method itself; called with the lock held."""
        rule = _take(self._failures, name, chat_id)
        if rule is not None and rule.status == 429:
            return too_many_requests(rule.retry_after or 1)
        if rule is not None:
            phrase = _PHRASES.get(rule.status) or HTTPStatus(rule.status).phrase
            return ApiError(rule.status, phrase)
        try:
            return handler(params)
        except ApiError as exc:
            return exc

    async def _wait(self, deadline: float, ready: Callable[[], bool]) -> None:
        """Sleep until ``ready()``, the deadline, or the server stopping; ``_notify`` wakes it."""
        while not self._stopping and not ready():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), remaining)

    def _notify(self) -> None:
        """Wake every waiter (runs on the server loop); each re-checks what it waits for."""
        woken, self._wakeup = self._wakeup, asyncio.Event()
        woken.set()

    async def _poll(self, poll: _Poll) -> list[Params]:
        await self._wait(time.monotonic() + poll.timeout, lambda: bool(self._pending(poll.limit)))
        return self._pending(poll.limit)

    def _pending(self, limit: int) -> list[Params]:
        with self._lock:
            allowed = self._allowed_updates
            wanted = [
                update for update in self._updates
                if (kind := next((key for key in update if key != "update_id"), ""))
                and (kind in allowed if allowed else kind not in _NOT_BY_DEFAULT)
            ]
            return wanted[:limit]
