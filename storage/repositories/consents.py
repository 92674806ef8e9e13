"""Consents beyond taking part, one row per participant and kind (see
:class:`storage.models.Consent`): asked, then given or withdrawn, as often as they like."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.models import Consent, ConsentText, Run
from storage.repositories._statements import dialect, per_dialect, table

__all__ = ["ConsentRepository"]

_KEEP_TEXT = per_dialect(lambda insert: insert(table(ConsentText)).on_conflict_do_nothing())


class ConsentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _row(self, participant_id: int, kind: str) -> Consent | None:
        return self.session.scalar(select(Consent).where(
            Consent.participant_id == participant_id, Consent.kind == kind))

    def ask(self, participant_id: int, kind: str, *, flow_id: str, text_sha256: str,
            now: datetime) -> None:
        """The question was put: an answer given before stands until a new one comes."""
        row = self._row(participant_id, kind)
        if row is None:
            self.session.add(Consent(participant_id=participant_id, kind=kind, flow_id=flow_id,
                                     text_sha256=text_sha256, asked_at=now))
        else:
            row.asked_at, row.flow_id, row.text_sha256 = now, flow_id, text_sha256
        self.session.flush()

    def answer(self, participant_id: int, kind: str, granted: bool, *, now: datetime) -> bool:
        """Record yes or no; ``False`` if they were never asked."""
        row = self._row(participant_id, kind)
        if row is None:
            return False
        if granted:
            row.granted_at, row.revoked_at = now, None
        else:
            row.revoked_at = now
        self.session.flush()
        return True

    def awaiting(self, participant_id: int, kind: str) -> bool:
        """Asked and not answered since."""
        row = self._row(participant_id, kind)
        return row is not None and all(
            at is None or at < row.asked_at for at in (row.granted_at, row.revoked_at))

    def granted(self, participant_id: int, kind: str) -> bool:
        row = self._row(participant_id, kind)
        return row is not None and row.granted_at is not None and row.revoked_at is None

    def keep_text(self, sha256: str, text: str, *, flow_id: str, language: str | None,
                  now: datetime) -> None:
        """The exact wording of a consent text, once per hash (two inputs racing to keep
        the same text keep one)."""
        self.session.execute(_KEEP_TEXT[dialect(self.session)], {
            "sha256": sha256, "text": text, "flow_id": flow_id, "language": language,
            "created_at": now})

    def text(self, sha256: str) -> str | None:
        return self.session.scalar(select(ConsentText.text).where(ConsentText.sha256 == sha256))

    def agreed_in_run(self, run_id: int, sha256: str, *, now: datetime) -> None:
        """The run's participant agreed to the consent text ``sha256`` at ``now`` (any
        changed text asked of them is answered)."""
        self.session.execute(update(Run).where(Run.id == run_id).values(
            consent_at=now, consent_sha256=sha256, consent_asked=None))

    def ask_again(self, run_id: int, sha256: str | None) -> None:
        """The flow's consent text changed since the run's participant agreed: ``sha256``
        is asked of them now (``None``: no longer waiting for an answer)."""
        self.session.execute(update(Run).where(Run.id == run_id).values(consent_asked=sha256))
