"""Everything stored about one participant, read for them (``/mydata``) or erased at their
request (``/delete``). One place that knows every table holding a person's data, so a new
table is added here once and both rights follow.

Erasure in two steps, because the goodbye must still reach them: :meth:`erase` removes
everything but the participant row (their address and language) and marks it
``erasing_at``; :meth:`finish_erasures` deletes that row once its farewell has left (or
failed for good). Their votes stay as anonymous counts (``participant_id`` NULL), so
published tallies do not change; their ideas are deleted, with the votes on them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from storage.models import (
    AgreeVote,
    Answer,
    Consent,
    ConsentText,
    Idea,
    Notice,
    OutboxMessage,
    PairwiseVote,
    Participant,
    ProcessedInput,
    Run,
)

__all__ = ["PersonalDataRepository"]


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


class PersonalDataRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def gather(self, participant_id: int) -> dict[str, Any]:
        """All of it, as JSON-ready values: the participant, each run with its consent (and
        the consent's exact wording) and answers, their ideas, how many votes they cast,
        and their other consents. Outbox rows (messages sent to them) are not included:
        they are our words, not their data."""
        # Repositories write with statements: what this session loaded before may be stale.
        person = self.session.get(Participant, participant_id, populate_existing=True)
        if person is None:
            return {}
        runs = self.session.scalars(
            select(Run).where(Run.participant_id == participant_id).order_by(Run.id)
            .execution_options(populate_existing=True)).all()
        answers = self.session.execute(
            select(Answer.run_id, Answer.step_id, Answer.value, Answer.answered_at)
            .where(Answer.participant_id == participant_id).order_by(Answer.id)).all()
        wording = {row.sha256: row.text for row in self.session.execute(
            select(ConsentText.sha256, ConsentText.text).where(ConsentText.sha256.in_(
                [r.consent_sha256 for r in runs if r.consent_sha256])))}
        by_run: dict[int, list[dict[str, Any]]] = {}
        for run_id, step_id, value, at in answers:
            by_run.setdefault(run_id, []).append(
                {"step": step_id, "answer": value, "answered_at": _when(at)})
        ideas = self.session.scalars(
            select(Idea).where(Idea.participant_id == participant_id).order_by(Idea.id)
            .execution_options(populate_existing=True)).all()
        votes = sum(self.session.scalar(
            select(func.count()).select_from(model).where(model.participant_id == participant_id)
        ) or 0 for model in (PairwiseVote, AgreeVote))
        consents = self.session.scalars(
            select(Consent).where(Consent.participant_id == participant_id)
            .order_by(Consent.id).execution_options(populate_existing=True)).all()
        return {
            "channel": person.channel,
            "address": person.address,
            "pseudonym": person.pseudonym,
            "language": person.language,
            "profile": dict(person.profile or {}),
            "source": person.source,
            "first_seen_at": _when(person.created_at),
            "stopped_at": _when(person.stopped_at),
            "runs": [{
                "flow": run.flow_id,
                "flow_sha256": run.state.get("flow_sha256"),
                "language": run.state.get("language"),
                "status": run.status,
                "started_at": _when(run.started_at),
                "finished_at": _when(run.finished_at),
                "consent": None if run.consent_at is None else {
                    "given_at": _when(run.consent_at),
                    "text_sha256": run.consent_sha256,
                    "text": wording.get(run.consent_sha256 or ""),
                },
                "answers": by_run.get(run.id, []),
            } for run in runs],
            "ideas": [{"flow": idea.flow_id, "step": idea.step_id, "text": idea.text,
                       "status": idea.status, "proposed_at": _when(idea.created_at)}
                      for idea in ideas],
            "votes": votes,
            "consents": [{"kind": c.kind, "flow": c.flow_id, "text_sha256": c.text_sha256,
                          "asked_at": _when(c.asked_at), "granted_at": _when(c.granted_at),
                          "revoked_at": _when(c.revoked_at)} for c in consents],
        }

    def erase(self, participant_id: int, *, pseudonym: str, now: datetime) -> None:
        """Everything but the participant row goes now; the row keeps only what the
        farewell needs (address, language, the WhatsApp window) under a new random
        ``pseudonym``, stopped, so nothing else is sent, and ``erasing_at``."""
        s, pid = self.session, participant_id
        s.execute(delete(Idea).where(Idea.participant_id == pid))
        for model in (PairwiseVote, AgreeVote):
            s.execute(update(model).where(model.participant_id == pid)
                      .values(participant_id=None))
        s.execute(update(ProcessedInput).where(ProcessedInput.participant_id == pid)
                  .values(participant_id=None))
        for table in (Answer, Run, Consent, Notice, OutboxMessage):
            s.execute(delete(table).where(table.participant_id == pid))
        s.execute(update(Participant).where(Participant.id == pid).values(
            pseudonym=pseudonym, profile={}, source=None, consent_at=None,
            consent_sha256=None, stopped_at=now, erasing_at=now, updated_at=now))

    def finish_erasures(self, participant_ids: Iterable[int], *,
                        before: datetime | None = None) -> int:
        """Delete the erasing participants among these whose farewell is no longer waiting
        (every row sent or failed), or, with ``before``, every erasure begun before then
        whatever its farewell became. Returns how many rows went."""
        unsent = select(OutboxMessage.id).where(
            OutboxMessage.participant_id == Participant.id,
            OutboxMessage.status.in_(("pending", "sending")))
        query = delete(Participant).where(Participant.erasing_at.is_not(None))
        if before is not None:
            query = query.where(Participant.erasing_at < before)
        else:
            ids = list(set(participant_ids))
            if not ids:
                return 0
            query = query.where(Participant.id.in_(ids), ~unsent.exists())
        return int(self.session.execute(query).rowcount or 0)  # type: ignore[attr-defined]

    def forget_run(self, run_id: int) -> None:
        """A run's answers, withdrawn with its consent."""
        self.session.execute(delete(Answer).where(Answer.run_id == run_id))
