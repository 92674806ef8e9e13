"""The outbox: due messages are claimed once, oldest first, and retried or failed."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, delete, select

from storage import UnitOfWork
from storage.database import make_session_factory
from storage.models import OutboxMessage, Participant
from storage.repositories.outbox import LEASE


def test_claim_takes_due_pending_rows_of_the_channel_oldest_first(
    uow: UnitOfWork, make_participant: Callable[..., Participant], now: datetime
) -> None:
    ana = make_participant()
    first = uow.outbox.enqueue(ana.id, "console", "ana", {"text": "1"}, now=now)
    second = uow.outbox.enqueue(ana.id, "console", "ana", {"text": "2"}, now=now)
    uow.outbox.enqueue(ana.id, "telegram", "42", {"text": "other channel"}, now=now)
    later = uow.outbox.enqueue(
        ana.id, "console", "ana", {"text": "not yet"}, now=now + timedelta(minutes=1)
    )
    assert uow.outbox.pending_count() == 4
    assert uow.outbox.pending_count("console") == 3

    claimed = uow.outbox.claim("console", now=now)
    assert [m.id for m in claimed] == [first, second]
    assert [(m.status, m.attempts, m.payload) for m in claimed] == [
        ("sending", 1, {"text": "1"}),
        ("sending", 1, {"text": "2"}),
    ]
    assert uow.outbox.claim("console", now=now) == []  # claimed rows are not claimed again
    assert uow.outbox.pending_count("console") == 1
    assert [m.id for m in uow.outbox.claim("console", now=now + timedelta(minutes=1))] == [later]


def test_claim_respects_the_limit(
    uow: UnitOfWork, make_participant: Callable[..., Participant], now: datetime
) -> None:
    ana = make_participant()
    rows = [uow.outbox.enqueue(ana.id, "console", "ana", {"n": n}, now=now) for n in range(5)]
    assert [m.id for m in uow.outbox.claim("console", now=now, limit=2)] == rows[:2]
    assert [m.id for m in uow.outbox.claim("console", now=now, limit=10)] == rows[2:]


def test_mark_sent_and_mark_failed_with_and_without_retry(
    uow: UnitOfWork, make_participant: Callable[..., Participant], now: datetime
) -> None:
    ana = make_participant()
    ok_id, flaky_id, dead_id = (
        uow.outbox.enqueue(ana.id, "console", "ana", {"n": n}, now=now) for n in range(3)
    )
    uow.outbox.claim("console", now=now)
    retry_at = now + timedelta(seconds=30)
    uow.outbox.mark_sent([ok_id], now=now)
    uow.outbox.mark_sent([], now=now)
    uow.outbox.mark_failed(flaky_id, "Timeout: slow", now=now, retry_at=retry_at)
    uow.outbox.mark_failed(dead_id, "Forbidden: blocked by user", now=now, retry_at=None)
    uow.session.expire_all()
    ok, flaky, dead = (uow.session.get_one(OutboxMessage, id) for id in (ok_id, flaky_id, dead_id))

    assert (ok.status, ok.sent_at) == ("sent", now)
    assert (flaky.status, flaky.next_attempt_at, flaky.last_error) == (
        "pending",
        retry_at,
        "Timeout: slow",
    )
    assert (dead.status, dead.last_error) == ("failed", "Forbidden: blocked by user")
    assert uow.outbox.claim("console", now=now) == []  # the retry is not due yet
    again = uow.outbox.claim("console", now=retry_at)
    assert again == [flaky] and flaky.attempts == 2


def test_concurrent_claims_never_share_a_row(db_engine: Engine, now: datetime) -> None:
    """Two senders in open transactions at once: SKIP LOCKED hands each different rows."""
    if db_engine.dialect.name != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite has a single writer")
    factory = make_session_factory(db_engine)
    with UnitOfWork(factory) as uow:
        person = uow.participants.create(
            "skiptest", "skip-locked-test", now=now, pseudonym=f"skip-{threading.get_ident()}"
        )
        for n in range(10):
            uow.outbox.enqueue(person.id, "skiptest", "x", {"n": n}, now=now)
        uow.commit()
        person_id = person.id
    try:
        barrier = threading.Barrier(2, timeout=10)
        claimed: dict[str, list[int]] = {}
        errors: list[BaseException] = []

        def sender(name: str, limit: int) -> None:
            try:
                with UnitOfWork(factory) as uow:
                    rows = uow.outbox.claim("skiptest", now=now, limit=limit)
                    claimed[name] = [row.id for row in rows]
                    barrier.wait()  # both hold their locks here, neither has committed
                    uow.commit()
            except BaseException as exc:
                errors.append(exc)
                barrier.abort()

        with UnitOfWork(factory) as first:
            mine = [row.id for row in first.outbox.claim("skiptest", now=now, limit=4)]
            other = threading.Thread(target=sender, args=("other", 100))
            other.start()
            barrier.wait()
            other.join(timeout=10)
            first.commit()
        assert not errors
        assert len(mine) == 4 and len(claimed["other"]) == 6
        assert not set(mine) & set(claimed["other"])
        with factory() as session:
            statuses = session.scalars(
                select(OutboxMessage.status).where(OutboxMessage.participant_id == person_id)
            ).all()
        assert statuses == ["sending"] * 10
    finally:
        with db_engine.begin() as connection:
            connection.execute(delete(Participant).where(Participant.id == person_id))



def test_take_sent_takes_one_address_due_rows_oldest_first_as_sent(
    uow: UnitOfWork, make_participant: Callable[..., Participant], now: datetime
) -> None:
    ana, ben = make_participant("ana"), make_participant("ben")
    first = uow.outbox.enqueue(ana.id, "console", "ana", {"text": "1"}, now=now)
    second = uow.outbox.enqueue(ana.id, "console", "ana", {"text": "2"}, now=now)
    uow.outbox.enqueue(ben.id, "console", "ben", {"text": "for ben"}, now=now)
    uow.outbox.enqueue(ana.id, "telegram", "ana", {"text": "other channel"}, now=now)
    uow.outbox.enqueue(ana.id, "console", "ana", {"text": "later"}, now=now + timedelta(hours=1))

    taken = uow.outbox.take_sent("console", "ana", now=now)
    assert [(m.id, m.address, m.payload) for m in taken] == [
        (first, "ana", {"text": "1"}),
        (second, "ana", {"text": "2"}),
    ]
    assert uow.outbox.take_sent("console", "ana", now=now) == []
    rows = {m.id: m for m in uow.session.scalars(select(OutboxMessage))}
    assert (rows[first].status, rows[first].sent_at, rows[first].attempts) == ("sent", now, 1)
    assert uow.outbox.pending_count("console") == 2  # ben's, and ana's later one


def test_a_claim_left_by_a_sender_that_died_is_claimed_again_after_the_lease(
    uow: UnitOfWork, make_participant: Callable[..., Participant], now: datetime
) -> None:
    ana = make_participant("ana")
    row = uow.outbox.enqueue(ana.id, "telegram", "42", {"text": "hi"}, now=now)
    assert [m.id for m in uow.outbox.claim("telegram", now=now)] == [row]
    # the sender dies here: no mark_sent, no mark_failed
    assert uow.outbox.claim("telegram", now=now + timedelta(minutes=1)) == []
    again = uow.outbox.claim("telegram", now=now + LEASE + timedelta(seconds=1))
    assert [(m.id, m.status, m.attempts) for m in again] == [(row, "sending", 2)]
