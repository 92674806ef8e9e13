"""Stored flow definitions, keyed by the SHA-256 of the file text."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import FlowDefinition

__all__ = ["FlowDefinitionRepository"]


class FlowDefinitionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get_by_sha(self, sha256: str) -> FlowDefinition | None:
        return self.session.scalars(
            select(FlowDefinition).where(FlowDefinition.sha256 == sha256)
        ).one_or_none()

    def by_id(self, id: int) -> FlowDefinition | None:
        return self.session.get(FlowDefinition, id)

    def newest(self, flow_id: str) -> FlowDefinition | None:
        """The highest version stored for ``flow_id`` (the latest stored if versions tie)."""
        return self.session.scalars(
            select(FlowDefinition)
            .where(FlowDefinition.flow_id == flow_id)
            .order_by(FlowDefinition.version.desc(), FlowDefinition.id.desc())
            .limit(1)
        ).first()

    def flow_ids(self) -> list[str]:
        return sorted(set(self.session.scalars(select(FlowDefinition.flow_id))))

    def ensure(
        self, flow_id: str, version: int, sha256: str, source: str, *, now: datetime
    ) -> FlowDefinition:
        """The row for this exact text, inserted the first time any process loads it.

        Several processes load the same file at deploy time; the insert runs in a
        savepoint so the ones that lose the race read the winner's row.
        """
        existing = self.get_by_sha(sha256)
        if existing is not None:
            return existing
        row = FlowDefinition(
            flow_id=flow_id, version=version, sha256=sha256, source=source, created_at=now
        )
        try:
            with self.session.begin_nested():
                self.session.add(row)
        except IntegrityError:
            existing = self.get_by_sha(sha256)
            if existing is None:
                raise
            return existing
        return row
