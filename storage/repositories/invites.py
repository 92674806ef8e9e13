"""Invite codes: which flow, circle and outreach source a link or poster stands for."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Invite

__all__ = ["InviteRepository"]



class InviteRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, code: str) -> Invite | None:
        return self.session.get(Invite, code)

    def add(self, code: str, flow_id: str, source: str, circle: str | None, *,
            now: datetime) -> Invite:
        invite = Invite(code=code, flow_id=flow_id, source=source, circle=circle,
                        created_at=now)
        self.session.add(invite)
        self.session.flush()
        return invite

    def of_flow(self, flow_id: str) -> list[Invite]:
        return list(self.session.scalars(
            select(Invite).where(Invite.flow_id == flow_id).order_by(Invite.created_at)))
