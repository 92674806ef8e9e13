"""Participants: one row per (channel, address), a pseudonym that never changes."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from storage import UnitOfWork
from storage.models import Participant


def test_enrol_returns_the_same_participant(uow: UnitOfWork, now: datetime) -> None:
    names = iter(["first", "second"])
    made = uow.participants.enrol(
        "telegram", "42", now=now, pseudonym_factory=lambda: next(names), language="he"
    )
    again = uow.participants.enrol(
        "telegram", "42", now=now, pseudonym_factory=lambda: next(names)
    )
    assert again == made and made.language == "he" and made.profile == {}
    stored = uow.participants.get("telegram", "42")
    assert stored is not None and stored.id == made.id
    assert (stored.pseudonym, stored.language, stored.profile) == ("first", "he", {})
    assert uow.participants.by_id(made.id) is stored
    assert uow.session.scalar(select(func.count()).select_from(Participant)) == 1


def test_the_same_address_on_another_channel_is_another_participant(
    uow: UnitOfWork, now: datetime
) -> None:
    names = iter(["a", "b"])
    def pseudonym() -> str:
        return next(names)

    one = uow.participants.enrol("telegram", "42", now=now, pseudonym_factory=pseudonym)
    other = uow.participants.enrol("whatsapp", "42", now=now, pseudonym_factory=pseudonym)
    assert one.id != other.id
    assert uow.participants.get("console", "42") is None


def test_a_pseudonym_collision_draws_a_new_pseudonym(uow: UnitOfWork, now: datetime) -> None:
    uow.participants.create("console", "ana", now=now, pseudonym="taken")
    names = iter(["taken", "free"])
    uow.participants.enrol("console", "ben", now=now, pseudonym_factory=lambda: next(names))
    ben = uow.participants.get("console", "ben")
    assert ben is not None and ben.pseudonym == "free"
    assert uow.participants.get("console", "ana") is not None  # the conflict kept ana


def test_create_refuses_a_second_row_for_the_same_address(uow: UnitOfWork, now: datetime) -> None:
    uow.participants.create("console", "ana", now=now, pseudonym="p1")
    with pytest.raises(IntegrityError):
        uow.participants.create("console", "ana", now=now, pseudonym="p2")
