"""``kolot stats``'s figures, on SQLite and PostgreSQL: the funnel of a flow counted once per
participant by their newest run, and who took part set against the flow's targets."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from itertools import count

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import Inbound
from bot.engine import Flow, load_source
from bot.registry import FlowRegistry
from bot.service import Service
from bot.stats import Breakdown, Person, Share, Stage, build_report, render_text, report
from storage import UnitOfWork
from storage.models import Participant, Run

PARK = """\
id: park
version: 1
default_language: en
languages: [en, ar]
targets:
  language: {ar: 0.4}
  age: {old: 0.5}
  circle: {north: 0.25, south: 0.1}
steps:
  - {id: welcome, type: message, text: Hello from the park team.}
  - {id: consent, type: consent, text: Do you agree?}
  - id: age
    type: choice
    text: How old are you?
    profile: age
    options: [{id: young, label: Under 40}, {id: old, label: 40 or over}]
  - {id: likes, type: yes_no, text: Do you like the park?}
  - {id: bye, type: end, text: Thank you!}
"""

VOTING = """\
id: voting
version: 1
default_language: en
steps:
  - {id: consent, type: consent, text: Agreed?}
  - {id: my_idea, type: idea, text: Your idea?}
  - {id: rank, type: vote, pool: my_idea, method: agree, text: Agree?, votes: 5}
  - {id: bye, type: end, text: Thanks!}
