"""What the Telegram tests share: the token and secret, the example flows, fast retries, and
the handle on a running server (:class:`Served`). A module of its own, because test
modules can't import a ``conftest`` by name (several folders have one)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from fakes.telegram_api import FakeTelegram
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.server import Runtime
from bot.web import SECRET_HEADER, TELEGRAM_WEBHOOK
from storage.models import OutboxMessage

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "flows" / "examples"
TOKEN = "123456:TEST-token"
SECRET = "s3cret-token_for-tests"
FAST_RETRIES = (timedelta(milliseconds=50), timedelta(milliseconds=100),
                timedelta(milliseconds=200))



@dataclass
class Served:
    """The running server, as a test drives it."""

    runtime: Runtime
    url: str
    fake: FakeTelegram
    client: httpx.AsyncClient

    @property
    def session_factory(self) -> sessionmaker[Session]:
        return self.runtime.session_factory

    async def post(self, update: Any, *, secret: str | None = SECRET) -> httpx.Response:
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        return await self.client.post(TELEGRAM_WEBHOOK, json=update, headers=headers)

    async def settled(self, timeout: float = 15.0) -> None:
        """Wait until nothing due is left unsent in the outbox."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if await self.runtime.run_db(self._unsent) == 0:
                return
            await asyncio.sleep(0.02)
        raise AssertionError("the outbox did not drain in time")

    def _unsent(self) -> int:
        with self.session_factory() as session:
            return int(session.scalar(
                select(func.count()).select_from(OutboxMessage)
                .where(OutboxMessage.status.in_(("pending", "sending")))) or 0)

    def count(self, model: type) -> int:
        with self.session_factory() as session:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)


