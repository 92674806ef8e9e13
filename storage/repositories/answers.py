"""Answers: the current value of each answered step of a run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import Session

from storage.models import Answer, Participant
from storage.repositories._statements import dialect, execute, per_dialect, table

__all__ = ["AnswerRepository"]


def _upsert(insert: Callable[..., Any]) -> Any:
    statement = insert(Answer.__table__)
    return statement.on_conflict_do_update(
        index_elements=["run_id", "step_id"],
        set_={
            "value": statement.excluded.value,
            "answered_at": statement.excluded.answered_at,
        },
    )


_UPSERT = per_dialect(_upsert)
_TABLE = table(Answer)
_REMOVE = delete(_TABLE).where(
    _TABLE.c.run_id == bindparam("run_id"), _TABLE.c.step_id == bindparam("step_id")
)


class AnswerRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def put(
        self,
        run_id: int,
        participant_id: int,
        flow_id: str,
        step_id: str,
        value: Any,
        *,
        now: datetime,
    ) -> None:
        """Store the answer, replacing an earlier one to the same step of the same run.

        One upsert: the unique (run_id, step_id) key decides between insert and update,
        with no read first and no race between the two. It bypasses the ORM, so an
        ``Answer`` object already loaded in this session would not see the new value;
        this repository hands out values, not ``Answer`` objects.
        """
        execute(
            self.session,
            _UPSERT[dialect(self.session)],
            {
                "run_id": run_id,
                "participant_id": participant_id,
                "flow_id": flow_id,
                "step_id": step_id,
                "value": value,
                "answered_at": now,
            },
        )

    def remove(self, run_id: int, step_id: str) -> None:
        execute(self.session, _REMOVE, {"run_id": run_id, "step_id": step_id})

    def for_run(self, run_id: int) -> dict[str, Any]:
        rows = self.session.execute(
            select(Answer.step_id, Answer.value).where(Answer.run_id == run_id).order_by(Answer.id)
        )
        return {step_id: value for step_id, value in rows}

    def latest_by_participant(self, flow_id: str) -> list[tuple[str, dict[str, Any]]]:
        """Per participant, the answers of their newest run in the flow that has any.

        A restarted run with no answers yet doesn't hide what the participant said
        before; once it has answers, it replaces the older run in the export.
        Participants appear by pseudonym only, ordered by when they joined.
        """
        newest = (
            select(func.max(Answer.run_id).label("run_id"))
            .where(Answer.flow_id == flow_id)
            .group_by(Answer.participant_id)
            .subquery()
        )
        rows = self.session.execute(
            select(Participant.id, Participant.pseudonym, Answer.step_id, Answer.value)
            .join(newest, Answer.run_id == newest.c.run_id)
            .join(Participant, Participant.id == Answer.participant_id)
            .order_by(Participant.id, Answer.id)
        )
        records: dict[int, tuple[str, dict[str, Any]]] = {}
        for participant_id, pseudonym, step_id, value in rows:
            records.setdefault(participant_id, (pseudonym, {}))[1][step_id] = value
        return list(records.values())

    def remove_flow(self, flow_id: str) -> int:
        """Delete every answer given in the flow, by anyone (retention); how many went."""
        result = self.session.connection().execute(
            delete(_TABLE).where(_TABLE.c.flow_id == flow_id))
        return int(result.rowcount)
