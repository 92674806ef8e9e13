"""Fixtures for storage tests: a fixed clock, a unit of work, and row makers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from itertools import count

import pytest
from sqlalchemy.orm import Session, sessionmaker

from storage import UnitOfWork
from storage.models import Participant, Run

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def uow(session_factory: sessionmaker[Session]) -> Iterator[UnitOfWork]:
    with UnitOfWork(session_factory) as unit:
        yield unit


MakeParticipant = Callable[..., Participant]
MakeRun = Callable[..., Run]


@pytest.fixture
def make_participant(uow: UnitOfWork, now: datetime) -> MakeParticipant:
    """Participants with distinct addresses and pseudonyms, in the test's unit of work."""
    ids = count()

    def make(address: str | None = None, channel: str = "console") -> Participant:
        n = next(ids)
        return uow.participants.create(
            channel, address or f"person-{n}", now=now, pseudonym=f"pseudo-{n}"
        )

    return make


@pytest.fixture
def make_run(uow: UnitOfWork, now: datetime) -> MakeRun:
    """An active run of ``participant`` in ``flow_id`` on a stored definition."""

    def make(participant: Participant, flow_id: str = "survey") -> Run:
        definition = uow.definitions.ensure(
            flow_id, 1, f"{flow_id:0<64}"[:64], f"id: {flow_id}\n", now=now
        )
        return uow.runs.create(
            participant.id, flow_id, definition.id, {"step": "q1"}, "active", now=now
        )

    return make
