"""A platform message is applied once: the duplicate is refused without breaking the
transaction it happens in."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

import pytest
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from storage import UnitOfWork
from storage.database import make_session_factory
from storage.models import Participant, ProcessedInput


def test_record_refuses_a_duplicate_and_the_transaction_stays_usable(
    session_factory: sessionmaker[Session], now: datetime
) -> None:
    with UnitOfWork(session_factory) as uow:
        ana = uow.participants.create("telegram", "42", now=now, pseudonym="p-42")
        assert not uow.inputs.seen("telegram", "m-1")
        assert uow.inputs.record("telegram", "m-1", ana.id, now=now)
        assert uow.inputs.seen("telegram", "m-1")
        assert not uow.inputs.record("telegram", "m-1", ana.id, now=now)
        # Still usable after the refused insert: more work, then a commit.
        assert uow.inputs.record("telegram", "m-2", ana.id, now=now)
        uow.outbox.enqueue(ana.id, "telegram", "42", {"text": "hi"}, now=now)
        uow.commit()

    with UnitOfWork(session_factory) as uow:
        assert uow.inputs.seen("telegram", "m-1") and uow.inputs.seen("telegram", "m-2")
        assert uow.outbox.pending_count("telegram") == 1
        assert not uow.inputs.record("telegram", "m-2", None, now=now)
        assert uow.session.scalar(select(func.count()).select_from(ProcessedInput)) == 2


def test_the_same_id_on_another_channel_is_another_input(uow: UnitOfWork, now: datetime) -> None:
    assert uow.inputs.record("telegram", "7", None, now=now)
    assert uow.inputs.record("whatsapp", "7", None, now=now)
    assert not uow.inputs.seen("console", "7")


def test_deleting_the_participant_keeps_the_key(
    uow: UnitOfWork, make_participant: Callable[..., Participant], now: datetime
) -> None:
    ana = make_participant()
    uow.inputs.record("console", "m-1", ana.id, now=now)
    uow.session.delete(ana)
    uow.session.flush()
    uow.session.expire_all()
    kept = uow.session.scalars(select(ProcessedInput)).one()
    assert kept.participant_id is None
    assert not uow.inputs.record("console", "m-1", None, now=now)


def test_a_concurrent_duplicate_waits_for_the_first_and_is_refused(
    db_engine: Engine, now: datetime
) -> None:
    """Two deliveries of one message in two processes at once: exactly one applies."""
    if db_engine.dialect.name != "postgresql":
        pytest.skip("SQLite has a single writer: the second would wait for the write lock")
    factory = make_session_factory(db_engine)
    results: list[bool] = []

    def second() -> None:
        with UnitOfWork(factory) as uow:
            results.append(uow.inputs.record("race", "m-1", None, now=now))
            uow.commit()

    try:
        with UnitOfWork(factory) as first:
            assert first.inputs.record("race", "m-1", None, now=now)
            other = threading.Thread(target=second)
            other.start()
            other.join(timeout=0.5)
            assert other.is_alive() and results == []  # waiting on the first's row lock
            first.commit()
        other.join(timeout=10)
        assert results == [False]
    finally:
        with db_engine.begin() as connection:
            connection.execute(delete(ProcessedInput).where(ProcessedInput.channel == "race"))
