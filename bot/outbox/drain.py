"""One pass over a channel's due outbox rows.

Rows are claimed (status ``sending``, for a lease of a few minutes) and committed before
any is sent, so two senders never take the same row; each result is then recorded in its
own transaction, so a crash part-way loses no record of what was already sent, and rows a
crashed sender held are due again when the lease runs out: repeated, never lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import Outbound
from bot.clock import Clock, utc_now
from storage import UnitOfWork

__all__ = ["RETRY_DELAYS", "drain", "release"]

log = logging.getLogger(__name__)

RETRY_DELAYS = (timedelta(seconds=5), timedelta(seconds=30), timedelta(minutes=5))
"""Delay before the 2nd, 3rd, 4th attempt; after that the row is marked failed."""

Send = Callable[[str, Outbound], None]


def drain(
    session_factory: sessionmaker[Session],
    channel: str,
    send: Send,
    *,
    clock: Clock = utc_now,
    limit: int = 100,
) -> int:
    """Send what is due on ``channel``; returns how many were sent."""
    with UnitOfWork(session_factory) as uow:
        claimed = uow.outbox.claim(channel, now=clock(), limit=limit)
        jobs = [(row.id, row.address, Outbound.from_payload(row.payload), row.attempts)
                for row in claimed]
        uow.commit()
    sent: list[int] = []
    for row_id, address, message, attempts in jobs:
        try:
            send(address, message)
        except Exception as exc:
            log.warning("outbox row %s on %s failed (attempt %s): %s",
                        row_id, channel, attempts, type(exc).__name__)
            retry = RETRY_DELAYS[attempts - 1] if attempts - 1 < len(RETRY_DELAYS) else None
            with UnitOfWork(session_factory) as uow:
                now = clock()
                uow.outbox.mark_failed(row_id, f"{type(exc).__name__}: {exc}", now=now,
                                       retry_at=now + retry if retry else None)
                uow.commit()
        else:
            sent.append(row_id)
    if sent:
        with UnitOfWork(session_factory) as uow:
            uow.outbox.mark_sent(sent, now=clock())
            uow.commit()
    return len(sent)



def release(
    session_factory: sessionmaker[Session],
    ids: Iterable[int],
    error: BaseException,
    *,
    clock: Clock = utc_now,
) -> None:
    """Put rows marked sent back to pending after showing them failed, recording why."""
    with UnitOfWork(session_factory) as uow:
        now = clock()
        for row_id in ids:
            uow.outbox.mark_failed(row_id, f"{type(error).__name__}: {error}", now=now,
                                   retry_at=now)
        uow.commit()
