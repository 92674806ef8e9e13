"""One participant's messages leave in the order they were written, even when another
participant's rows were written between theirs and all are claimed together."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import Outbound
from bot.outbox import drain
from bot.outbox.outcomes import Outcome, Sent
from bot.outbox.sender import Sender
from storage import UnitOfWork
from storage.repositories.outbox import Claimed


@pytest.fixture
def now() -> datetime:
    return datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def interleaved(factory: sessionmaker[Session], now: datetime) -> None:
    with UnitOfWork(factory) as uow:
        a = uow.participants.create("telegram", "1", now=now, pseudonym="order-a")
        b = uow.participants.create("telegram", "2", now=now, pseudonym="order-b")
        for who, text in [(a, "A1"), (b, "B1"), (a, "A2"), (b, "B2"), (a, "A3")]:
            uow.outbox.enqueue(who.id, "telegram", who.address, Outbound(text).to_payload(),
                               now=now)
        uow.commit()


class SlowFirst:
    """A channel on which the first message of a chat is slow to go out."""

    name = "telegram"

    def __init__(self) -> None:
        self.inflight: dict[int, int] = {}
        self.most = 0
        self.arrived: list[str] = []

    async def deliver(self, row: Claimed, message: Outbound) -> Outcome:
        self.inflight[row.participant_id] = self.inflight.get(row.participant_id, 0) + 1
        self.most = max(self.most, self.inflight[row.participant_id])
        await asyncio.sleep(0.05 if message.text.endswith("1") else 0.001)
        self.arrived.append(message.text)
        self.inflight[row.participant_id] -= 1
        return Sent("9")


async def test_the_sender_sends_one_participant_at_a_time_in_order(
    session_factory: sessionmaker[Session], now: datetime
) -> None:
    interleaved(session_factory, now)
    channel = SlowFirst()

    async def run_db(work: Callable[[], Any]) -> Any:
        return work()

    sender = Sender(session_factory, channel, run_db, clock=lambda: now)
    assert await sender.drain_once() == 5
    assert channel.most == 1  # never two of one chat in flight
    assert [t for t in channel.arrived if t[0] == "A"] == ["A1", "A2", "A3"]
    assert [t for t in channel.arrived if t[0] == "B"] == ["B1", "B2"]


def test_drain_sends_one_participant_in_order(
    session_factory: sessionmaker[Session], now: datetime
) -> None:
    interleaved(session_factory, now)
    got: list[tuple[str, str]] = []
    assert drain(session_factory, "telegram", lambda a, m: got.append((a, m.text)),
                 clock=lambda: now) == 5
    assert [t for a, t in got if a == "1"] == ["A1", "A2", "A3"]
