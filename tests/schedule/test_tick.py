"""Time travel: a process with phases and reminders, run forward by an injected clock, on
SQLite and PostgreSQL. Who hears what, when, and only once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from itertools import count
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import Inbound, Outbound
from bot.engine import load_source
from bot.formatting import day, time_of_day
from bot.registry import FlowRegistry
from bot.schedule.tick import Ticker
from bot.service import Service
from storage import UnitOfWork
from storage.models import OutboxMessage, Participant

TOWN = """\
id: town
version: 1
title: The town square
default_language: en
timezone: Asia/Jerusalem
phases:
  - {id: ideas, starts: "2026-03-01 09:00", ends: "2026-03-10 21:00"}
  - id: voting
    starts: "2026-03-11 09:00"
    ends: "2026-03-20 21:00"
    announce: Voting is open!
    invite: pick
reminders:
  inactivity: {after: [24h, 48h], text: "Come back and finish, please."}
  deadline:
    - {phase: voting, before: 24h, unless: [pick], text: Voting closes tomorrow.}
quiet_hours: {from: "21:00", to: "08:00"}
reminders_per_day: 1
steps:
  - {id: consent, type: consent, text: Do you agree?}
  - {id: bench, type: yes_no, text: More benches?}
  - {id: why, type: text, text: Why?}
  - id: pick
    type: choice
    phase: voting
    text: Which plan?
    options: [{id: a, label: Plan A}, {id: b, label: Plan B}]
  - {id: bye, type: end, text: Thanks!}
"""


def at(text: str) -> datetime:
    """A UTC moment; Jerusalem is UTC+2 until 27 March 2026, UTC+3 after."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = at("2026-03-02 08:00")

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def town(session_factory: sessionmaker[Session]) -> tuple[Service, Ticker, Clock]:
    registry = FlowRegistry()
    registry.add(load_source(TOWN, "town.yaml"), TOWN)
    clock = Clock()
    ids = count()
    service = Service(session_factory, registry, clock=clock,
                      new_id=lambda: f"p{next(ids):06d}")
    return service, Ticker(session_factory, registry, service), clock


def say(service: Service, clock: Clock, who: str, *texts: str, when: str | None = None,
        **kw: Any) -> None:
    if when is not None:
        clock.now = at(when)
    for text in texts:
        n = next(_inputs)
        if text == "/start":
            service.handle(Inbound("telegram", who, f"{who}-{n}", command="start", **kw), "town")
        elif text == "/stop":
            service.handle(Inbound("telegram", who, f"{who}-{n}", command="stop"), "town")
        else:
            service.handle(Inbound("telegram", who, f"{who}-{n}", text=text), "town")


_inputs = count()


def inbox(session_factory: sessionmaker[Session], who: str,
          since: int = 0) -> list[tuple[str, datetime, str | None]]:
    """What was queued for ``who`` after row ``since``: text, when due, purpose."""
    with session_factory() as session:
        rows = session.scalars(
            select(OutboxMessage).where(OutboxMessage.address == who,
                                        OutboxMessage.id > since)
            .order_by(OutboxMessage.id)).all()
        return [(Outbound.from_payload(r.payload).text, r.next_attempt_at,
                 Outbound.from_payload(r.payload).purpose) for r in rows
                if r.status in ("pending", "sent", "sending")]


def last_row(session_factory: sessionmaker[Session]) -> int:
    with session_factory() as session:
        return max(session.scalars(select(OutboxMessage.id)).all(), default=0)


