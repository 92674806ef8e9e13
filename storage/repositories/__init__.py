"""One repository per table. Each takes a Session and never commits: the caller's unit of
work decides when a whole input's changes become visible, together."""

from storage.repositories.answers import AnswerRepository
from storage.repositories.audit import AuditRepository
from storage.repositories.broadcasts import BroadcastRepository
from storage.repositories.consents import ConsentRepository
from storage.repositories.contents import ContentRepository
from storage.repositories.definitions import FlowDefinitionRepository
from storage.repositories.ideas import IdeaRepository
from storage.repositories.inputs import ProcessedInputRepository
from storage.repositories.invites import InviteRepository
from storage.repositories.outbox import OutboxRepository
from storage.repositories.outreach import OutreachRepository
from storage.repositories.participants import ParticipantRepository
from storage.repositories.personal import PersonalDataRepository
from storage.repositories.runs import RunRepository
from storage.repositories.votes import VoteRepository

__all__ = [
    "AnswerRepository",
    "AuditRepository",
    "BroadcastRepository",
    "ConsentRepository",
    "ContentRepository",
    "FlowDefinitionRepository",
    "IdeaRepository",
    "InviteRepository",
    "OutboxRepository",
    "OutreachRepository",
    "ParticipantRepository",
    "PersonalDataRepository",
    "ProcessedInputRepository",
    "RunRepository",
    "VoteRepository",
]
