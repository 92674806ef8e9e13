"""The outbox: messages written with the state change, sent later by sender workers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from storage.models import OutboxMessage

__all__ = ["OutboxRepository"]


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
    ) -> OutboxMessage:
        message = OutboxMessage(
            participant_id=participant_id,
            channel=channel,
            address=address,
            payload=payload,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        self.session.add(message)
        return message

    def claim(self, channel: str, *, now: datetime, limit: int = 100) -> list[OutboxMessage]:
        """Take up to ``limit`` due messages of ``channel``, oldest first, as ``sending``.

        On PostgreSQL the rows are locked with ``FOR UPDATE SKIP LOCKED``, so concurrent
        senders each get different rows without waiting for each other. SQLite ignores
        the clause; its single writer makes the select-then-update atomic. The caller
        commits the claim before sending, so a slow send holds no lock.
        """
        rows = list(
            self.session.scalars(
                select(OutboxMessage)
                .where(
                    OutboxMessage.status == "pending",
                    OutboxMessage.channel == channel,
                    OutboxMessage.next_attempt_at <= now,
                )
                .order_by(OutboxMessage.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        for row in rows:
            row.status = "sending"
            row.attempts += 1
        self.session.flush()
        return rows

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
