"""The outbox: messages written with the state change, sent later by sender workers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from storage.models import OutboxMessage
from storage.repositories._statements import execute, table

__all__ = ["Due", "OutboxRepository"]


class Due(NamedTuple):
    """A message taken for sending: just what a sender needs."""

    id: int
    address: str
    payload: dict[str, Any]

_DUE = (
    OutboxMessage.status == "pending",
    OutboxMessage.channel == bindparam("due_channel"),
    OutboxMessage.next_attempt_at <= bindparam("due_at"),
)
LEASE = timedelta(minutes=5)
"""How long a claim holds. A sender that dies mid-send leaves rows ``sending``; once the
lease has run out they are due again, so a crash can repeat a message but never lose one."""
_CLAIM = (
    update(OutboxMessage)
    .where(
        OutboxMessage.id.in_(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.status.in_(("pending", "sending")),
                OutboxMessage.channel == bindparam("due_channel"),
                OutboxMessage.next_attempt_at <= bindparam("due_at"),
            )
            .order_by(OutboxMessage.id)
            .limit(bindparam("due_limit"))
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
    )
    .values(
        status="sending",
        attempts=OutboxMessage.attempts + 1,
        next_attempt_at=bindparam("lease_until"),
    )
    .returning(OutboxMessage)
)  # built once: see storage.repositories._statements
_TABLE = table(OutboxMessage)
_ENQUEUE = insert(_TABLE)
_TAKE_SENT = (
    update(_TABLE)
    .where(*_DUE, _TABLE.c.address == bindparam("due_address"))
    .values(status="sent", sent_at=bindparam("due_at"), attempts=_TABLE.c.attempts + 1)
    .returning(_TABLE.c.id, _TABLE.c.address, _TABLE.c.payload)
)
_REFRESH = {"synchronize_session": False, "populate_existing": True}
"""RETURNING brings the new values; objects already in the session take them too."""


class OutboxRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def enqueue(
        self,
        participant_id: int,
        channel: str,
        address: str,
        payload: dict[str, Any],
        *,
        now: datetime,
        sent: bool = False,
    ) -> int:
        """Queue one message, due now; returns its id. Every input writes a few of these,
        so it is one prebuilt ``INSERT`` rather than an ORM object flushed at commit.

        ``sent=True`` records a message that a synchronous channel shows right after this
        transaction commits (see ``Service.handle``), so it is never pending.
        """
        result = execute(
            self.session,
            _ENQUEUE,
            {
                "participant_id": participant_id,
                "channel": channel,
                "address": address,
                "payload": payload,
                "status": "sent" if sent else "pending",
                "attempts": 1 if sent else 0,
                "next_attempt_at": now,
                "created_at": now,
                "sent_at": now if sent else None,
            },
        )
        key = result.inserted_primary_key
        assert key is not None  # a single-row INSERT always reports its key
        return int(key[0])

    def claim(self, channel: str, *, now: datetime, limit: int = 100) -> list[OutboxMessage]:
        """Take up to ``limit`` due messages of ``channel``, oldest first, as ``sending``.

        One ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING``: on
        PostgreSQL concurrent senders each get different rows without waiting for each
        other; SQLite drops the locking clause, its single writer makes the statement
        atomic. The caller commits the claim before sending, so a slow send holds no lock.
        A claim is a lease (:data:`LEASE`): rows left ``sending`` by a sender that died are
        claimed again once it has run out.
        """
        params = {"due_channel": channel, "due_at": now, "due_limit": limit,
                  "lease_until": now + LEASE}
        return self._take(_CLAIM, params)

    def take_sent(self, channel: str, address: str, *, now: datetime) -> list[Due]:
        """Mark one address's due messages sent and return them, oldest first.

        For a channel that delivers synchronously inside this transaction (the console
        prints): the caller sends, then commits. If sending fails, the rollback leaves the
        rows pending, so nothing is lost; at worst a message is shown twice.
        """
        params = {"due_channel": channel, "due_address": address, "due_at": now}
        rows = execute(self.session, _TAKE_SENT, params).all()
        return [Due._make(row) for row in sorted(rows)]  # RETURNING promises no order

    def _take(self, statement: Any, params: dict[str, Any]) -> list[OutboxMessage]:
        rows = self.session.scalars(statement, params, execution_options=_REFRESH).all()
        return sorted(rows, key=lambda row: row.id)

    def mark_sent(self, ids: Iterable[int], *, now: datetime) -> None:
        ids = list(ids)
        if ids:
            self.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids))
                .values(status="sent", sent_at=now)
            )

    def mark_failed(
        self, id: int, error: str, *, now: datetime, retry_at: datetime | None
    ) -> None:
        """Record a failed send: back to ``pending`` at ``retry_at``, or ``failed`` for good."""
        values: dict[str, Any] = {"last_error": error}
        if retry_at is None:
            values["status"] = "failed"
        else:
            values.update(status="pending", next_attempt_at=retry_at)
        self.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == id).values(**values)
        )

    def pending_count(self, channel: str | None = None) -> int:
        query = select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.status == "pending"
        )
        if channel is not None:
            query = query.where(OutboxMessage.channel == channel)
        return int(self.session.scalar(query) or 0)
