"""What the scheduler reads and writes: each participant's newest run of a flow, what they
have done, the reminders they had, and the once-only marks that keep two schedulers from
doing the same thing twice."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import delete, func, literal_column, select
from sqlalchemy.orm import Session

from storage.models import (
    AgreeVote,
    Answer,
    FlowEvent,
    Idea,
    Notice,
    PairwiseVote,
    Participant,
    Run,
)
from storage.repositories._statements import dialect, per_dialect, table

__all__ = ["Member", "OutreachRepository"]


class Member(NamedTuple):
    """A participant of a flow as the scheduler sees them: their newest run of it."""

    participant_id: int
    channel: str
    address: str
    reachable: bool
    """Neither stopped (``/stop``) nor unreachable (blocked the bot)."""
    run_id: int
    status: str
    state: dict[str, Any]
    updated_at: datetime
    finished_at: datetime | None
    circle: str | None = None
    source: str | None = None
    profile: dict[str, Any] | None = None
    """The participant's profile (what the flows' questions filled in)."""


def _ignoring(insert: Any, model: type) -> Any:
    return insert(table(model)).on_conflict_do_nothing().execution_options(
        preserve_rowcount=True
    )


_NOTICE = per_dialect(lambda insert: _ignoring(insert, Notice))
_EVENT = per_dialect(lambda insert: _ignoring(insert, FlowEvent))


def _chunks(ids: Sequence[int], size: int = 5000) -> Iterator[list[int]]:
    """Long ``IN`` lists in pieces: SQLite takes at most 32,766 parameters a statement."""
    for start in range(0, len(ids), size):
        yield list(ids[start:start + size])


class OutreachRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def members(self, flow_id: str, *, statuses: Sequence[str] | None = None,
                idle_since: datetime | None = None) -> list[Member]:
        """Everyone with a run of the flow, by their newest run; optionally only runs in
        ``statuses`` and untouched since ``idle_since``."""
        newest = (
            select(func.max(Run.id)).where(Run.flow_id == flow_id)
            .group_by(Run.participant_id).scalar_subquery()
        )
        query = (
            select(Participant.id, Participant.channel, Participant.address,
                   (Participant.stopped_at.is_(None) & Participant.unreachable_at.is_(None)),
                   Run.id, Run.status, Run.state, Run.updated_at, Run.finished_at,
                   Run.circle, Run.source, Participant.profile)
            .join(Run, Run.participant_id == Participant.id)
            .where(Run.id.in_(newest))
            .order_by(Run.id)
        )
        if statuses is not None:
            query = query.where(Run.status.in_(list(statuses)))
        if idle_since is not None:
            query = query.where(Run.updated_at <= idle_since)
        return [Member(*row) for row in self.session.execute(query).all()]

    def audience(self, flow_id: str, *, profiles: bool) -> list[Member]:
        """Everyone with a run of the flow, by their newest run, as a broadcast's audience
        needs them: of the run's state only ``consented`` and ``language`` (read by the
        database, not decoded row by row: a broadcast to 100,000 reads 100,000 states),
        and the profile only when a filter needs it."""
        newest = (
            select(func.max(Run.id)).where(Run.flow_id == flow_id)
            .group_by(Run.participant_id).scalar_subquery()
        )
        query = (
            select(Participant.id, Participant.channel, Participant.address,
                   (Participant.stopped_at.is_(None) & Participant.unreachable_at.is_(None)),
                   Run.id, Run.status, Run.state["consented"].as_boolean(),
                   Run.state["language"].as_string(), Run.updated_at, Run.finished_at,
                   Run.circle, Run.source,
                   Participant.profile if profiles else literal_column("NULL"))
            .join(Run, Run.participant_id == Participant.id)
            .where(Run.id.in_(newest))
            .order_by(Run.id)
        )
        return [Member(row[0], row[1], row[2], row[3], row[4], row[5],
                       {"consented": bool(row[6]), "language": row[7]}, row[8], row[9],
                       row[10], row[11], row[12])
                for row in self.session.execute(query)]

    def done(self, flow_id: str, steps: Iterable[str],
             participant_ids: Sequence[int] | None = None) -> set[int]:
        """Of these participants (default: all), who answered, proposed an idea at or voted
        in any of ``steps`` (a vote step counts any vote in the flow)."""
        steps = list(steps)
        if not steps or (participant_ids is not None and not participant_ids):
            return set()
        queries: list[Any] = [
            select(Answer.participant_id).where(Answer.flow_id == flow_id,
                                                Answer.step_id.in_(steps)),
            select(Idea.participant_id).where(Idea.flow_id == flow_id, Idea.step_id.in_(steps)),
            *(select(model.participant_id).where(model.flow_id == flow_id)
              for model in (PairwiseVote, AgreeVote)),
        ]
        found: set[int] = set()
        for query in queries:
            if participant_ids is None:
                found |= set(self.session.scalars(query))
                continue
            column = query.selected_columns[0]
            for ids in _chunks(participant_ids):
                found |= set(self.session.scalars(query.where(column.in_(ids))))
        return {i for i in found if i is not None}

    def notices(self, kind: str, participant_ids: Sequence[int]) -> dict[int, list[str]]:
        """The keys of ``kind`` notices each participant had."""
        found: dict[int, list[str]] = {}
        for ids in _chunks(participant_ids):
            rows = self.session.execute(
                select(Notice.participant_id, Notice.key).where(
                    Notice.kind == kind, Notice.participant_id.in_(ids)))
            for participant_id, key in rows:
                found.setdefault(participant_id, []).append(key)
        return found

    def reminded_since(self, since: datetime, participant_ids: Sequence[int]) -> dict[int, int]:
        """How many reminders each participant had since ``since`` (their day's start)."""
        counts: dict[int, int] = {}
        for ids in _chunks(participant_ids):
            rows = self.session.execute(
                select(Notice.participant_id, func.count())
                .where(Notice.kind.in_(("nudge", "deadline")), Notice.created_at >= since,
                       Notice.participant_id.in_(ids))
                .group_by(Notice.participant_id))
            counts.update((int(p), int(n)) for p, n in rows)
        return counts

    def note(self, participant_id: int, flow_id: str, kind: str, key: str, *,
             now: datetime) -> bool:
        """Record a notice once; ``False`` if it was recorded before (by anyone)."""
        result = self.session.connection().execute(
            _NOTICE[dialect(self.session)],
            {"participant_id": participant_id, "flow_id": flow_id, "kind": kind, "key": key,
             "created_at": now})
        return bool(result.rowcount == 1)

    def events(self, flow_id: str, kind: str) -> dict[str, datetime]:
        """The keys of a flow's events of ``kind`` and when each happened."""
        return {str(key): done for key, done in self.session.execute(
            select(FlowEvent.key, FlowEvent.done_at)
            .where(FlowEvent.flow_id == flow_id, FlowEvent.kind == kind))}

    def happen(self, flow_id: str, kind: str, key: str, *, now: datetime) -> bool:
        """Mark a flow's event done; ``False`` if it already was. On PostgreSQL a second
        scheduler waits here for the first to commit, then finds it done."""
        result = self.session.connection().execute(
            _EVENT[dialect(self.session)],
            {"flow_id": flow_id, "kind": kind, "key": key, "done_at": now})
        return bool(result.rowcount == 1)

    def remove_notices(self, flow_id: str) -> int:
        """Delete the flow's notices: which reminders and announcements each participant
        had (retention). How many went."""
        result = self.session.connection().execute(
            delete(Notice).where(Notice.flow_id == flow_id))
        return int(result.rowcount)