def test_a_question_of_a_later_phase_waits_and_is_asked_when_it_opens(
    town: tuple[Service, Ticker, Clock], session_factory: sessionmaker[Session]
) -> None:
    service, ticker, clock = town
    say(service, clock, "alice", "/start", "yes", "yes", "shade", when="2026-03-02 08:00")
    got = inbox(session_factory, "alice")
    opens = at("2026-03-11 07:00")
    assert got[-1][0] == (f"This part opens on {day(opens, 'en', 'Asia/Jerusalem')} at "
                          f"{time_of_day(opens, 'en', 'Asia/Jerusalem')}. I will write to "
                          "you then.")
    assert "Wednesday, March 11, 2026" in got[-1][0]
    assert "Which plan?" not in [text for text, _, _ in got]
    before = last_row(session_factory)
    say(service, clock, "alice", "a")  # not taken: the phase is not open
    assert inbox(session_factory, "alice", before)[0][0].startswith("This part opens on")
    say(service, clock, "bob", "/start", "yes")  # stops at the first question
    say(service, clock, "carol", "/start", "no")  # declined
    say(service, clock, "dan", "/start", "yes", "no", "no", "/stop")
    before = last_row(session_factory)

    early = ticker.tick(at("2026-03-11 06:59"))  # 08:59 in Jerusalem: not yet
    assert (early.asked, early.announced, early.events) == (0, 0, [])
    before = last_row(session_factory)
    report = ticker.tick(at("2026-03-11 07:30"))
    assert (report.asked, report.announced, report.invited) == (1, 1, 0)
    assert [t for t, _, _ in inbox(session_factory, "alice", before)] == [
        "Voting is open!", "Which plan?"]
    assert [t for t, _, _ in inbox(session_factory, "bob", before)] == ["Voting is open!"]
    assert inbox(session_factory, "carol", before) == []  # never consented
    assert inbox(session_factory, "dan", before) == []  # asked for no messages
    assert ticker.tick(at("2026-03-11 07:31")).events == []  # once
    say(service, clock, "alice", "Plan B", when="2026-03-11 08:00")
    with UnitOfWork(session_factory) as uow:
        assert dict(uow.answers.latest_by_participant("town"))["p000000"]["pick"] == "b"


def test_inactivity_nudges_back_off_and_stop_after_the_last(
    town: tuple[Service, Ticker, Clock], session_factory: sessionmaker[Session]
) -> None:
    service, ticker, clock = town
    say(service, clock, "bob", "/start", "yes", when="2026-03-02 08:00")  # 10:00 local
    say(service, clock, "alice", "/start", "yes", "yes", "shade")  # waits for voting
    before = last_row(session_factory)
    assert ticker.tick(at("2026-03-03 07:59")).nudged == 0  # 23h59m
    assert ticker.tick(at("2026-03-03 08:01")).nudged == 1
    assert ticker.tick(at("2026-03-03 08:05")).nudged == 0  # not twice
    assert [t for t, _, _ in inbox(session_factory, "bob", before)] == [
        "Come back and finish, please.", "More benches?"]
    assert all(p == "reminder" for _, _, p in inbox(session_factory, "bob", before))
    assert ticker.tick(at("2026-03-05 07:59")).nudged == 0  # 24h + 48h not yet over
    assert ticker.tick(at("2026-03-05 08:01")).nudged == 1
    for date in range(6, 10):
        assert ticker.tick(at(f"2026-03-0{date} 09:00")).nudged == 0  # at most two
    assert inbox(session_factory, "alice", before) == []  # waiting for a phase: not nudged
    # Once they answer, the count starts again from their new last activity.
    say(service, clock, "bob", "no", when="2026-03-09 10:00")
    assert ticker.tick(at("2026-03-10 10:01")).nudged == 1


def test_a_reminder_due_in_quiet_hours_goes_at_eight_local_time(
    town: tuple[Service, Ticker, Clock], session_factory: sessionmaker[Session]
) -> None:
    service, ticker, clock = town
    say(service, clock, "eve", "/start", "yes", when="2026-03-02 19:30")  # 21:30 local
    before = last_row(session_factory)
    assert ticker.tick(at("2026-03-03 19:31")).nudged == 1  # 21:31 local: quiet
    rows = inbox(session_factory, "eve", before)
    assert {due for _, due, _ in rows} == {at("2026-03-04 06:00")}  # 08:00 in Jerusalem


