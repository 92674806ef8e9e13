"""The admins' audit trail (see :class:`storage.models.AdminAction`): written in the same
transaction as the action, so an action and its record commit together or not at all."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import AdminAction

__all__ = ["AuditRepository"]


class AuditRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def record(self, actor: str, action: str, *, now: datetime, subject: str | None = None,
               detail: Mapping[str, Any] | None = None) -> None:
        """``actor``: ``channel:address`` of an admin in the chat, ``cli:<user>`` for a
        command line run; never a participant's address in ``subject`` or ``detail``."""
        self.session.add(AdminAction(at=now, actor=actor, action=action, subject=subject,
                                     detail=dict(detail) if detail is not None else None))
        self.session.flush()

    def recent(self, limit: int = 100) -> Sequence[AdminAction]:
        """The newest actions first."""
        return self.session.scalars(
            select(AdminAction).order_by(AdminAction.at.desc(), AdminAction.id.desc())
            .limit(limit)).all()
