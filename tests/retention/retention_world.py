"""What the retention tests share: two flows and a few people driven through the real
Service and scheduler (a module of its own: test modules can't import a ``conftest``).

``park`` keeps its data 30 days after it closes on 2026-03-20 21:00 (UTC); ``library``
keeps it a year after 2026-06-30. In ``park``: ana (says yes to future consultations),
ben (says no) and dan propose ideas, compare pairs and agree or disagree; the scheduler
sends them a deadline reminder (a notice each) and the results. dan and eve also take
part in ``library``, which asks the age band again, and whether they have a card.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import Inbound, Outbound
from bot.engine import load_source
from bot.registry import FlowRegistry
from bot.schedule.tick import Ticker
from bot.service import Handled, Service
from storage import UnitOfWork
from storage.models import (
    AdminAction,
    AgreeVote,
    Answer,
    Consent,
    Idea,
    Notice,
    OutboxMessage,
    PairwiseVote,
    Participant,
    ProcessedInput,
    Run,
)

PARK = """\
id: park
version: 1
title: The park
default_language: en
timezone: UTC
quiet_hours: {from: "00:00", to: "00:00"}
retention_days: 30
phases:
  - {id: talk, starts: "2026-03-01 09:00", ends: "2026-03-20 21:00"}
reminders:
  deadline:
    - {phase: talk, before: 24h, text: Closing tomorrow.}
results: {after: talk, publish: [age]}
steps:
  - {id: consent, type: consent, text: Do you agree?}
  - id: street
    type: choice
    text: Which street?
    profile: street
    options: [{id: oak, label: Oak}, {id: elm, label: Elm}]
  - id: age
    type: choice
    text: How old are you?
    profile: age_band
    options: [{id: young, label: Under 40}, {id: older, label: 40 or over}]
  - {id: wish, type: text, text: What do you wish for?}
  - {id: idea, type: idea, text: Your idea?}
  - {id: rank, type: vote, pool: idea, text: Which is better?, votes: 2}
  - {id: view, type: vote, pool: idea, method: agree, text: Do you agree?, votes: 2}
  - {id: bye, type: end, text: Thanks!}
"""
LIBRARY = """\
id: library
version: 1
title: The library
default_language: en
timezone: UTC
retention_days: 365
phases:
  - {id: open, starts: "2026-03-01 09:00", ends: "2026-06-30 21:00"}
steps:
  - {id: consent, type: consent, text: Do you agree?}
  - id: age
    type: choice
    text: How old are you?
    profile: age_band
    options: [{id: young, label: Under 40}, {id: older, label: 40 or over}]
  - {id: card, type: yes_no, text: Do you have a card?, profile: card}
  - {id: bye, type: end, text: See you there!}
"""
START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
CLOSE = datetime(2026, 3, 20, 21, 0, tzinfo=UTC)
DUE = CLOSE + timedelta(days=30)
ANA, BEN, DAN, EVE = "700100201", "700100202", "700100203", "700100204"
"""Telegram chat ids: what must not be left anywhere once a person is deleted."""
IDEAS = {ANA: "A fountain by the gate", BEN: "Swings for the small ones",
         DAN: "Night lights on the paths"}
WISHES = {ANA: "more shade near the benches", BEN: "a quiet corner", DAN: "a dog run"}
SEEDS = ("Seed: more benches", "Seed: plant trees")
PENDING = "A new consultation opens next month."
"""A message still waiting to be sent to ana when the purge runs."""
TABLES = (Participant, Run, Answer, Notice, Idea, PairwiseVote, AgreeVote, OutboxMessage,
          Consent, ProcessedInput, AdminAction)


@dataclass
class World:
    factory: sessionmaker[Session]
    registry: FlowRegistry
    service: Service
    ticker: Ticker
    now: list[datetime] = field(default_factory=lambda: [START])
    _inputs: Callable[[], int] = field(default_factory=lambda: count().__next__)

    def say(self, who: str, text: str, flow: str = "park") -> Handled:
        n = self._inputs()
        command = text[1:] if text.startswith("/") else None
        inbound = Inbound("telegram", who, f"{who}-{n}", text=None if command else text,
                          command=command)
        return self.service.handle(inbound, flow)

    def person(self, address: str) -> Participant | None:
        with self.factory() as session:
            return session.scalar(select(Participant).where(Participant.address == address))

    def counts(self) -> dict[str, int]:
        """Rows per table, and the rows of each table still linked to a person."""
        with self.factory() as session:
            found = {model.__tablename__: int(session.scalar(
                select(func.count()).select_from(model)) or 0) for model in TABLES}
            for model in (Idea, PairwiseVote, AgreeVote, ProcessedInput):
                found[f"{model.__tablename__} linked"] = int(session.scalar(
                    select(func.count()).select_from(model)
                    .where(model.participant_id.is_not(None))) or 0)
            return found


def flows() -> FlowRegistry:
    registry = FlowRegistry()
    for text, name in ((PARK, "park.yaml"), (LIBRARY, "library.yaml")):
        registry.add(load_source(text, name), text)
    return registry


def build(factory: sessionmaker[Session], registry: FlowRegistry | None = None) -> World:
    """Everyone through their flows, the deadline reminder and the results sent, the
    future-consultations question answered; every message sent but one to ana."""
    registry = registry or flows()
    now = [START]
    ids = count()
    service = Service(factory, registry, clock=lambda: now[0], rng=random.Random(5),
                      new_id=lambda: f"p{next(ids):04d}")
    world = World(factory, registry, service, Ticker(factory, registry, service), now)
    with UnitOfWork(factory) as uow:
        for text in SEEDS:
            uow.ideas.add("park", "idea", None, text, "en", status="approved", now=START)
        uow.commit()
    for who, street, age in ((ANA, "1", "2"), (BEN, "2", "1"), (DAN, "2", "2")):
        for text in ("/start", "yes", street, age, WISHES[who], IDEAS[who]):
            handled = world.say(who, text)
        for text in ("a", "b", "no", "1", "2", "no"):  # two pairs, then two ideas
            handled = world.say(who, text)
        assert handled.run_status == "finished", [m.text for m in handled.messages]
    for who in (DAN, EVE):
        for text in ("/start", "yes", "2", "yes"):
            handled = world.say(who, text, "library")
        assert handled.run_status == "finished", [m.text for m in handled.messages]
    now[0] = CLOSE - timedelta(hours=12)
    assert world.ticker.tick(now[0]).reminded == 3
    now[0] = CLOSE + timedelta(minutes=5)
    assert world.ticker.tick(now[0]).results == 3
    assert "let you know" in world.say(ANA, "yes").messages[-1].text
    assert "will not write" in world.say(BEN, "no").messages[-1].text
    with UnitOfWork(factory) as uow:
        uow.session.execute(update(OutboxMessage).values(status="sent", sent_at=now[0]))
        ana = uow.participants.get("telegram", ANA)
        assert ana is not None
        uow.outbox.enqueue(ana.id, "telegram", ANA, Outbound(PENDING).to_payload(),
                           now=now[0])
        uow.commit()
    return world


def texts_to(factory: sessionmaker[Session], address: str) -> list[dict[str, Any]]:
    """The outbox rows written to an address, with their status."""
    with factory() as session:
        return [{"status": row.status, "text": Outbound.from_payload(row.payload).text}
                for row in session.scalars(select(OutboxMessage)
                                           .where(OutboxMessage.address == address)
                                           .order_by(OutboxMessage.id))]
