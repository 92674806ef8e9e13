"""A real ``kolot serve`` process in the test: the Starlette app under uvicorn on a local
port, its sender talking to the fake Bot API through python-telegram-bot's ``Bot``, on a
fresh database of each kind (the server commits for real, from its own thread)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from databases import create_schema, drop_schema, postgres_server_url, require_postgres
from fakes.telegram_api import FakeTelegram
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.outbox.pace import Caps
from bot.server import Runtime
from bot.settings import TELEGRAM_CAPS, Settings
from bot.web import SECRET_HEADER, TELEGRAM_WEBHOOK, create_app
from storage.models import OutboxMessage

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "flows" / "examples"
TOKEN = "123456:TEST-token"
SECRET = "s3cret-token_for-tests"
FAST_RETRIES = (timedelta(milliseconds=50), timedelta(milliseconds=100),
                timedelta(milliseconds=200))


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind for one test (the server migrates it)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'kolot.db'}"
        return
    server = postgres_server_url()
    require_postgres(server)
    schema, url = create_schema(server, prefix="kolot_web")
    try:
        yield url
    finally:
        drop_schema(server, schema)


CHAT_CAP = "20 per 2 seconds"
"""Scripts tap faster than people: conversation tests lift the per-chat cap (1/s with
bursts of 3 by default) on both sides; the sender tests keep Telegram's defaults."""


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram(TOKEN, chat_limit=(20, 2.0)) as server:
        yield server


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


ServeFactory = Callable[..., Any]


@pytest.fixture
async def serve(
    fresh_database: str, fake: FakeTelegram
) -> AsyncIterator[Callable[..., Any]]:
    """``await serve(flow_file, **settings)`` starts a server; it stops after the test."""
    started: list[tuple[uvicorn.Server, asyncio.Task[None], httpx.AsyncClient]] = []

    async def start(*flows: Path, role: str = "all", **overrides: Any) -> Served:
        settings = replace(
            Settings(database_url=fresh_database),
            flows=flows or (EXAMPLES / "neighbourhood-park.yaml",),
            telegram_token=TOKEN,
            telegram_secret=SECRET,
            telegram_api_url=fake.url,
            telegram_caps=Caps(TELEGRAM_CAPS.overall, CHAT_CAP, TELEGRAM_CAPS.group),
            **overrides,
        )
        runtime = Runtime(settings, role=role, retry_delays=FAST_RETRIES,  # type: ignore[arg-type]
                          sender_idle=0.05)
        # IPPROTO_TCP: asyncio turns Nagle off only on sockets that say they are TCP; without
        # it every answer waits ~40 ms for a delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(create_app(runtime), log_level="warning", lifespan="on")
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        url = f"http://127.0.0.1:{port}"
        client = httpx.AsyncClient(base_url=url, timeout=10)
        started.append((server, task, client))
        return Served(runtime, url, fake, client)

    yield start
    for server, task, client in started:
        await client.aclose()
        server.should_exit = True
        await asyncio.wait_for(task, timeout=15)
