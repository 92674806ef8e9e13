"""One synchronous pass over a channel's due outbox rows, for simple senders and tests.

Rows are claimed (status ``sending``, for a lease of a few minutes) and committed before
any is sent, so two senders never take the same row; the outcomes are then recorded
together (see :mod:`bot.outbox.record`), and rows a crashed sender held are due again
when the lease runs out: repeated, never lost. One participant's rows go in order and
stop at the first failure, which the rest wait behind. The asynchronous
:class:`bot.outbox.sender.Sender` is the one real channels use.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import Outbound
from bot.clock import Clock, utc_now
from bot.outbox.outcomes import Retry, Sent
from bot.outbox.record import RETRY_DELAYS, Released, Result, record
from storage import UnitOfWork

__all__ = ["RETRY_DELAYS", "drain", "release"]

log = logging.getLogger(__name__)

Send = Callable[[str, Outbound], None]


def drain(
    session_factory: sessionmaker[Session],
    channel: str,
    send: Send,
    *,
    clock: Clock = utc_now,
    limit: int = 100,
) -> int:
    """Send what is due on ``channel`` to up to ``limit`` participants; returns how many
    rows were sent. ``send`` raising is a passing failure, retried after a delay."""
    with UnitOfWork(session_factory) as uow:
        claim = uow.outbox.claim(channel, now=clock(), limit=limit)
        uow.commit()
    results: list[Result] = []
    for rows in claim.by_participant():
        for n, row in enumerate(rows):
            try:
                send(row.address, Outbound.from_payload(row.payload))
            except Exception as exc:
                results.append(Result(row, Retry(f"{type(exc).__name__}: {exc}")))
                results.extend(Result(later, Released()) for later in rows[n + 1 :])
                break
            results.append(Result(row, Sent()))
    record(session_factory, results, now=clock())
    return sum(isinstance(r.outcome, Sent) for r in results)


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
