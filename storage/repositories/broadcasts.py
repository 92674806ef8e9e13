"""Broadcasts: one row each, and their recipients as outbox rows carrying its id.

The unique ``(broadcast_id, participant_id)`` key is what makes writing the recipients
safe to repeat: a second writer (a scheduler racing ``kolot broadcast``, a run after a
crash) inserts nothing for anyone already there.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import func, literal, select, text, update
from sqlalchemy.orm import Session

from storage.models import Broadcast, OutboxMessage, Participant
from storage.repositories._statements import dialect, per_dialect, table
from storage.types import JSONType, UTCDateTime

__all__ = ["BroadcastRepository", "Progress", "Recipient"]


class Recipient(NamedTuple):
    participant_id: int
    channel: str
    address: str
    payload: dict[str, Any]


class Progress(NamedTuple):
    """A broadcast's rows by what became of them."""

    total: int
    waiting: int
    """Pending or being sent."""
    sent: int
    unconfirmed: int
    """Its call began but no answer came: maybe arrived, never sent again."""
    failed: int
    held: int
    by_channel: dict[str, dict[str, int]]

    @property
    def done(self) -> int:
        return self.total - self.waiting


_ADD = per_dialect(lambda insert: insert(table(OutboxMessage)).on_conflict_do_nothing())
_FROM_SELECT = per_dialect(
    lambda insert: lambda columns, chosen: insert(table(OutboxMessage))
    .from_select(columns, chosen).on_conflict_do_nothing())
_CHUNK = 5000
_ANALYZE_AFTER = 1000
"""Participants per statement: SQLite takes at most 32,766 parameters."""


class BroadcastRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def named(self, name: str) -> Broadcast | None:
        return self.session.scalars(select(Broadcast).where(Broadcast.name == name)).first()

    def create(self, *, name: str, digest: str, flow_id: str, spec: dict[str, Any],
               start_step: str | None, send_at: datetime, now: datetime) -> Broadcast:
        broadcast = Broadcast(name=name, digest=digest, flow_id=flow_id, spec=spec,
                              start_step=start_step, send_at=send_at, created_at=now)
        self.session.add(broadcast)
        self.session.flush()
        return broadcast

    def due(self, now: datetime) -> list[Broadcast]:
        """Scheduled broadcasts whose time has come and whose recipients are not written."""
        return list(self.session.scalars(
            select(Broadcast).where(Broadcast.enqueued_at.is_(None), Broadcast.send_at <= now)
            .order_by(Broadcast.id)))

    def begin_enqueue(self, broadcast_id: int) -> bool:
        """Take the writing of a broadcast's recipients: ``False`` if someone already wrote
        them. On PostgreSQL a second writer waits here for the first to commit."""
        result = self.session.execute(
            update(Broadcast).where(Broadcast.id == broadcast_id,
                                    Broadcast.enqueued_at.is_(None))
            .values(total=0))
        return bool(getattr(result, "rowcount", 0) == 1)

    def add(self, broadcast_id: int, recipients: Sequence[Recipient], *, due: datetime,
            now: datetime) -> None:
        """Queue the broadcast's message for each recipient in one ``executemany``; anyone
        already queued for it is passed over."""
        if not recipients:
            return
        rows = [
            {"participant_id": r.participant_id, "channel": r.channel, "address": r.address,
             "payload": r.payload, "status": "pending", "attempts": 0, "next_attempt_at": due,
             "created_at": now, "keyboard": False, "broadcast_id": broadcast_id}
            for r in recipients
        ]
        self.session.connection().execute(_ADD[dialect(self.session)], rows)

    def add_by_id(self, broadcast_id: int, groups: Sequence[tuple[dict[str, Any], Sequence[int]]],
                  *, due: datetime, now: datetime) -> None:
        """Queue one message per group for each of its participants, on their own channel
        and address, as ``INSERT ... SELECT`` from the participants table: the payload is
        bound once per statement, not once per recipient. Anyone already queued for the
        broadcast is passed over."""
        columns = ["participant_id", "channel", "address", "payload", "status", "attempts",
                   "next_attempt_at", "created_at", "keyboard", "broadcast_id"]
        for payload, ids in groups:
            for start in range(0, len(ids), _CHUNK):
                chosen = (
                    select(Participant.id, Participant.channel, Participant.address,
                           literal(payload, JSONType), literal("pending"), literal(0),
                           literal(due, UTCDateTime), literal(now, UTCDateTime),
                           literal(False), literal(broadcast_id))
                    .where(Participant.id.in_(list(ids[start:start + _CHUNK])))
                )
                statement = _FROM_SELECT[dialect(self.session)](columns, chosen)
                self.session.execute(statement)

    def queued(self, broadcast_id: int) -> set[int]:
        """Who has the broadcast's row already."""
        return set(self.session.scalars(
            select(OutboxMessage.participant_id)
            .where(OutboxMessage.broadcast_id == broadcast_id)))

    def finish_enqueue(self, broadcast_id: int, *, now: datetime) -> int:
        total = int(self.session.scalar(
            select(func.count()).select_from(OutboxMessage)
            .where(OutboxMessage.broadcast_id == broadcast_id)) or 0)
        self.session.execute(update(Broadcast).where(Broadcast.id == broadcast_id)
                             .values(enqueued_at=now, total=total))
        if total >= _ANALYZE_AFTER:
            # The outbox just grew by a broadcast: let the planner know before the
            # senders' claims run against it (PostgreSQL's autovacuum would, minutes later;
            # SQLite never does by itself).
            self.session.execute(text("ANALYZE outbox"))
        return total

    def progress(self, broadcast_id: int) -> Progress:
        rows = self.session.execute(
            select(OutboxMessage.channel, OutboxMessage.status, func.count())
            .where(OutboxMessage.broadcast_id == broadcast_id)
            .group_by(OutboxMessage.channel, OutboxMessage.status)).all()
        by_channel: dict[str, dict[str, int]] = {}
        totals: dict[str, int] = {}
        for channel, status, n in rows:
            by_channel.setdefault(str(channel), {})[str(status)] = int(n)
            totals[str(status)] = totals.get(str(status), 0) + int(n)
        return Progress(
            total=sum(totals.values()),
            waiting=totals.get("pending", 0) + totals.get("sending", 0),
            sent=totals.get("sent", 0),
            unconfirmed=totals.get("unconfirmed", 0),
            failed=totals.get("failed", 0),
            held=totals.get("held", 0),
            by_channel=by_channel,
        )

    def take_back(self, broadcast_id: int, *, now: datetime) -> int:
        """Rows of the broadcast claimed by a sender that stopped before their call began:
        pending again, now (the stopped sender's lease is not waited out; were it still
        alive, its mark fails and it leaves them). Returns how many."""
        result = self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.broadcast_id == broadcast_id,
                   OutboxMessage.status == "sending", OutboxMessage.attempted_at.is_(None))
            .values(status="pending", next_attempt_at=now))
        return int(getattr(result, "rowcount", 0) or 0)

    def resend_unconfirmed(self, broadcast_id: int, *, now: datetime) -> int:
        """An admin's choice: the unconfirmed go again (some may get the message twice)."""
        result = self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.broadcast_id == broadcast_id,
                   OutboxMessage.status == "unconfirmed")
            .values(status="pending", next_attempt_at=now, attempted_at=None))
        return int(getattr(result, "rowcount", 0) or 0)
