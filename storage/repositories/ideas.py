"""Ideas: what participants propose, and where each stands in moderation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from storage.models import Idea
from storage.repositories._statements import execute, table

__all__ = ["STATUSES", "IdeaRepository"]

STATUSES = frozenset({"pending", "approved", "rejected", "hidden", "withdrawn", "merged"})
_TABLE = table(Idea)


class IdeaRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self,
        flow_id: str,
        step_id: str,
        participant_id: int | None,
        text: str,
        language: str,
        *,
        status: str,
        now: datetime,
        reason: str | None = None,
    ) -> int:
        """A new idea; ``participant_id`` None for an organiser's seed idea."""
        if status not in STATUSES:
            raise ValueError(f"unknown idea status {status!r}")
        result = execute(
            self.session,
            insert(_TABLE),
            {
                "flow_id": flow_id,
                "step_id": step_id,
                "participant_id": participant_id,
                "text": text,
                "language": language,
                "status": status,
                "reason": reason,
                "flags": 0,
                "created_at": now,
                "updated_at": now,
            },
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def set_status(
        self, id: int, status: str, *, now: datetime, reason: str | None = None
    ) -> None:
        if status not in STATUSES:
            raise ValueError(f"unknown idea status {status!r}")
        execute(
            self.session,
            update(_TABLE).where(_TABLE.c.id == id).values(
                status=status, reason=reason, updated_at=now
            ),
            {},
        )

    def pool(self, flow_id: str, step_id: str) -> list[tuple[int, int | None, str]]:
        """``(idea id, author id, text)`` of one idea step's approved ideas, oldest first."""
        rows = self.session.execute(
            select(Idea.id, Idea.participant_id, Idea.text)
            .where(Idea.flow_id == flow_id, Idea.step_id == step_id, Idea.status == "approved")
            .order_by(Idea.id)
        )
        return [(int(i), None if p is None else int(p), str(t)) for i, p, t in rows]

    def withdraw(self, flow_id: str, step_id: str, participant_id: int, text: str,
                 *, now: datetime) -> bool:
        """The author's newest idea with this text in the step, withdrawn; False if none."""
        found = self.session.scalars(
            select(Idea.id)
            .where(Idea.flow_id == flow_id, Idea.step_id == step_id,
                   Idea.participant_id == participant_id, Idea.text == text,
                   Idea.status != "withdrawn")
            .order_by(Idea.id.desc())
            .limit(1)
        ).first()
        if found is None:
            return False
        self.set_status(found, "withdrawn", now=now)
        return True

    def texts(self, flow_id: str, step_id: str) -> list[str]:
        """Texts of the step's ideas that are or may be published (approved, pending)."""
        return list(
            self.session.scalars(
                select(Idea.text).where(
                    Idea.flow_id == flow_id,
                    Idea.step_id == step_id,
                    Idea.status.in_(("approved", "pending")),
                )
            )
        )

    def flag(self, id: int, *, hide_at: int, now: datetime) -> bool:
        """Count a voter's report; hide a shown idea at ``hide_at`` reports. True if hidden."""
        execute(
            self.session,
            update(_TABLE).where(_TABLE.c.id == id).values(flags=_TABLE.c.flags + 1),
            {},
        )
        hidden = execute(
            self.session,
            update(_TABLE)
            .where(_TABLE.c.id == id, _TABLE.c.status == "approved", _TABLE.c.flags >= hide_at)
            .values(status="hidden", reason="flagged", updated_at=now),
            {},
        )
        return bool(hidden.rowcount)

    def merge(self, id: int, into: int, *, now: datetime) -> None:
        """Fold idea ``id`` into the similar idea ``into``: only ``into`` is voted on."""
        execute(
            self.session,
            update(_TABLE).where(_TABLE.c.id == id).values(
                status="merged", reason="duplicate", merged_into=into, updated_at=now
            ),
            {},
        )

    def get(self, id: int) -> Idea | None:
        return self.session.get(Idea, id)

    def listed(self, flow_id: str, status: str | None = None) -> list[Idea]:
        query = select(Idea).where(Idea.flow_id == flow_id).order_by(Idea.id)
        if status is not None:
            query = query.where(Idea.status == status)
        return list(self.session.scalars(query))

    def visible(self, flow_id: str) -> list[tuple[int, int | None]]:
        """``(idea id, author id)`` of the approved ideas of a flow, oldest first."""
        rows = self.session.execute(
            select(Idea.id, Idea.participant_id)
            .where(Idea.flow_id == flow_id, Idea.status == "approved")
            .order_by(Idea.id)
        )
        return [(int(i), None if p is None else int(p)) for i, p in rows]

    def unlink_authors(self, flow_id: str) -> int:
        """The flow's ideas lose their authors (``participant_id`` NULL): the texts stay,
        they are the process's published outcome (retention). How many had one."""
        result = self.session.connection().execute(
            update(_TABLE)
            .where(_TABLE.c.flow_id == flow_id, _TABLE.c.participant_id.is_not(None))
            .values(participant_id=None))
        return int(result.rowcount)