def test_deadline_reminders_skip_who_voted_or_stopped(
    town: tuple[Service, Ticker, Clock], session_factory: sessionmaker[Session]
) -> None:
    service, ticker, clock = town
    for who in ("alice", "bob", "cai"):
        say(service, clock, who, "/start", "yes", "yes", "shade", when="2026-03-02 08:00")
    ticker.tick(at("2026-03-11 07:30"))  # voting opens: all three are asked
    say(service, clock, "alice", "Plan A", when="2026-03-12 08:00")
    say(service, clock, "cai", "/stop")
    assert ticker.tick(at("2026-03-12 08:00")).nudged == 1  # bob, idle 24 h
    assert ticker.tick(at("2026-03-14 08:00")).nudged == 1  # and 48 h more: his last
    before = last_row(session_factory)
    early = ticker.tick(at("2026-03-19 18:59"))  # 24 h before 21:00 local: not yet
    assert (early.reminded, early.nudged) == (0, 0)
    report = ticker.tick(at("2026-03-19 19:00"))
    assert report.reminded == 1
    assert [t for t, _, _ in inbox(session_factory, "bob", before)] == [
        "Voting closes tomorrow.", "Which plan?"]
    assert inbox(session_factory, "alice", before) == []  # voted
    assert inbox(session_factory, "cai", before) == []  # stopped
    assert ticker.tick(at("2026-03-19 19:30")).reminded == 0  # once


def test_the_daily_cap_holds_a_second_reminder_back(
    town: tuple[Service, Ticker, Clock], session_factory: sessionmaker[Session]
) -> None:
    service, ticker, clock = town
    say(service, clock, "zed", "/start", "yes", "yes", "shade", when="2026-03-18 16:00")
    assert ticker.tick(at("2026-03-19 16:30")).nudged == 1  # 18:30 local: a nudge today
    before = last_row(session_factory)
    report = ticker.tick(at("2026-03-19 19:00"))  # the deadline, the same local day
    assert (report.reminded, report.capped) == (0, 1)
    assert inbox(session_factory, "zed", before) == []


def test_quiet_hours_and_phases_across_daylight_saving() -> None:
    from zoneinfo import ZoneInfo

    flow = load_source(TOWN.replace('"2026-03-11 09:00"', '"2026-03-27 09:00"')
                       .replace('"2026-03-20 21:00"', '"2026-03-30 21:00"'), "town.yaml")
    outreach = flow.outreach
    zone = ZoneInfo("Asia/Jerusalem")
    # The night the clocks go forward (27 March 2026, 02:00 -> 03:00): quiet until 08:00
    # local, which is 05:00 UTC after the change, not 06:00 as the day before.
    assert outreach.quiet.release(at("2026-03-26 20:30"), zone) == at("2026-03-27 05:00")
    assert outreach.quiet.release(at("2026-03-25 20:30"), zone) == at("2026-03-26 06:00")
    assert outreach.phase("voting").starts == at("2026-03-27 06:00")  # 09:00 local, UTC+3
    assert outreach.quiet.release(at("2026-03-27 10:00"), zone) == at("2026-03-27 10:00")
    # October: back to UTC+2.
    assert outreach.quiet.release(at("2026-10-24 19:00"), zone) == at("2026-10-25 06:00")


def test_a_weekly_quiet_span_defers_to_its_end() -> None:
    from zoneinfo import ZoneInfo

    flow = load_source(TOWN.replace('quiet_hours: {from: "21:00", to: "08:00"}',
                                    'quiet_hours: {from: "21:00", to: "08:00", also: '
                                    '[{from: "fri 16:00", to: "sat 20:00"}]}'), "town.yaml")
    zone = ZoneInfo("Asia/Jerusalem")
    friday_evening = at("2026-03-06 15:00")  # Friday 17:00 local
    assert flow.outreach.quiet.release(friday_evening, zone) == at("2026-03-07 18:00")
    saturday_night = at("2026-03-07 19:30")  # Saturday 21:30: the nightly hours follow
    assert flow.outreach.quiet.release(saturday_night, zone) == at("2026-03-08 06:00")


def test_opted_out_and_unreachable_are_never_reminded(
    town: tuple[Service, Ticker, Clock], session_factory: sessionmaker[Session]
) -> None:
    service, ticker, clock = town
    say(service, clock, "una", "/start", "yes", when="2026-03-02 08:00")
    with UnitOfWork(session_factory) as uow:
        una = uow.participants.get("telegram", "una")
        assert una is not None
        uow.participants.set_unreachable([una.id], "blocked", now=clock.now)
        uow.commit()
    before = last_row(session_factory)
    assert ticker.tick(at("2026-03-03 09:00")).nudged == 0
    assert inbox(session_factory, "una", before) == []
    with session_factory() as session:
        assert session.scalars(select(Participant.unreachable_reason)).all() == ["blocked"]


Check = Callable[[], None]
