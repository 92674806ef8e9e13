"""Runs: a participant's passes through a flow, holding the engine's state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from storage.models import Run

__all__ = ["ENDED", "RunRepository"]

ENDED = frozenset({"finished", "declined"})
"""Statuses that stamp ``finished_at``; ``abandoned`` runs were left, not finished."""

_CURRENT = (
    select(Run)
    .where(Run.participant_id == bindparam("participant_id"), Run.flow_id == bindparam("flow_id"))
    .order_by(Run.id.desc())
    .limit(1)
)  # built once: see storage.repositories._statements
_CURRENT_LOCKED = _CURRENT.with_for_update()


class RunRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def by_id(self, id: int) -> Run | None:
        return self.session.get(Run, id)

    def current(self, participant_id: int, flow_id: str, *, lock: bool = False) -> Run | None:
        """The participant's newest run in the flow, whatever its status.

        ``lock=True`` takes a row lock on PostgreSQL (``SELECT ... FOR UPDATE``) so two
        processes handling the same participant's inputs apply them one after the other
        instead of overwriting each other's state; SQLite has one writer anyway.
        """
        query = _CURRENT_LOCKED if lock else _CURRENT
        return self.session.scalars(
            query, {"participant_id": participant_id, "flow_id": flow_id}
        ).first()

    def create(
        self,
        participant_id: int,
        flow_id: str,
        definition_id: int,
        state: dict[str, Any],
        status: str,
        *,
        now: datetime,
    ) -> Run:
        run = Run(
            participant_id=participant_id,
            flow_id=flow_id,
            definition_id=definition_id,
            state=state,
            status=status,
            started_at=now,
            updated_at=now,
            finished_at=now if status in ENDED else None,
        )
        self.session.add(run)
        self.session.flush()
        return run

    def save(self, run: Run, state: dict[str, Any], status: str, *, now: datetime) -> None:
        run.state = state
        run.status = status
        run.updated_at = now
        if status in ENDED and run.finished_at is None:
            run.finished_at = now
