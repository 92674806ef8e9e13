"""The unit of work commits only when told; anything else is rolled back."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from storage import UnitOfWork
from storage.database import make_session_factory


def test_commit_makes_the_changes_visible(
    session_factory: sessionmaker[Session], now: datetime
) -> None:
    with UnitOfWork(session_factory) as uow:
        created = uow.participants.create("console", "ana", now=now, pseudonym="p-ana")
        uow.commit()
    assert created.pseudonym == "p-ana"  # still readable after commit and close
    with UnitOfWork(session_factory) as uow:
        assert uow.participants.get("console", "ana") is not None


def test_leaving_without_commit_rolls_back(
    session_factory: sessionmaker[Session], now: datetime
) -> None:
    with UnitOfWork(session_factory) as uow:
        uow.participants.create("console", "ana", now=now, pseudonym="p-ana")
    with UnitOfWork(session_factory) as uow:
        assert uow.participants.get("console", "ana") is None


def test_an_exception_rolls_back_everything_since_the_last_commit(
    session_factory: sessionmaker[Session], now: datetime
) -> None:
    with pytest.raises(RuntimeError), UnitOfWork(session_factory) as uow:
        kept = uow.participants.create("console", "kept", now=now, pseudonym="p-kept")
        uow.commit()
        uow.participants.create("console", "lost", now=now, pseudonym="p-lost")
        uow.outbox.enqueue(kept.id, "console", "kept", {"text": "lost too"}, now=now)
        raise RuntimeError("the engine failed half-way")
    with UnitOfWork(session_factory) as uow:
        assert uow.participants.get("console", "kept") is not None
        assert uow.participants.get("console", "lost") is None
        assert uow.outbox.pending_count() == 0


def test_explicit_rollback_discards_and_the_unit_stays_usable(
    session_factory: sessionmaker[Session], now: datetime
) -> None:
    with UnitOfWork(session_factory) as uow:
        uow.participants.create("console", "ana", now=now, pseudonym="p-ana")
        uow.rollback()
        uow.participants.create("console", "ben", now=now, pseudonym="p-ben")
        uow.commit()
    with UnitOfWork(session_factory) as uow:
        assert uow.participants.get("console", "ana") is None
        assert uow.participants.get("console", "ben") is not None


def test_commits_inside_the_test_transaction_do_not_outlive_it(
    db_engine: Engine, now: datetime
) -> None:
    """The ``session_factory`` fixture's pattern, checked on each database by hand."""
    with db_engine.connect() as connection:
        outer = connection.begin()
        factory = sessionmaker(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        with UnitOfWork(factory) as uow:
            uow.participants.create("console", "ghost", now=now, pseudonym="p-ghost")
            uow.commit()
        with UnitOfWork(factory) as uow:
            assert uow.participants.get("console", "ghost") is not None
        outer.rollback()
    with UnitOfWork(make_session_factory(db_engine)) as uow:
        assert uow.participants.get("console", "ghost") is None
