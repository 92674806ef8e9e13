"""The sender against the fake Bot API at Telegram's limits: it stays under the caps,
recovers from 429 and 5xx without losing or repeating a message, and the caps hold across
two sender processes sharing one PostgreSQL and one Redis."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from databases import (
    create_schema,
    drop_schema,
    postgres_server_url,
    require_postgres,
    require_redis,
)
from fakes.telegram_api import Call, FakeTelegram
from sqlalchemy import select
from telegram_harness import EXAMPLES, FAST_RETRIES, TOKEN

from bot.channels.base import Outbound
from bot.server import Runtime
from bot.settings import Settings
from storage import UnitOfWork
from storage.database import make_engine, make_session_factory, upgrade
from storage.models import OutboxMessage

CSW = EXAMPLES / "civil-service-women.yaml"


def enqueue(factory: Any, people: int, each: int, first_chat: int = 10_000) -> dict[str, list[str]]:
    """``each`` messages for each of ``people`` new participants; returns the texts per chat."""
    expected: dict[str, list[str]] = {}
    now = datetime.now(UTC)  # the sender runs on the real clock
    with UnitOfWork(factory) as uow:
        for n in range(people):
            chat = str(first_chat + n)
            person = uow.participants.create("telegram", chat, now=now, pseudonym=f"p{chat}")
            expected[chat] = [f"message {k} for {chat}" for k in range(each)]
            for text in expected[chat]:
                uow.outbox.enqueue(person.id, "telegram", chat, Outbound(text).to_payload(),
                                   now=now)
        uow.commit()
    return expected


def delivered(fake: FakeTelegram) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for call in fake.sent():
        found.setdefault(str(call.chat_id), []).append(str(call.params["text"]))
    return found


COUNTED = {"sendMessage", "sendPhoto", "editMessageText", "editMessageReplyMarkup"}


def busiest_window(calls: list[Call], seconds: float = 0.95) -> int:
    """The most accepted messages the fake saw in any window of ``seconds``: recomputed
    from its log, by its rule (Telegram's second, less 50 ms for loopback jitter)."""
    times = sorted(c.at for c in calls if c.status == 200 and c.method in COUNTED)
    most, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= seconds:
            start += 1
        most = max(most, end - start + 1)
    return most


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    """The fake at Telegram's default limits: 30/s overall, 3 in 3 s per chat."""
    with FakeTelegram(TOKEN) as server:
        yield server


@pytest.fixture
async def sender(tmp_path: Path, telegram: FakeTelegram) -> AsyncIterator[Callable[..., Any]]:
    runtimes: list[Runtime] = []

    async def start(url: str | None = None, **overrides: Any) -> Runtime:
        settings = replace(
            Settings(database_url=url or f"sqlite:///{tmp_path / 'kolot.db'}"),
            flows=(CSW,), telegram_token=TOKEN, telegram_api_url=telegram.url, **overrides)
        runtime = Runtime(settings, role="sender", retry_delays=FAST_RETRIES, sender_idle=0.05)
        await runtime.start()
        runtimes.append(runtime)
        return runtime

    yield start
    for runtime in runtimes:
        await runtime.stop()


async def drained(runtime: Runtime, timeout: float) -> None:
    def unsent() -> int:
        with runtime.session_factory() as session:
            return len(session.scalars(select(OutboxMessage.id).where(
                OutboxMessage.status.in_(("pending", "sending")))).all())

    deadline = time.monotonic() + timeout
    while await runtime.run_db(unsent):
        assert time.monotonic() < deadline, "the outbox did not drain in time"
        await asyncio.sleep(0.1)


async def test_a_burst_of_2000_messages_at_the_default_caps_draws_no_429(
    sender: Callable[..., Any], telegram: FakeTelegram
) -> None:
    runtime = await sender()
    expected = await runtime.run_db(lambda: enqueue(runtime.session_factory, 400, 5))
    runtime.sender.wake()  # type: ignore[union-attr]
    await drained(runtime, timeout=2000 / 30 * 2)
    assert telegram.rejected_429 == 0
    assert delivered(telegram) == expected  # each once, in order within each chat
    assert busiest_window(telegram.calls) <= 30


async def test_injected_429_and_5xx_are_waited_out_and_retried_without_loss(
    sender: Callable[..., Any], telegram: FakeTelegram
) -> None:
    telegram.fail(429, times=2, retry_after=1, method="sendMessage")
    telegram.fail(500, times=4, method="sendMessage")
    telegram.fail(502, times=2, method="sendMessage")
    runtime = await sender()
    expected = await runtime.run_db(lambda: enqueue(runtime.session_factory, 30, 4))
    runtime.sender.wake()  # type: ignore[union-attr]
    await drained(runtime, timeout=60)
    assert delivered(telegram) == expected
    refused = [c for c in telegram.calls if c.status == 429]
    assert len(refused) == 2 and telegram.rejected_429 == 0  # only the injected ones
    # Telegram expects the whole bot to wait: nothing went out during the pause.
    first = refused[0].at
    assert not [c for c in telegram.calls if c.status == 200 and first < c.at < first + 0.95]
    with runtime.session_factory() as session:
        rows = session.scalars(select(OutboxMessage)).all()
    assert {r.status for r in rows} == {"sent"}
    assert all(r.platform_message_id for r in rows)


async def test_a_timeout_is_retried_and_the_row_ends_sent(
    sender: Callable[..., Any], telegram: FakeTelegram
) -> None:
    telegram.slow(1.0, times=1, method="sendMessage")
    runtime = await sender(telegram_timeout=0.3)
    expected = await runtime.run_db(lambda: enqueue(runtime.session_factory, 1, 2))
    runtime.sender.wake()  # type: ignore[union-attr]
    await drained(runtime, timeout=20)
    got = delivered(telegram)["10000"]
    # The slow answer came too late, so the first message may arrive twice; never lost,
    # never out of order.
    assert got[-2:] == expected["10000"] and set(got) == set(expected["10000"])
    with runtime.session_factory() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [(r.status, r.attempts) for r in rows] == [("sent", 2), ("sent", 1)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _senders(url: str, telegram: FakeTelegram, rate_url: str, logs: Path) -> list[Any]:
    """Two ``kolot serve --role sender`` processes, started and answering ``/healthz``."""
    env = {**os.environ, "KOLOT_DATABASE_URL": url, "KOLOT_TELEGRAM_TOKEN": TOKEN,
           "KOLOT_TELEGRAM_API_URL": telegram.url, "KOLOT_FLOWS": str(CSW),
           "KOLOT_RATE_LIMIT_URL": rate_url}
    started = []
    for n in range(2):
        port = _free_port()
        log = logs / f"sender-{n}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "bot", "serve", "--role", "sender", "--port", str(port)],
                env=env, stdout=out, stderr=subprocess.STDOUT)
        started.append((process, port, log))
    for process, port, log in started:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "a sender did not start"
            time.sleep(0.1)
    return [process for process, _, _ in started]


@pytest.fixture
def postgres_url() -> Iterator[str]:
    server = postgres_server_url()
    require_postgres(server)
    schema, url = create_schema(server, prefix="kolot_senders")
    upgrade(url)
    try:
        yield url
    finally:
        drop_schema(server, schema)


def test_two_sender_processes_share_the_caps_through_redis(
    postgres_url: str, telegram: FakeTelegram, tmp_path: Path
) -> None:
    """Against one PostgreSQL, two senders with the caps in Redis stay under Telegram's
    30/s together; the same two with per-process caps (memory) go over and draw 429s."""
    rate_url = "redis://127.0.0.1:6379/7"
    require_redis(rate_url)
    engine = make_engine(postgres_url)
    factory = make_session_factory(engine)
    try:
        for shared, first_chat in ((True, 20_000), (False, 30_000)):
            redis.Redis.from_url(rate_url).flushdb()
            telegram.reset()
            expected = enqueue(factory, 100, 2, first_chat)
            store = "async+" + rate_url if shared else "async+memory://"
            processes = _senders(postgres_url, telegram, store, tmp_path)
            try:
                deadline = time.monotonic() + 60
                while sum(map(len, delivered(telegram).values())) < 200:
                    assert time.monotonic() < deadline, "the senders did not deliver in time"
                    time.sleep(0.2)
            finally:
                for process in processes:
                    process.terminate()
                    process.wait(timeout=20)
            got = delivered(telegram)
            assert got == expected
            if shared:
                assert telegram.rejected_429 == 0
                assert busiest_window(telegram.calls) <= 30
            else:
                assert telegram.rejected_429 > 0  # the control: caps per process overshoot
            with factory() as session:
                left = session.scalars(select(OutboxMessage.status).where(
                    OutboxMessage.status != "sent")).all()
            assert left == []
    finally:
        engine.dispose()


def test_settings_name_the_variable_that_is_wrong() -> None:
    from bot.settings import SettingsError

    with pytest.raises(SettingsError, match="KOLOT_TELEGRAM_RATE"):
        Settings.from_env({"KOLOT_TELEGRAM_RATE": "fast"})
    paid = Settings.from_env({"KOLOT_TELEGRAM_PAID_BROADCAST": "1"})
    assert paid.telegram_caps.overall == "1000/second"
    assert Settings.from_env({}).telegram_caps.chat == "3 per 3 seconds"
