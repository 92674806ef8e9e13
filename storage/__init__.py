"""Kolot's storage: SQLAlchemy models, repositories, the unit of work and migrations.

Typical use::

    url = database_url()
    upgrade(url)
    factory = make_session_factory(make_engine(url))
    with UnitOfWork(factory) as uow:
        ...
        uow.commit()
"""

from storage.database import (
    database_url,
    make_engine,
    make_session_factory,
    upgrade,
)
from storage.models import (
    Answer,
    Base,
    FlowDefinition,
    OutboxMessage,
    Participant,
    ProcessedInput,
    Run,
)
from storage.repositories import (
    AnswerRepository,
    FlowDefinitionRepository,
    OutboxRepository,
    ParticipantRepository,
    ProcessedInputRepository,
    RunRepository,
)
from storage.unit_of_work import UnitOfWork

__all__ = [
    "Answer",
    "AnswerRepository",
    "Base",
    "FlowDefinition",
    "FlowDefinitionRepository",
    "OutboxMessage",
    "OutboxRepository",
    "Participant",
    "ParticipantRepository",
    "ProcessedInput",
    "ProcessedInputRepository",
    "Run",
    "RunRepository",
    "UnitOfWork",
    "database_url",
    "make_engine",
    "make_session_factory",
    "upgrade",
]
