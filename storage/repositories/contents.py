"""WhatsApp interactive contents (Twilio Content API), created once and found by digest."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import WhatsAppContent
from storage.repositories._statements import dialect, per_dialect, table

__all__ = ["ContentRepository"]

_TABLE = table(WhatsAppContent)
_PUT = per_dialect(lambda insert: insert(_TABLE).on_conflict_do_nothing())


class ContentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, digest: str) -> str | None:
        return self.session.scalar(
            select(WhatsAppContent.sid).where(WhatsAppContent.digest == digest)
        )

    def put(self, digest: str, sid: str, *, now: datetime) -> None:
        """Remember a created content; a second sender that made the same one keeps the
        first (both are valid, one is enough)."""
        self.session.execute(_PUT[dialect(self.session)],
                             {"digest": digest, "sid": sid, "created_at": now})
