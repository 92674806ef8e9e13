"""A real ``kolot serve`` process in the test: the Starlette app under uvicorn on a local
port, its sender talking to the fake Bot API through python-telegram-bot's ``Bot``, on a
fresh database of each kind (the server commits for real, from its own thread)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fakes.telegram_api import FakeTelegram
from telegram_harness import EXAMPLES, FAST_RETRIES, SECRET, TOKEN, Served

from bot.outbox.pace import Caps
from bot.server import Runtime
from bot.settings import TELEGRAM_CAPS, Settings
from bot.web import create_app

CHAT_CAP = "20 per 2 seconds"
"""Scripts tap faster than people: conversation tests lift the per-chat cap (1/s with
bursts of 3 by default) on both sides; the sender tests keep Telegram's defaults."""
FLOOD_RATE = "200 per 10 seconds"
"""And past the flood limit (20 inputs in 10 seconds: ``bot.abuse``), which tests/abuse
keeps."""


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram(TOKEN, chat_limit=(20, 2.0)) as server:
        yield server


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
            **{"flood_rate": FLOOD_RATE, **overrides},
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
