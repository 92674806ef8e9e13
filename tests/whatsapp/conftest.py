"""A real ``kolot serve`` on a local port with the WhatsApp channel: the sender reaches the
fake Twilio API through the official ``twilio.rest.Client``; tests post forms signed as
Twilio signs them, on a fresh database of each kind."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fakes.twilio_api import FakeTwilio
from whatsapp_harness import FAST_RETRIES, SENDER, Chat

from bot.server import Runtime
from bot.settings import Settings
from bot.web import create_app


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


@pytest.fixture
async def whatsapp(fresh_database: str, twilio: FakeTwilio) -> AsyncIterator[Any]:
    """``await whatsapp(flow, **settings)`` starts a server; returns a :class:`Chat`
    factory bound to it."""
    started: list[tuple[uvicorn.Server, asyncio.Task[None], httpx.AsyncClient]] = []

    async def start(flow: Path, **overrides: Any) -> Chat:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        settings = replace(
            Settings(database_url=fresh_database),
            flows=(flow,),
            public_url=url,
            twilio_account_sid=twilio.account_sid,
            twilio_auth_token=twilio.auth_token,
            twilio_from=SENDER,
            twilio_api_url=twilio.url,
            **overrides,
        )
        runtime = Runtime(settings, retry_delays=FAST_RETRIES, sender_idle=0.05)
        server = uvicorn.Server(uvicorn.Config(create_app(runtime), log_level="warning",
                                               lifespan="on"))
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        client = httpx.AsyncClient(base_url=url, timeout=10)
        started.append((server, task, client))
        return Chat(runtime, url, twilio, client)

    yield start
    for server, task, client in started:
        await client.aclose()
        server.should_exit = True
        await asyncio.wait_for(task, timeout=15)
