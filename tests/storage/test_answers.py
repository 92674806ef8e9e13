"""Answers: one per step per run; the export takes each participant's newest answered run."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select

from storage import UnitOfWork
from storage.models import Answer, Participant, Run


def test_put_updates_the_same_step_and_remove_deletes_it(
    uow: UnitOfWork,
    make_participant: Callable[..., Participant],
    make_run: Callable[..., Run],
    now: datetime,
) -> None:
    ana = make_participant()
    run = make_run(ana)
    uow.answers.put(run.id, ana.id, "survey", "colour", "red", now=now)
    uow.answers.put(run.id, ana.id, "survey", "topics", ["a", "b"], now=now)
    later = now + timedelta(minutes=5)
    uow.answers.put(run.id, ana.id, "survey", "colour", "blue", now=later)
    assert uow.answers.for_run(run.id) == {"colour": "blue", "topics": ["a", "b"]}
    colour = uow.session.scalars(select(Answer).where(Answer.step_id == "colour")).one()
    assert colour.answered_at == later

    uow.answers.remove(run.id, "colour")
    uow.answers.remove(run.id, "never-answered")
    assert uow.answers.for_run(run.id) == {"topics": ["a", "b"]}


def test_values_keep_their_json_types(
    uow: UnitOfWork,
    make_participant: Callable[..., Participant],
    make_run: Callable[..., Run],
    now: datetime,
) -> None:
    ana = make_participant()
    run = make_run(ana)
    values = {
        "n": 12,
        "f": 2.5,
        "yes": False,
        "text": "שלום, مرحبا",
        "many": ["x"],
        "obj": {"k": 1},
    }
    for step, value in values.items():
        uow.answers.put(run.id, ana.id, "survey", step, value, now=now)
    uow.session.flush()
    uow.session.expunge_all()
    assert uow.answers.for_run(run.id) == values


def test_latest_by_participant_takes_the_newest_run_with_answers(
    uow: UnitOfWork,
    make_participant: Callable[..., Participant],
    make_run: Callable[..., Run],
    now: datetime,
) -> None:
    ana, ben = make_participant("ana"), make_participant("ben")
    old = make_run(ana)
    uow.answers.put(old.id, ana.id, "survey", "colour", "red", now=now)
    uow.answers.put(old.id, ana.id, "survey", "size", 3, now=now)
    ben_run = make_run(ben)
    uow.answers.put(ben_run.id, ben.id, "survey", "colour", "green", now=now)
    new = make_run(ana)
    uow.answers.put(new.id, ana.id, "survey", "colour", "blue", now=now)
    make_run(ana)  # restarted again, nothing answered yet: does not hide the run before
    other_flow = make_run(ben, flow_id="other")
    uow.answers.put(other_flow.id, ben.id, "other", "q", "x", now=now)

    assert uow.answers.latest_by_participant("survey") == [
        (ana.pseudonym, {"colour": "blue"}),
        (ben.pseudonym, {"colour": "green"}),
    ]
    assert uow.answers.latest_by_participant("other") == [(ben.pseudonym, {"q": "x"})]
    assert uow.answers.latest_by_participant("nobody-answered") == []
