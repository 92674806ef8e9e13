"""The one place that commits: a transaction around everything one input changes.

Repositories only add and flush; ``commit()`` makes the state, answers, processed-input
key and outbox rows visible together. Leaving the block without committing, or with an
exception, rolls back, so a half-handled input leaves no trace.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.orm import Session, sessionmaker

from storage.repositories import (
    AnswerRepository,
    AuditRepository,
    BroadcastRepository,
    ConsentRepository,
    ContentRepository,
    FlowDefinitionRepository,
    IdeaRepository,
    InviteRepository,
    OutboxRepository,
    OutreachRepository,
    ParticipantRepository,
    PersonalDataRepository,
    ProcessedInputRepository,
    RunRepository,
    VoteRepository,
)

__all__ = ["UnitOfWork"]


class UnitOfWork:
    session: Session
    participants: ParticipantRepository
    definitions: FlowDefinitionRepository
    runs: RunRepository
    answers: AnswerRepository
    inputs: ProcessedInputRepository
    outbox: OutboxRepository
    ideas: IdeaRepository
    votes: VoteRepository
    contents: ContentRepository
    outreach: OutreachRepository
    invites: InviteRepository
    broadcasts: BroadcastRepository
    consents: ConsentRepository
    audit: AuditRepository
    personal: PersonalDataRepository

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory

    def __enter__(self) -> Self:
        session = self.session = self.session_factory()
        self.participants = ParticipantRepository(session)
        self.definitions = FlowDefinitionRepository(session)
        self.runs = RunRepository(session)
        self.answers = AnswerRepository(session)
        self.inputs = ProcessedInputRepository(session)
        self.outbox = OutboxRepository(session)
        self.ideas = IdeaRepository(session)
        self.votes = VoteRepository(session)
        self.contents = ContentRepository(session)
        self.outreach = OutreachRepository(session)
        self.invites = InviteRepository(session)
        self.broadcasts = BroadcastRepository(session)
        self.consents = ConsentRepository(session)
        self.audit = AuditRepository(session)
        self.personal = PersonalDataRepository(session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            self.session.rollback()  # a no-op after commit(); discards anything uncommitted
        finally:
            self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()
