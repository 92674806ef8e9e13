"""An admin closes the voting early: the results go out then, its question is no longer
asked, and its deadline reminder is not sent; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import count

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import Inbound, Outbound
from bot.closing import close_phase
from bot.engine import load_source
from bot.registry import FlowRegistry
from bot.schedule import texts
from bot.schedule.tick import Ticker
from bot.service import Service
from storage import UnitOfWork
from storage.models import OutboxMessage

SQUARE = """\
id: square
version: 1
title: The square
default_language: en
timezone: UTC
quiet_hours: {from: "00:00", to: "00:00"}
phases:
  - {id: voting, starts: "2026-03-01 09:00", ends: "2026-03-20 21:00"}
reminders:
  deadline:
    - {phase: voting, before: 24h, unless: [pick], text: Voting closes tomorrow.}
results: {after: voting}
steps:
  - {id: consent, type: consent, text: Do you agree?}
  - {id: bench, type: yes_no, text: More benches?}
  - id: pick
    type: choice
    phase: voting
    text: Which plan?
    options: [{id: a, label: Plan A}, {id: b, label: Plan B}]
  - {id: bye, type: end, text: Thanks!}
"""


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def texts_to(session_factory: sessionmaker[Session], who: str) -> list[str]:
    with session_factory() as session:
        return [Outbound.from_payload(r.payload).text for r in session.scalars(
            select(OutboxMessage).where(OutboxMessage.address == who)
            .order_by(OutboxMessage.id))]


def test_a_phase_closed_early_is_closed_for_questions_and_reminders(
    session_factory: sessionmaker[Session],
) -> None:
    registry = FlowRegistry()
    registry.add(load_source(SQUARE, "square.yaml"), SQUARE)
    now = [at("2026-03-02 10:00")]
    ids = count()
    service = Service(session_factory, registry, clock=lambda: now[0],
                      new_id=lambda: f"p{next(ids):04d}")
    ticker = Ticker(session_factory, registry, service)
    inputs = count()

    def say(who: str, text: str) -> None:
        n = next(inputs)
        if text == "/start":
            service.handle(Inbound("telegram", who, f"{who}-{n}", command="start"), "square")
        else:
            service.handle(Inbound("telegram", who, f"{who}-{n}", text=text), "square")

    for text in ("/start", "yes", "yes", "1"):  # voted
        say("ana", text)
    for text in ("/start", "yes", "no"):  # waits at the vote
        say("ben", text)
    now[0] = at("2026-03-05 12:00")
    with UnitOfWork(session_factory) as uow:
        sent = close_phase(uow, service, registry.current("square"), "voting", now[0],
                           by="admin")
        uow.commit()
    assert sent == 2
    with UnitOfWork(session_factory) as uow:
        assert close_phase(uow, service, registry.current("square"), "voting", now[0],
                           by="admin") is None

    before = len(texts_to(session_factory, "ben"))
    say("ben", "Plan A")  # the vote is closed now: not taken as an answer
    after = texts_to(session_factory, "ben")[before:]
    # Voting was the last phase: the consultation closed, on the day the admin closed it.
    assert after[0].startswith(texts.PROCESS_CLOSED.split("{")[0]), after
    assert "March 5, 2026" in after[0]
    assert "Thanks!" not in after

    now[0] = at("2026-03-20 09:00")  # when the deadline reminder would have gone
    report = ticker.tick(now[0])
    assert report.reminded == 0 and report.results == 0
    assert not any("Voting closes tomorrow." in t for t in texts_to(session_factory, "ben"))
