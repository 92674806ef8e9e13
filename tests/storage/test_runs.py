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
    assert current == (second.id, second.status, second.state, None, None, None)
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


def test_turn_finds_the_participant_and_their_newest_run_of_that_flow(
    uow: UnitOfWork,
    make_participant: Callable[..., Participant],
    make_run: Callable[..., Run],
) -> None:
    assert uow.runs.turn("console", "nobody", "survey") is None
    ana = make_participant("ana")
    turn = uow.runs.turn("console", "ana", "survey", held=True)
    assert turn is not None
    known, run, held = turn
    assert known[:3] == (ana.id, None, {}) and run is None and held is False
    assert (known.stopped, known.source, known.unreachable, known.erasing) == \
        (False, None, False, False)
    make_run(ana)
    newest = make_run(ana)
    make_run(ana, flow_id="other")
    make_run(make_participant("ben"))
    found = uow.runs.turn("console", "ana", "survey", lock=True)
    assert found is not None
    assert found[1] == (newest.id, "active", {"step": "q1"}, None, None, None)


def test_turn_says_whether_the_participant_has_pending_messages_on_the_channel(
    uow: UnitOfWork, make_participant: Callable[..., Participant], now: datetime
) -> None:
    ana, ben = make_participant("ana"), make_participant("ben")

    def held() -> bool:
        turn = uow.runs.turn("console", "ana", "survey", held=True)
        assert turn is not None
        return turn.held

    uow.outbox.enqueue(ben.id, "console", "ben", {"text": "for ben"}, now=now)
    uow.outbox.enqueue(ana.id, "console", "ana", {"text": "shown"}, now=now, sent=True)
    assert held() is False
    uow.outbox.enqueue(ana.id, "console", "ana", {"text": "held"}, now=now)
    assert held() is True
    turn = uow.runs.turn("console", "ana", "survey")  # not asked: not looked up
    assert turn is not None and turn.held is False
    uow.outbox.take_sent("console", "ana", now=now)
    assert held() is False
