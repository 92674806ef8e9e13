"""Runs: the newest one is current, and ending one stamps when."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from storage import UnitOfWork
from storage.models import Participant, Run


def test_current_is_the_newest_run_of_that_flow(
    uow: UnitOfWork, make_participant: Callable[..., Participant], make_run: Callable[..., Run]
) -> None:
    ana = make_participant()
    assert uow.runs.current(ana.id, "survey") is None
    first = make_run(ana)
    second = make_run(ana)
    make_run(ana, flow_id="other")
    current = uow.runs.current(ana.id, "survey")
    assert current == (second.id, second.status, second.state, None)
    assert uow.runs.current(ana.id, "survey", lock=True) == current
    assert uow.runs.by_id(first.id) is first


def test_save_stamps_finished_at_once_when_the_run_ends(
    uow: UnitOfWork,
    make_participant: Callable[..., Participant],
    make_run: Callable[..., Run],
    now: datetime,
) -> None:
    run = make_run(make_participant())
    later, latest = now + timedelta(minutes=1), now + timedelta(minutes=2)
    uow.runs.save(run, {"step": "q2"}, "active", now=later)
    assert (run.state, run.updated_at, run.finished_at) == ({"step": "q2"}, later, None)
    uow.runs.save(run, {"step": None}, "finished", now=later)
    uow.runs.save(run, {"step": None}, "finished", now=latest)
    assert (run.finished_at, run.updated_at) == (later, latest)


def test_abandoning_a_run_does_not_mark_it_finished(
    uow: UnitOfWork,
    make_participant: Callable[..., Participant],
    make_run: Callable[..., Run],
    now: datetime,
) -> None:
    run = make_run(make_participant())
    uow.runs.save(run, run.state, "abandoned", now=now)
    uow.session.flush()
    uow.session.expire(run)
    assert (run.status, run.finished_at) == ("abandoned", None)


def test_state_round_trips_as_json(
    uow: UnitOfWork,
    make_participant: Callable[..., Participant],
    make_run: Callable[..., Run],
    now: datetime,
) -> None:
    run = make_run(make_participant())
    state = {"answers": {"name": "דנה", "topics": ["a", "b"], "n": 3.5, "ok": True}, "step": None}
    uow.runs.save(run, state, "finished", now=now)
    uow.session.flush()
    uow.session.expire(run)
    assert run.state == state


def test_saving_the_current_run_row_writes_state_and_stamps_the_end(
    uow: UnitOfWork,
    make_participant: Callable[..., Participant],
    make_run: Callable[..., Run],
    now: datetime,
) -> None:
    ana = make_participant()
    run = make_run(ana)
    current = uow.runs.current(ana.id, "survey", lock=True)
    assert current is not None and current.id == run.id
    uow.runs.save(current, {"step": None, "answers": {"q": "שלום"}}, "finished", now=now)
    uow.session.expire(run)
    assert (run.state, run.status, run.finished_at, run.updated_at) == (
        {"step": None, "answers": {"q": "שלום"}},
        "finished",
        now,
        now,
    )
    again = uow.runs.current(ana.id, "survey")
    assert again is not None and again.finished_at == now


def test_at_address_finds_the_participant_and_their_newest_run_of_that_flow(
    uow: UnitOfWork,
    make_participant: Callable[..., Participant],
    make_run: Callable[..., Run],
) -> None:
    assert uow.runs.at_address("console", "nobody", "survey") is None
    ana = make_participant("ana")
    known, run = uow.runs.at_address("console", "ana", "survey") or (None, "missing")
    assert known == (ana.id, None, {}) and run is None
    make_run(ana)
    newest = make_run(ana)
    make_run(ana, flow_id="other")
    make_run(make_participant("ben"))
    found = uow.runs.at_address("console", "ana", "survey", lock=True)
    assert found is not None
    assert found[1] == (newest.id, "active", {"step": "q1"}, None)
