"""An admin on Telegram end to end: Update JSON posted to the real webhook app, replies
sent by the real sender through python-telegram-bot to the fake Bot API, on SQLite and
PostgreSQL. ``/pending`` shows an idea under two inline buttons; tapping Approve
publishes it and edits the message to say so."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import UTC, datetime
from itertools import count
from pathlib import Path
from typing import Any

import httpx
from admin_world import ADMIN, square_flow
from fakes.telegram_api import FakeTelegram
from sqlalchemy import func, select

from bot.outbox.pace import Caps
from bot.routes import TELEGRAM_WEBHOOK
from bot.server import Runtime
from bot.settings import TELEGRAM_CAPS, Settings, parse_admins
from bot.web import SECRET_HEADER, create_app
from storage import UnitOfWork
from storage.models import OutboxMessage

TOKEN = "123456:TEST-token"
SECRET = "admin-s3cret_for-tests"
IDEA = "A drinking fountain by the benches"
_updates = count(900_000_000, 3)
_messages = count(1)


def user(chat_id: int) -> dict[str, Any]:
    return {"id": chat_id, "is_bot": False, "first_name": "Noa", "language_code": "en"}


def text(chat_id: int, said: str) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": next(_messages), "from": user(chat_id), "date": 1_764_579_600,
        "chat": {"id": chat_id, "first_name": "Noa", "type": "private"}, "text": said}
    if said.startswith("/"):
        message["entities"] = [{"offset": 0, "length": len(said.split()[0]),
                                "type": "bot_command"}]
    return {"update_id": next(_updates), "message": message}


def tap(chat_id: int, bot_message: dict[str, Any], data: str) -> dict[str, Any]:
    return {"update_id": next(_updates), "callback_query": {
        "id": f"{chat_id}{next(_updates)}", "from": user(chat_id), "message": bot_message,
        "chat_instance": f"-{chat_id}77", "data": data}}


class Served:
    def __init__(self, runtime: Runtime, client: httpx.AsyncClient) -> None:
        self.runtime, self.client = runtime, client

    async def post(self, update: dict[str, Any]) -> None:
        response = await self.client.post(TELEGRAM_WEBHOOK, json=update,
                                          headers={SECRET_HEADER: SECRET})
        assert response.status_code == 200, response.text
        await self.settled()

    async def settled(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if await self.runtime.run_db(self._unsent) == 0:
                return
            await asyncio.sleep(0.02)
        raise AssertionError("the outbox did not drain in time")

    def _unsent(self) -> int:
        with self.runtime.session_factory() as session:
            return int(session.scalar(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.status.in_(("pending", "sending")))) or 0)


async def test_an_admins_pending_shows_two_inline_buttons_and_a_tap_approves(
    fresh_database: str, tmp_path: Path
) -> None:
    flow = tmp_path / "square.yaml"
    flow.write_text(square_flow(datetime.now(UTC)), encoding="utf-8")
    with FakeTelegram(TOKEN, chat_limit=(20, 2.0)) as fake:
        settings = replace(
            Settings(database_url=fresh_database), flows=(flow,), telegram_token=TOKEN,
            telegram_secret=SECRET, telegram_api_url=fake.url,
            telegram_caps=Caps(TELEGRAM_CAPS.overall, "20 per 2 seconds", TELEGRAM_CAPS.group),
            admins=parse_admins(f"telegram:{ADMIN}"), broadcasts=tmp_path)
        runtime = Runtime(settings, sender_idle=0.05)
        await runtime.start()
        try:
            transport = httpx.ASGITransport(app=create_app(runtime))
            async with httpx.AsyncClient(transport=transport, base_url="http://kolot") as client:
                served = Served(runtime, client)
                for said in ("/start", "yes", IDEA):  # a participant proposes an idea
                    await served.post(text(501, said))
                await served.post(text(int(ADMIN), "/pending"))

                [shown] = [c.result for c in fake.sent(ADMIN)]
                assert shown["text"].endswith(IDEA)
                buttons = [b for row in shown["reply_markup"]["inline_keyboard"] for b in row]
                assert [b["text"] for b in buttons] == ["Approve", "Reject"]

                await served.post(tap(int(ADMIN), shown, buttons[0]["callback_data"]))
            with UnitOfWork(runtime.session_factory) as uow:
                assert [i.status for i in uow.ideas.listed("square")] == ["approved"]
        finally:
            await runtime.stop()
        admin_calls = [c for c in fake.calls if c.chat_id == ADMIN or
                       c.method == "answerCallbackQuery"]
        assert [c.method for c in admin_calls] == ["sendMessage", "answerCallbackQuery",
                                                   "editMessageText"]
        edited = admin_calls[-1]
        assert edited.params["message_id"] == shown["message_id"]
        assert str(edited.params["text"]).startswith("✓ Approved, idea ")
        assert "reply_markup" not in edited.params  # the buttons are gone
        assert not [t for t in fake.texts(501) if t.startswith(("Idea ", "✓"))]  # none of it
