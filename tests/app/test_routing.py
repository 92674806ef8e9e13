"""Several flows, one bot: invite codes, circles and sources, a choice of open flows, closed
circles, and one participant in several flows, each with its own run and answers."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import count

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import Inbound, Outbound, Tap
from bot.engine import load_source
from bot.registry import FlowRegistry
from bot.service import Service
from storage import UnitOfWork
from storage.models import Answer, OutboxMessage, Participant, Run

PARKS = """\
id: parks
version: 1
title: Parks
default_language: en
steps:
  - {id: consent, type: consent, text: Parks - do you agree?}
  - {id: trees, type: yes_no, text: More trees?}
  - {id: bye, type: end, text: Bye from parks}
"""
BUSES = PARKS.replace("parks", "buses").replace("Parks", "Buses").replace(
    "trees", "lanes").replace("More trees?", "More bus lanes?")
EXPERTS = PARKS.replace("id: parks", "id: experts").replace("title: Parks",
                                                            "title: Experts\naccess: closed")
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def service(session_factory: sessionmaker[Session]) -> Service:
    registry = FlowRegistry()
    for text in (PARKS, BUSES, EXPERTS):
        registry.add(load_source(text, "flow.yaml"), text)
    ids = count()
    return Service(session_factory, registry, clock=lambda: NOW,
                   new_id=lambda: f"p{next(ids):06d}")


_keys = count()


def send(service: Service, who: str, channel: str = "telegram", **kw: object) -> list[str]:
    handled = service.handle(Inbound(channel, who, f"k{next(_keys)}", **kw), None)  # type: ignore[arg-type]
    return [m.text for m in handled.messages]


def test_a_newcomer_without_a_code_picks_one_of_the_open_flows(service: Service) -> None:
    said = send(service, "ana", command="start")
    assert said == ["Which consultation would you like to take part in?"]
    with service.session_factory() as session:
        menu = session.scalars(select(OutboxMessage)).one()
        buttons = Outbound.from_payload(menu.payload).buttons
    assert [b.label for b in buttons] == ["Buses", "Parks"]  # not Experts: a closed circle
    assert send(service, "ana", tap=Tap(menu.id, (1,))) == ["Parks - do you agree?"]
    assert send(service, "ana", text="yes") == ["More trees?"]
    # A typed number picks too.
    send(service, "ben", command="start")
    assert send(service, "ben", text="1") == ["Buses - do you agree?"]


def test_an_invite_brings_its_flow_circle_and_source(
    service: Service, session_factory: sessionmaker[Session]
) -> None:
    with UnitOfWork(session_factory) as uow:
        uow.invites.add("EXP-42ab", "experts", "ministry-mail", "economists", now=NOW)
        uow.invites.add("bus-poster", "buses", "poster-north", None, now=NOW)
        uow.commit()
    # (The experts' flow is the parks flow's text in a closed circle.)
    assert send(service, "cai", command="start", start_payload="EXP-42ab") == [
        "Parks - do you agree?"]
    send(service, "cai", text="yes")
    # The same person joins another flow with another code: a run of its own.
    assert send(service, "cai", command="start", start_payload="bus-poster") == [
        "Buses - do you agree?"]
    send(service, "cai", text="yes")
    send(service, "cai", text="no")
    with session_factory() as session:
        runs = {r.flow_id: (r.circle, r.source, r.status)
                for r in session.scalars(select(Run))}
        person = session.scalars(select(Participant)).one()
        answers = session.execute(select(Answer.flow_id, Answer.step_id, Answer.value)).all()
    assert runs == {"experts": ("economists", "ministry-mail", "active"),
                    "buses": (None, "poster-north", "finished")}
    assert person.source == "ministry-mail"  # where they first came from
    assert answers == [("buses", "lanes", False)]
    # Their next message goes on in the flow they were in last.
    assert send(service, "cai", text="hello")[0].startswith("You have already completed")


def test_a_closed_circle_admits_only_its_invitees(
    service: Service, session_factory: sessionmaker[Session]
) -> None:
    service.default_flow = "experts"
    assert send(service, "dov", command="start") == [
        "This consultation is open by invitation only. If you have an invitation link or "
        "code, use it to join."]
    with session_factory() as session:
        assert session.scalars(select(Run)).all() == []


def test_on_whatsapp_the_code_is_the_first_message(
    service: Service, session_factory: sessionmaker[Session]
) -> None:
    with UnitOfWork(session_factory) as uow:
        uow.invites.add("wa-clinic7", "buses", "clinic", "north", now=NOW)
        uow.commit()
    said = send(service, "whatsapp:+972501234567", channel="whatsapp", text="wa-clinic7")
    assert said == ["Buses - do you agree?"]
    with session_factory() as session:
        run = session.scalars(select(Run)).one()
    assert (run.circle, run.source) == ("north", "clinic")
