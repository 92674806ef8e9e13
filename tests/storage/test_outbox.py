"""The outbox: due messages are claimed once, per participant in order, and retried or failed."""

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


def test_claim_takes_a_participants_due_rows_in_order_and_holds_back_later_ones(
    uow: UnitOfWork, make_participant: Callable[..., Participant], now: datetime
) -> None:
    ana = make_participant()
    first = uow.outbox.enqueue(ana.id, "console", "ana", {"text": "1"}, now=now)
    second = uow.outbox.enqueue(ana.id, "console", "ana", {"text": "2"}, now=now)
    uow.outbox.enqueue(ana.id, "telegram", "42", {"text": "other channel"}, now=now)
    later = uow.outbox.enqueue(
        ana.id, "console", "ana", {"text": "not yet"}, now=now, due=now + timedelta(minutes=1)
    )
    assert uow.outbox.pending_count() == 4
    assert uow.outbox.pending_count("console") == 3

    claimed = uow.outbox.claim("console", now=now).rows
    assert [(m.id, m.attempts, m.payload) for m in claimed] == [
        (first, 1, {"text": "1"}),
        (second, 1, {"text": "2"}),
    ]
    assert uow.outbox.claim("console", now=now).rows == []  # claimed rows are not claimed again
    assert uow.outbox.pending_count("console") == 1
    # Due now, but the two before it are still being sent: it must not overtake them.
    assert uow.outbox.claim("console", now=now + timedelta(minutes=1)).rows == []
    uow.outbox.mark_sent([first, second], now=now)
    assert [m.id for m in uow.outbox.claim("console", now=now + timedelta(minutes=1)).rows] == [
        later
    ]


def test_claim_limit_counts_participants_each_taken_whole(
    uow: UnitOfWork, make_participant: Callable[..., Participant], now: datetime
) -> None:
    people = [make_participant() for _ in range(3)]
    rows = {
        p.id: [uow.outbox.enqueue(p.id, "console", p.address, {"n": n}, now=now) for n in (1, 2)]
        for p in people
    }
    first = uow.outbox.claim("console", now=now, limit=2).rows
    assert [m.id for m in first] == sorted(rows[people[0].id] + rows[people[1].id])
    assert [m.id for m in uow.outbox.claim("console", now=now, limit=10).rows] == rows[
        people[2].id
    ]


def test_claim_reports_who_stopped_or_cannot_be_reached(
    uow: UnitOfWork, make_participant: Callable[..., Participant], now: datetime
) -> None:
    ana, ben, cai = make_participant(), make_participant(), make_participant()
    for person in (ana, ben, cai):
        uow.outbox.enqueue(person.id, "console", person.address, {"text": "hi"}, now=now)
    uow.participants.set_stopped(ben.id, True, now=now)
    uow.participants.set_unreachable([cai.id], "blocked", now=now)
    claim = uow.outbox.claim("console", now=now)
    assert len(claim.rows) == 3
    assert (claim.stopped, claim.unreachable) == ({ben.id}, {cai.id})


def test_mark_sent_and_mark_failed_with_and_without_retry(
    uow: UnitOfWork, make_participant: Callable[..., Participant], now: datetime
) -> None:
    ana = make_participant()
    ok_id, flaky_id, dead_id = (
        uow.outbox.enqueue(ana.id, "console", "ana", {"n": n}, now=now) for n in range(3)
    )
    uow.outbox.claim("console", now=now)
    retry_at = now + timedelta(seconds=30)
    uow.outbox.mark_sent([ok_id], now=now, platform_ids=["777"])
    uow.outbox.mark_sent([], now=now)
    uow.outbox.mark_failed(flaky_id, "Timeout: slow", now=now, retry_at=retry_at)
    uow.outbox.mark_failed(dead_id, "Forbidden: blocked by user", now=now, retry_at=None)
    uow.session.expire_all()
    ok, flaky, dead = (uow.session.get_one(OutboxMessage, id) for id in (ok_id, flaky_id, dead_id))

    assert (ok.status, ok.sent_at, ok.platform_message_id) == ("sent", now, "777")
    assert (flaky.status, flaky.next_attempt_at, flaky.last_error) == (
        "pending",
        retry_at,
        "Timeout: slow",
    )
    assert (dead.status, dead.last_error) == ("failed", "Forbidden: blocked by user")
    assert uow.outbox.claim("console", now=now).rows == []  # the retry is not due yet
    again = uow.outbox.claim("console", now=retry_at).rows
    assert [(m.id, m.attempts) for m in again] == [(flaky_id, 2)]


