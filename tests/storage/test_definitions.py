"""Flow definitions are stored once per exact text."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from storage import UnitOfWork
from storage.models import FlowDefinition

SHA_1 = "1" * 64
SHA_2 = "2" * 64


def test_ensure_is_idempotent_by_sha(uow: UnitOfWork, now: datetime) -> None:
    first = uow.definitions.ensure("survey", 1, SHA_1, "id: survey\nversion: 1\n", now=now)
    again = uow.definitions.ensure("survey", 1, SHA_1, "id: survey\nversion: 1\n", now=now)
    assert again is first and first.id is not None
    assert uow.definitions.get_by_sha(SHA_1) is first
    assert uow.definitions.by_id(first.id) is first
    assert uow.session.scalar(select(func.count()).select_from(FlowDefinition)) == 1


def test_new_text_is_a_new_definition_and_newest_is_the_highest_version(
    uow: UnitOfWork, now: datetime
) -> None:
    assert uow.definitions.newest("survey") is None
    v1 = uow.definitions.ensure("survey", 1, SHA_1, "v1", now=now)
    v2 = uow.definitions.ensure("survey", 2, SHA_2, "v2", now=now)
    assert v1.id != v2.id
    assert uow.definitions.newest("survey") is v2
    assert uow.definitions.get_by_sha("0" * 64) is None
