"""Writing down what became of claimed rows, in one transaction per batch.

Shared by the asynchronous sender and the synchronous ``drain``: both claim, deliver one
participant's rows in order, and hand the outcomes here.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot.outbox.outcomes import Doubt, Failed, Held, Outcome, Pause, Retry, Sent, Unreachable
from bot.rights import FAREWELL
from storage import UnitOfWork
from storage.repositories.outbox import Claimed

__all__ = ["RETRY_DELAYS", "Released", "Result", "record"]

log = logging.getLogger(__name__)

RETRY_DELAYS = (timedelta(seconds=5), timedelta(seconds=30), timedelta(minutes=5))
"""Delay before the 2nd, 3rd, 4th attempt after a passing failure; then the row fails."""


@dataclass(frozen=True, slots=True)
class Released:
    """Claimed but not attempted (it waited behind a row that failed, or the sender was
    stopped): back to pending, the attempt not counted."""


@dataclass(frozen=True, slots=True)
class Result:
    row: Claimed
    outcome: Outcome | Released


def record(
    session_factory: sessionmaker[Session],
    results: Sequence[Result],
    *,
    now: datetime,
    delays: Sequence[timedelta] = RETRY_DELAYS,
) -> None:
    """Mark sent, retry, pause, fail or release each row, and note who can't be reached.
    A broadcast row with no answer to its call is unconfirmed; a superseded row is left to
    whoever holds it now."""
    if not results:
        return
    sent = [(r.row.id, r.outcome.platform_id) for r in results if isinstance(r.outcome, Sent)]
    released = [r.row for r in results if isinstance(r.outcome, Released)]
    doubted = [r.row.id for r in results if isinstance(r.outcome, Doubt) and r.row.once]
    with UnitOfWork(session_factory) as uow:
        if sent:
            uow.outbox.mark_sent([i for i, _ in sent], now=now, platform_ids=[p for _, p in sent])
        uow.outbox.release(released, at=now)
        if doubted:
            log.warning("%s broadcast rows unconfirmed: no answer to their call",
                        len(doubted))
            uow.outbox.unconfirm(doubted, "no answer from the platform: it may have arrived, "
                                          "so it is not sent again")
        unreachable: dict[int, str] = {}
        for result in results:
            row, outcome = result.row, result.outcome
            if isinstance(outcome, Retry) or (isinstance(outcome, Doubt) and not row.once):
                delay = delays[row.attempts - 1] if row.attempts - 1 < len(delays) else None
                log.warning("outbox row %s: %s (attempt %s, %s)", row.id, outcome.reason,
                            row.attempts, f"retry in {delay}" if delay else "giving up")
                uow.outbox.mark_failed(row.id, outcome.reason, now=now,
                                       retry_at=now + delay if delay else None)
            elif isinstance(outcome, Pause):
                uow.outbox.release([row], at=now + timedelta(seconds=outcome.seconds))
            elif isinstance(outcome, Unreachable):
                unreachable[row.participant_id] = outcome.reason
                uow.outbox.mark_failed(row.id, outcome.reason, now=now, retry_at=None)
            elif isinstance(outcome, Failed):
                log.warning("outbox row %s not delivered: %s", row.id, outcome.reason)
                uow.outbox.mark_failed(row.id, outcome.reason, now=now, retry_at=None)
            elif isinstance(outcome, Held):
                log.info("outbox row %s held: %s", row.id, outcome.reason)
                uow.outbox.mark_held(row.id, outcome.reason)
        for participant_id, reason in unreachable.items():
            uow.participants.set_unreachable([participant_id], reason, now=now)
        # Someone erased at their request whose farewell has now left (or can't): the row
        # that held their address goes too.
        farewells = {r.row.participant_id for r in results
                     if r.row.payload.get("kind") == FAREWELL}
        if farewells:
            uow.personal.finish_erasures(farewells)
        uow.commit()