def test_release_gives_rows_back_without_counting_the_attempt(
    uow: UnitOfWork, make_participant: Callable[..., Participant], now: datetime
) -> None:
    ana = make_participant()
    row = uow.outbox.enqueue(ana.id, "console", "ana", {"n": 1}, now=now)
    claimed = uow.outbox.claim("console", now=now).rows
    uow.outbox.release(claimed, at=now + timedelta(seconds=9))
    assert uow.outbox.claim("console", now=now + timedelta(seconds=8)).rows == []
    again = uow.outbox.claim("console", now=now + timedelta(seconds=9)).rows
    assert [(m.id, m.attempts) for m in again] == [(row, 1)]


def test_the_live_keyboard_is_the_newest_message_with_buttons(
    uow: UnitOfWork, make_participant: Callable[..., Participant], now: datetime
) -> None:
    ana, ben = make_participant(), make_participant()
    buttons = [{"payload": "y", "label": "Yes"}]
    assert uow.outbox.live_keyboard(ana.id, "console") is None
    old = uow.outbox.enqueue(ana.id, "console", "a", {"text": "q1", "buttons": buttons}, now=now)
    new = uow.outbox.enqueue(ana.id, "console", "a", {"text": "q2", "buttons": buttons}, now=now)
    uow.outbox.enqueue(ana.id, "console", "a", {"text": "note", "buttons": []}, now=now)
    uow.outbox.enqueue(ana.id, "console", "a", {"text": "q2", "buttons": buttons,
                                                 "action": "select"}, now=now)
    uow.outbox.enqueue(ben.id, "console", "b", {"text": "q9", "buttons": buttons}, now=now)
    live = uow.outbox.live_keyboard(ana.id, "console")
    assert live is not None and live[0] == new != old and live[1]["text"] == "q2"


def test_cancel_pending_fails_what_is_unsent_with_the_reason(
    uow: UnitOfWork, make_participant: Callable[..., Participant], now: datetime
) -> None:
    ana = make_participant()
    sent = uow.outbox.enqueue(ana.id, "console", "a", {"n": 1}, now=now, sent=True)
    waiting = uow.outbox.enqueue(ana.id, "console", "a", {"n": 2}, now=now)
    assert uow.outbox.cancel_pending(ana.id, "stopped") == 1
    uow.session.expire_all()
    rows = {r.id: r for r in uow.session.scalars(select(OutboxMessage))}
    assert rows[sent].status == "sent"
    assert (rows[waiting].status, rows[waiting].last_error) == ("failed", "stopped")


def test_concurrent_claims_never_share_a_participant(db_engine: Engine, now: datetime) -> None:
    """Two senders in open transactions at once: SKIP LOCKED hands each different people."""
    if db_engine.dialect.name != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite has a single writer")
    factory = make_session_factory(db_engine)
    tag = threading.get_ident()
    with UnitOfWork(factory) as uow:
        people = [
            uow.participants.create("skiptest", f"skip-{n}", now=now, pseudonym=f"skip-{tag}-{n}")
            for n in range(10)
        ]
        for person in people:
            for n in range(2):
                uow.outbox.enqueue(person.id, "skiptest", person.address, {"n": n}, now=now)
        uow.commit()
        ids = [person.id for person in people]
    try:
        barrier = threading.Barrier(2, timeout=10)
        claimed: dict[str, list[int]] = {}
        errors: list[BaseException] = []

        def sender(name: str, limit: int) -> None:
            try:
                with UnitOfWork(factory) as uow:
                    rows = uow.outbox.claim("skiptest", now=now, limit=limit).rows
                    claimed[name] = [row.participant_id for row in rows]
                    barrier.wait()  # both hold their locks here, neither has committed
                    uow.commit()
            except BaseException as exc:
                errors.append(exc)
                barrier.abort()

        with UnitOfWork(factory) as first:
            mine = [row.participant_id for row in
                    first.outbox.claim("skiptest", now=now, limit=4).rows]
            other = threading.Thread(target=sender, args=("other", 100))
            other.start()
            barrier.wait()
            other.join(timeout=10)
            first.commit()
        assert not errors
        assert len(set(mine)) == 4 and len(set(claimed["other"])) == 6
        assert len(mine) == 8 and len(claimed["other"]) == 12  # each person taken whole
        assert not set(mine) & set(claimed["other"])
        with factory() as session:
            statuses = session.scalars(
                select(OutboxMessage.status).where(OutboxMessage.participant_id.in_(ids))
            ).all()
        assert statuses == ["sending"] * 20
    finally:
        with db_engine.begin() as connection:
            connection.execute(delete(Participant).where(Participant.id.in_(ids)))



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
    assert [m.id for m in uow.outbox.claim("telegram", now=now).rows] == [row]
    # the sender dies here: no mark_sent, no mark_failed
    assert uow.outbox.claim("telegram", now=now + timedelta(minutes=1)).rows == []
    again = uow.outbox.claim("telegram", now=now + LEASE + timedelta(seconds=1)).rows
    assert [(m.id, m.attempts) for m in again] == [(row, 2)]
