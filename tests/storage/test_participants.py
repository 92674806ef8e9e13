"""Participants: one row per (channel, address), a pseudonym that never changes."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from storage import UnitOfWork
from storage.models import Participant


def test_get_or_create_returns_the_same_participant(uow: UnitOfWork, now: datetime) -> None:
    names = iter(["first", "second"])
    made = uow.participants.get_or_create(
        "telegram", "42", now=now, pseudonym_factory=lambda: next(names), language="he"
    )
    again = uow.participants.get_or_create(
        "telegram", "42", now=now, pseudonym_factory=lambda: next(names)
    )
    assert again is made
    assert (made.pseudonym, made.language, made.profile) == ("first", "he", {})
    assert uow.participants.get("telegram", "42") is made
    assert uow.participants.by_id(made.id) is made
    assert uow.session.scalar(select(func.count()).select_from(Participant)) == 1


def test_the_same_address_on_another_channel_is_another_participant(
    uow: UnitOfWork, now: datetime
) -> None:
    names = iter(["a", "b"])
    def pseudonym() -> str:
        return next(names)

    one = uow.participants.get_or_create("telegram", "42", now=now, pseudonym_factory=pseudonym)
    other = uow.participants.get_or_create("whatsapp", "42", now=now, pseudonym_factory=pseudonym)
    assert one.id != other.id
    assert uow.participants.get("console", "42") is None


def test_a_pseudonym_collision_draws_a_new_pseudonym(uow: UnitOfWork, now: datetime) -> None:
    uow.participants.create("console", "ana", now=now, pseudonym="taken")
    names = iter(["taken", "free"])
    ben = uow.participants.get_or_create(
        "console", "ben", now=now, pseudonym_factory=lambda: next(names)
    )
    assert ben.pseudonym == "free"
    assert uow.participants.get("console", "ana") is not None  # the conflict kept ana


def test_create_refuses_a_second_row_for_the_same_address(uow: UnitOfWork, now: datetime) -> None:
    uow.participants.create("console", "ana", now=now, pseudonym="p1")
    with pytest.raises(IntegrityError):
        uow.participants.create("console", "ana", now=now, pseudonym="p2")