"""

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def make_service(
    session_factory: sessionmaker[Session],
) -> Iterator[Callable[[Flow, str], Service]]:
    ids = count()

    def make(flow: Flow, source: str) -> Service:
        registry = FlowRegistry()
        registry.add(flow, source)
        return Service(session_factory, registry, clock=lambda: NOW, rng=random.Random(1),
                       new_id=lambda: f"pseudo{next(ids):06d}")

    yield make


def talk(service: Service, flow_id: str, channel: str, address: str, *said: str,
         hint: str | None = None) -> None:
    """Start the flow (with a language hint) and say each of ``said`` in turn; ``/stop``
    and ``/restart`` are sent as those commands."""
    service.handle(Inbound(channel, address, f"{address}-0", command="start",
                           language_hint=hint), flow_id)
    for n, text in enumerate(said, 1):
        if text.startswith("/"):
            given = Inbound(channel, address, f"{address}-{n}", command=text[1:])  # type: ignore[arg-type]
        else:
            given = Inbound(channel, address, f"{address}-{n}", text=text)
        service.handle(given, flow_id)


def shares(breakdown: Breakdown) -> list[tuple[str, int, float, float | None, bool]]:
    return [(s.value, s.count, round(s.share, 3), s.target, s.short) for s in breakdown.shares]


def test_the_funnel_and_who_took_part_against_the_targets(
    session_factory: sessionmaker[Session], make_service: Callable[[Flow, str], Service]
) -> None:
    flow = load_source(PARK, "park.yaml")
    service = make_service(flow, PARK)
    talk(service, "park", "telegram", "ana", "yes", "Under 40", "yes")
    talk(service, "park", "telegram", "ben", "yes", "40 or over", "no")
    talk(service, "park", "telegram", "cai", "yes", "Under 40", "yes", hint="ar")
    # gil answers, restarts and answers again: counted once, by the newest run
    talk(service, "park", "telegram", "gil", "yes", "Under 40", "/restart", "yes",
         "40 or over", "yes")
    talk(service, "park", "whatsapp", "whatsapp:+33612345678", "yes", "Under 40", "yes")
    talk(service, "park", "whatsapp", "whatsapp:+33612345679", "no")  # declines
    talk(service, "park", "whatsapp", "whatsapp:+33612345670", "yes", "40 or over", "/stop",
         hint="ar")  # stops half-way
    with UnitOfWork(session_factory) as uow:
        dan = uow.participants.get("whatsapp", "whatsapp:+33612345678")
        fay = uow.participants.get("whatsapp", "whatsapp:+33612345670")
        assert dan is not None and fay is not None
        assert fay.stopped_at is not None
        gil = uow.participants.get("telegram", "gil")
        assert gil is not None
        assert len(uow.session.scalars(select(Run).where(Run.participant_id == gil.id)).all()) == 2
        uow.session.execute(update(Run).where(Run.participant_id == dan.id)
                            .values(circle="north", source="flyer"))
        uow.session.execute(update(Participant).where(Participant.id == fay.id)
                            .values(source="radio"))
        uow.commit()

    with UnitOfWork(session_factory) as uow:
        found = report(uow, flow)

    assert found.flow_id == "park"
    assert found.stages == (
        Stage("reached", 7),
        Stage("consented", 6),
        Stage("answered age", 6),
        Stage("answered likes", 5),
        Stage("finished", 5),
    )
    by = {b.dimension: b for b in found.breakdowns}
    assert list(by) == ["channel", "language", "source", "circle", "age"]
    assert shares(by["channel"]) == [("telegram", 4, 0.667, None, False),
                                     ("whatsapp", 2, 0.333, None, False)]
    assert shares(by["language"]) == [("en", 4, 0.667, None, False),
                                      ("ar", 2, 0.333, 0.4, True)]
    assert shares(by["source"]) == [("(none)", 4, 0.667, None, False),
                                    ("flyer", 1, 0.167, None, False),
                                    ("radio", 1, 0.167, None, False)]
    assert shares(by["circle"]) == [("(none)", 5, 0.833, None, False),
                                    ("north", 1, 0.167, 0.25, True),
                                    ("south", 0, 0.0, 0.1, True)]
    assert shares(by["age"]) == [("old", 3, 0.5, 0.5, False),  # exactly on target
                                 ("young", 3, 0.5, None, False)]

    data = found.as_json()
    assert list(data) == ["flow_id", "stages", "breakdowns"]
    assert data["stages"][0] == {"name": "reached", "count": 7}
    assert data["breakdowns"][1] == {
        "dimension": "language",
        "shares": [
            {"value": "en", "count": 4, "share": 0.667, "target": None, "short": False},
            {"value": "ar", "count": 2, "share": 0.333, "target": 0.4, "short": True},
        ],
    }

    lines = render_text(found).splitlines()
    assert lines[:8] == [
        "Flow park",
        "",
        "Funnel",
        "  reached         7  100.0%",
        "  consented       6   85.7%",
        "  answered age    6   85.7%",
        "  answered likes  5   71.4%",
        "  finished        5   71.4%",
    ]
    assert "By language (6 consented)" in lines
    assert "  ar  2   33.3%  (target 40%: short by 6.7 points)" in lines
    assert "  south   0    0.0%  (target 10%: short by 10.0 points)" in lines
    assert "  old    3   50.0%  (target 50%)" in lines
    assert "  young  3   50.0%" in lines


def test_dimensions_can_be_chosen(
    session_factory: sessionmaker[Session], make_service: Callable[[Flow, str], Service]
) -> None:
    flow = load_source(PARK, "park.yaml")
    service = make_service(flow, PARK)
    talk(service, "park", "console", "ana", "yes", "40 or over")
    with UnitOfWork(session_factory) as uow:
        found = report(uow, flow, dimensions=["age", "channel"])
    assert [b.dimension for b in found.breakdowns] == ["age", "channel"]
    assert shares(found.breakdowns[1]) == [("console", 1, 1.0, None, False)]
    assert found.stages[-3:] == (Stage("answered age", 1), Stage("answered likes", 0),
                                 Stage("finished", 0))


def test_ideas_and_votes_count_as_answers(
    session_factory: sessionmaker[Session], make_service: Callable[[Flow, str], Service]
) -> None:
    flow = load_source(VOTING, "voting.yaml")
    service = make_service(flow, VOTING)
    with UnitOfWork(session_factory) as uow:
        for text in ("Seed one idea", "Seed two idea"):
            uow.ideas.add("voting", "my_idea", None, text, "en", status="approved", now=NOW)
        uow.commit()
    talk(service, "voting", "console", "eva", "yes", "More benches in the shade", "agree",
         "pass")
    talk(service, "voting", "console", "ido", "yes", "A water fountain by the gate")
    talk(service, "voting", "console", "noa", "yes")
    with UnitOfWork(session_factory) as uow:
        found = report(uow, flow)
    assert found.stages == (
        Stage("reached", 3),
        Stage("consented", 3),
        Stage("answered my_idea", 2),
        Stage("answered rank", 1),
        Stage("finished", 1),
    )
    with UnitOfWork(session_factory) as uow:  # a pairwise vote counts too, even undecided
        noa = uow.participants.get("console", "noa")
        assert noa is not None
        seeds = [idea for idea, author in uow.ideas.visible("voting") if author is None]
        uow.votes.record_pair("voting", noa.id, (seeds[0], seeds[1]), None, now=NOW)
        uow.commit()
    with UnitOfWork(session_factory) as uow:
        assert report(uow, flow).stages[3] == Stage("answered rank", 2)


def test_an_empty_flow_lists_its_targets_as_short() -> None:
    flow = load_source(PARK, "park.yaml")
    empty = build_report(flow, [])
    assert [s.count for s in empty.stages] == [0, 0, 0, 0, 0]
    circle = next(b for b in empty.breakdowns if b.dimension == "circle")
    assert circle.shares == (Share("north", 0, 0.0, 0.25, True),
                             Share("south", 0, 0.0, 0.1, True))
    assert "  reached         0       -" in render_text(empty).splitlines()


def test_list_and_missing_profile_values() -> None:
    flow = load_source(PARK, "park.yaml")
    people = [
        Person("telegram", "en", consented=True, profile={"age": "old", "topics": ["a", "b"]}),
        Person("telegram", None, consented=True),
        Person("telegram", "en", consented=False, profile={"age": "old"}),
    ]
    found = build_report(flow, people, dimensions=["topics", "age", "language"])
    assert [shares(b) for b in found.breakdowns] == [
        [("a;b", 1, 0.5, None, False), ("(none)", 1, 0.5, None, False)],
        [("old", 1, 0.5, 0.5, False), ("(none)", 1, 0.5, None, False)],
        [("en", 1, 0.5, None, False), ("(none)", 1, 0.5, None, False),
         ("ar", 0, 0.0, 0.4, True)],
    ]
