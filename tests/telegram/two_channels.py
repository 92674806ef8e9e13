"""One real server with both channels, for tests of a whole process: the app kolot serve
runs, Telegram and WhatsApp webhooks, the real senders to the fake platforms, and the
scheduler moved by an injected clock. A module of its own, because test modules can't
import each other or a ``conftest`` by name."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fakes.telegram_api import FakeTelegram
from fakes.twilio_api import FakeTwilio, inbound
from sqlalchemy import func, select
from telegram_harness import FAST_RETRIES, SECRET, TOKEN
from telegram_updates import Person

from bot.outbox.pace import Caps
from bot.server import Runtime
from bot.settings import TELEGRAM_CAPS, Settings
from bot.web import SECRET_HEADER, TELEGRAM_WEBHOOK, WHATSAPP_WEBHOOK, create_app
from storage.models import OutboxMessage

__all__ = ["LIBRARY_LOGGERS", "SENDER", "Clock", "Process", "at", "serve_both"]

SENDER = "whatsapp:+14155238886"
LIBRARY_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = at("2026-03-02 08:00")

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Process:
    runtime: Runtime
    url: str
    telegram: FakeTelegram
    twilio: FakeTwilio
    client: httpx.AsyncClient
    clock: Clock
    advance_clock: bool = False
    """While waiting for the outbox to drain, move the clock on a second a turn, so that
    retries fall due."""

    async def telegram_says(self, person: Person, text: str) -> None:
        response = await self.client.post(TELEGRAM_WEBHOOK, json=person.text(text),
                                          headers={SECRET_HEADER: SECRET})
        assert response.status_code == 200, response.text

    async def whatsapp_says(self, phone: str, text: str) -> None:
        params = inbound(self.twilio, frm=f"whatsapp:{phone}", to=SENDER, body=text)
        signature = self.twilio.sign(self.url + WHATSAPP_WEBHOOK, params)
        response = await self.client.post(WHATSAPP_WEBHOOK, data=params,
                                          headers={"X-Twilio-Signature": signature})
        assert response.status_code == 200, response.text

    async def tick(self, when: str) -> Any:
        self.clock.now = at(when)
        report = await self.runtime.run_db(lambda: self.runtime.ticker.tick(self.clock.now))
        await self.settled()
        return report

    async def settled(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while await self.runtime.run_db(self._unsent):
            assert time.monotonic() < deadline, "the outbox did not drain in time"
            if self.advance_clock:
                self.clock.now += timedelta(seconds=1)
            await asyncio.sleep(0.05)
        await asyncio.to_thread(self.twilio.settle)

    def _unsent(self) -> int:
        with self.runtime.session_factory() as session:
            return int(session.scalar(
                select(func.count()).select_from(OutboxMessage)
                .where(OutboxMessage.status.in_(("pending", "sending")))) or 0)


@asynccontextmanager
async def serve_both(database: str, fake: FakeTelegram, tmp_path: Path, flow_text: str, *,
                     log_everything: bool = False) -> AsyncIterator[Process]:
    """The server for the flow ``flow_text``. ``log_everything``: uvicorn at DEBUG with its
    access log, every record reaching the root logger (stricter than production), and the
    clock moved on while waiting, for the retries of injected errors."""
    flow = tmp_path / "flow.yaml"
    flow.write_text(flow_text, encoding="utf-8")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    clock = Clock()
    with FakeTwilio() as twilio:
        settings = replace(
            Settings(database_url=database), flows=(flow,), public_url=url,
            media=tmp_path / "media",
            telegram_token=TOKEN, telegram_secret=SECRET, telegram_api_url=fake.url,
            telegram_caps=Caps(TELEGRAM_CAPS.overall, "100/second", TELEGRAM_CAPS.group),
            twilio_account_sid=twilio.account_sid, twilio_auth_token=twilio.auth_token,
            twilio_from=SENDER, twilio_api_url=twilio.url, tick_seconds=3600)
        runtime = Runtime(settings, clock=clock, retry_delays=FAST_RETRIES, sender_idle=0.05)
        if log_everything:
            config = uvicorn.Config(create_app(runtime), log_config=None, log_level="debug",
                                    access_log=True, lifespan="on")
            for name in LIBRARY_LOGGERS:
                logging.getLogger(name).propagate = True
        else:
            config = uvicorn.Config(create_app(runtime), log_level="warning", lifespan="on")
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            yield Process(runtime, url, fake, twilio, client, clock,
                          advance_clock=log_everything)
        server.should_exit = True
        await asyncio.wait_for(task, timeout=15)
