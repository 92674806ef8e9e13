"""Timestamps come back aware and in UTC on both databases; naive ones never go in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session, sessionmaker

from storage.models import Participant
from storage.types import UTCDateTime

JERUSALEM_WINTER = timezone(timedelta(hours=2))


def make(session: Session, created: datetime, address: str = "a") -> Participant:
    person = Participant(
        channel="console", address=address, pseudonym=f"p-{address}", profile={},
        created_at=created, updated_at=created,
    )
    session.add(person)
    session.flush()
    return person


def test_aware_in_aware_utc_out(session_factory: sessionmaker[Session]) -> None:
    local = datetime(2026, 3, 1, 11, 30, 15, 123456, tzinfo=JERUSALEM_WINTER)
    with session_factory() as session:
        person_id = make(session, local).id
        session.commit()
    with session_factory() as session:
        stored = session.scalars(
            select(Participant.created_at).where(Participant.id == person_id)
        ).one()
    assert stored == local
    assert stored.tzinfo is UTC
    assert stored == datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)


def test_comparisons_in_queries_use_utc(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        make(session, datetime(2026, 3, 1, 9, 0, tzinfo=UTC), "early")
        make(session, datetime(2026, 3, 1, 12, 0, tzinfo=UTC), "late")
        cutoff = datetime(2026, 3, 1, 12, 0, tzinfo=JERUSALEM_WINTER)  # 10:00 UTC
        found = session.scalars(
            select(Participant.address).where(Participant.created_at < cutoff)
        ).all()
    assert found == ["early"]


def test_naive_datetimes_are_refused(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session, pytest.raises(StatementError) as raised:
        make(session, datetime(2026, 3, 1, 9, 0))
    assert isinstance(raised.value.orig, ValueError)
    assert "naive datetime" in str(raised.value.orig)


def test_the_type_itself_refuses_naive_and_passes_none() -> None:
    from sqlalchemy.dialects import sqlite

    kind = UTCDateTime()
    with pytest.raises(ValueError, match="naive"):
        kind.process_bind_param(datetime(2026, 1, 1), sqlite.dialect())
    assert kind.process_bind_param(None, sqlite.dialect()) is None
    assert kind.process_result_value(None, sqlite.dialect()) is None
