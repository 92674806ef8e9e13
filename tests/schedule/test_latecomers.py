"""Someone who comes after a phase ended takes part in the phase open now: the ended
phase's question is passed by, not waited at; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import count

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import Inbound, Outbound
from bot.engine import load_source
from bot.registry import FlowRegistry
from bot.schedule import texts
from bot.service import Service
from storage.models import OutboxMessage, Participant, Run

GARDEN = """\
id: garden
version: 1
title: The garden
default_language: en
languages: [en, he]
timezone: UTC
quiet_hours: {from: "00:00", to: "00:00"}
phases:
  - {id: ideas, starts: "2026-03-01 09:00", ends: "2026-03-10 21:00"}
  - {id: voting, starts: "2026-03-11 09:00", ends: "2026-03-20 21:00"}
steps:
  - {id: consent, type: consent, text: Do you agree?}
  - {id: wish, type: text, text: What would you plant?, phase: ideas}
  - id: pick
    type: choice
    phase: voting
    text: Which plan?
    options: [{id: a, label: Plan A}, {id: b, label: Plan B}]
  - {id: bye, type: end, text: Thanks!}
"""


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_a_question_of_an_ended_phase_is_passed_by(
    session_factory: sessionmaker[Session],
) -> None:
    registry = FlowRegistry()
    registry.add(load_source(GARDEN, "garden.yaml"), GARDEN)
    now = [at("2026-03-10 20:00")]
    ids = count()
    service = Service(session_factory, registry, clock=lambda: now[0],
                      new_id=lambda: f"g{next(ids):04d}")
    inputs = count()

    def say(who: str, text: str, language: str = "en") -> list[str]:
        with session_factory() as session:
            last = max(session.scalars(select(OutboxMessage.id)).all(), default=0)
        n = next(inputs)
        command = "start" if text == "/start" else None
        service.handle(Inbound("telegram", who, f"{who}-{n}", text=None if command else text,
                               command=command, language_hint=language), "garden")
        with session_factory() as session:
            return [Outbound.from_payload(r.payload).text for r in session.scalars(
                select(OutboxMessage).where(OutboxMessage.address == who,
                                            OutboxMessage.id > last)
                .order_by(OutboxMessage.id))]

    def step_of(who: str) -> str | None:
        with session_factory() as session:
            run = session.scalars(
                select(Run).join(Participant, Participant.id == Run.participant_id)
                .where(Participant.address == who).order_by(Run.id.desc())).first()
            assert run is not None
            return run.state.get("step")

    # Dana reaches the wish question an hour before the ideas phase ends, and waits.
    say("dana", "/start")
    assert any("What would you plant?" in t for t in say("dana", "yes"))
    # The ideas phase ended; voting opened. Ben comes late: after consent, the vote.
    now[0] = at("2026-03-12 10:00")
    say("ben", "/start", "he")
    asked = say("ben", "כן", "he")
    assert not any("What would you plant?" in t for t in asked), asked
    assert any("Which plan?" in t for t in asked), asked
    assert step_of("ben") == "pick"
    # Dana writes again: her unanswered question's phase is over, so she goes on to the
    # vote (what she wrote answers nothing), and can vote.
    moved = say("dana", "Roses")
    assert any("Which plan?" in t for t in moved), moved
    assert not any(t.startswith(texts.PHASE_OVER.split("{")[0]) for t in moved), moved
    assert step_of("dana") == "pick"
    assert any("Thanks!" in t for t in say("dana", "1"))

