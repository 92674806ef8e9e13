"""A broadcast's outbox rows: sent at most once to each person, whatever stops a sender.

The attempt is marked before the platform call; a marked row a sender left behind is in
doubt (``unconfirmed``) and never claimed again; an unmarked one goes again. A claim
taken back by ``kolot broadcast`` cannot be used by the sender that held it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select

from storage import UnitOfWork
from storage.models import OutboxMessage, Participant
from storage.repositories.broadcasts import Recipient
from storage.repositories.outbox import LEASE

MakeParticipant = Callable[..., Participant]


def _broadcast(uow: UnitOfWork, now: datetime, name: str = "news") -> int:
    return uow.broadcasts.create(name=name, digest="d" * 64, flow_id="survey",
                                 spec={"name": name}, start_step=None, send_at=now,
                                 now=now).id


def _status(uow: UnitOfWork, row_id: int) -> tuple[str, datetime | None]:
    row = uow.session.execute(select(OutboxMessage.status, OutboxMessage.attempted_at)
                              .where(OutboxMessage.id == row_id)).one()
    return row.status, row.attempted_at


def test_recipients_are_added_once_however_often_they_are_written(
    uow: UnitOfWork, make_participant: MakeParticipant, now: datetime
) -> None:
    people = [make_participant(channel="telegram") for _ in range(3)]
    bid = _broadcast(uow, now)
    recipients = [Recipient(p.id, "telegram", p.address, {"text": "hi"}) for p in people]
    assert uow.broadcasts.begin_enqueue(bid)
    uow.broadcasts.add(bid, recipients[:2], due=now, now=now)
    uow.broadcasts.add(bid, recipients, due=now, now=now)  # a second writer, overlapping
    assert uow.broadcasts.finish_enqueue(bid, now=now) == 3
    assert not uow.broadcasts.begin_enqueue(bid)  # written: nobody writes it again
    assert uow.broadcasts.queued(bid) == {p.id for p in people}
    progress = uow.broadcasts.progress(bid)
    assert (progress.total, progress.waiting, progress.sent) == (3, 3, 0)


def test_an_attempted_row_is_never_claimed_again_and_settles_as_unconfirmed(
    uow: UnitOfWork, make_participant: MakeParticipant, now: datetime
) -> None:
    ana, ben = make_participant(channel="telegram"), make_participant(channel="telegram")
    bid = _broadcast(uow, now)
    uow.broadcasts.add(bid, [Recipient(p.id, "telegram", p.address, {"text": "hi"})
                             for p in (ana, ben)], due=now, now=now)
    claimed = uow.outbox.claim("telegram", now=now).rows
    assert [r.once for r in claimed] == [True, True]
    ana_row, ben_row = claimed
    assert uow.outbox.attempt([ana_row], now=now) == {ana_row.id}
    assert uow.outbox.attempt([ana_row], now=now) == set()  # once only
    # The sender dies. When the lease runs out, the unmarked row goes again, the marked not.
    later = now + LEASE + timedelta(seconds=1)
    again = uow.outbox.claim("telegram", now=later).rows
    assert [r.id for r in again] == [ben_row.id]
    uow.outbox.mark_sent([ben_row.id], now=later)
    assert uow.outbox.settle(now=later) == 1
    assert _status(uow, ana_row.id)[0] == "unconfirmed"
    assert uow.outbox.claim("telegram", now=later + LEASE * 2).rows == []


def test_a_claim_taken_back_cannot_be_used_by_the_sender_that_held_it(
    uow: UnitOfWork, make_participant: MakeParticipant, now: datetime
) -> None:
    ana = make_participant(channel="telegram")
    bid = _broadcast(uow, now)
    uow.broadcasts.add(bid, [Recipient(ana.id, "telegram", ana.address, {"text": "hi"})],
                       due=now, now=now)
    (stale,) = uow.outbox.claim("telegram", now=now).rows
    assert uow.broadcasts.take_back(bid, now=now) == 1  # kolot broadcast resuming
    assert uow.outbox.attempt([stale], now=now) == set()  # taken back: not pending's owner
    (fresh,) = uow.outbox.claim("telegram", now=now).rows
    assert fresh.id == stale.id and fresh.attempts == stale.attempts + 1
    assert uow.outbox.attempt([stale], now=now) == set()  # another claim holds it now
    uow.outbox.release([stale], at=now)  # nor can the stale holder give it back
    assert _status(uow, fresh.id)[0] == "sending"
    assert uow.outbox.attempt([fresh], now=now) == {fresh.id}


def test_resuming_settles_mid_call_rows_at_once_and_can_send_them_again(
    uow: UnitOfWork, make_participant: MakeParticipant, now: datetime
) -> None:
    people = [make_participant(channel="telegram") for _ in range(3)]
    bid = _broadcast(uow, now)
    uow.broadcasts.add(bid, [Recipient(p.id, "telegram", p.address, {"text": "hi"})
                             for p in people], due=now, now=now)
    rows = uow.outbox.claim("telegram", now=now).rows
    uow.outbox.attempt(rows[:1], now=now)
    uow.outbox.mark_sent([rows[1].id], now=now)
    assert uow.outbox.settle(now=now) == 0  # the lease still holds: it may be in flight
    assert uow.outbox.settle(now=now, broadcast=bid) == 1  # the command resumes: settle now
    assert uow.broadcasts.take_back(bid, now=now) == 1
    progress = uow.broadcasts.progress(bid)
    assert (progress.sent, progress.unconfirmed, progress.waiting) == (1, 1, 1)
    assert uow.broadcasts.resend_unconfirmed(bid, now=now) == 1
    assert {r.id for r in uow.outbox.claim("telegram", now=now).rows} == {rows[0].id,
                                                                         rows[2].id}


def test_a_conversation_row_goes_again_after_a_crash_as_before(
    uow: UnitOfWork, make_participant: MakeParticipant, now: datetime
) -> None:
    ana = make_participant(channel="telegram")
    row = uow.outbox.enqueue(ana.id, "telegram", ana.address, {"text": "q1"}, now=now)
    (claimed,) = uow.outbox.claim("telegram", now=now).rows
    assert not claimed.once
    later = now + LEASE + timedelta(seconds=1)
    assert uow.outbox.settle(now=later) == 0
    assert [r.id for r in uow.outbox.claim("telegram", now=later).rows] == [row]
