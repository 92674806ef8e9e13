"""The scheduler purges once a day (the first pass of each UTC day, whoever ticks), and
its log says counts, never who: on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from retention_world import ANA, BEN, DAN, DUE, IDEAS, WISHES, World, build
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.schedule.tick import Ticker
from storage.models import AdminAction, Run


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> World:
    return build(session_factory)


def _park_runs(world: World) -> int:
    with world.factory() as session:
        return int(session.scalar(select(func.count()).select_from(Run)
                                  .where(Run.flow_id == "park")) or 0)


def test_the_first_pass_of_the_day_purges_and_logs_counts_only(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    before_due = world.ticker.tick(DUE - timedelta(hours=1))
    assert before_due.purged is not None and before_due.purged.purged == []
    assert _park_runs(world) == 3

    # Same day, later, after the due time: the day's purge was made already.
    later_that_day = DUE.replace(hour=23, minute=30)
    assert later_that_day.date() == DUE.date()
    assert world.ticker.tick(later_that_day).purged is None
    assert _park_runs(world) == 3

    with caplog.at_level(logging.INFO):
        report = world.ticker.tick(DUE + timedelta(days=1))
    assert report.purged is not None
    [done] = report.purged.purged
    assert done.runs == 3 and done.participants == 1
    assert _park_runs(world) == 0
    assert any(e.startswith("park: purged 3 runs") for e in report.events), report.events
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "purge: park: 3 runs" in logged, logged
    for secret in (ANA, BEN, DAN, *IDEAS.values(), *WISHES.values()):
        assert secret not in logged
    with world.factory() as session:
        actors = session.scalars(select(AdminAction.actor)
                                 .where(AdminAction.action == "purge")).all()
    assert actors == ["scheduler"]


def test_two_schedulers_purge_once_a_day(world: World) -> None:
    other = Ticker(world.factory, world.registry, world.service)
    day = DUE + timedelta(hours=1)
    first = world.ticker.tick(day)
    second = other.tick(day + timedelta(minutes=1))
    assert first.purged is not None and [p.runs for p in first.purged.purged] == [3]
    assert second.purged is None
