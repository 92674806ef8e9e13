"""bot.retention.purge on SQLite and PostgreSQL, over data written by the real service
and scheduler: nothing goes before the close plus ``retention_days``; then the flow's
runs, answers and notices go, its ideas and votes stay without their people (the
published tallies unchanged), people in another flow keep that flow's data, people with
nothing left are deleted, those who want to hear about future processes stay with an
empty profile; a dry run changes nothing and counts the same."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from retention_world import (
    ANA,
    BEN,
    CLOSE,
    DAN,
    DUE,
    EVE,
    IDEAS,
    PENDING,
    SEEDS,
    WISHES,
    World,
    build,
    texts_to,
)
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.closing import close_phase
from bot.results import agreement, approvals, ranking
from bot.retention import closed_at, known_flows, purge
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


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> World:
    return build(session_factory)


def _purge(world: World, now: datetime, **options: Any) -> Any:
    loaded = [world.registry.current(i) for i in world.registry.ids()]
    with UnitOfWork(world.factory) as uow:
        report = purge(uow, loaded, now, actor="cli:tester", **options)
        uow.commit()
    return report


def _tallies(world: World) -> tuple[Any, ...]:
    with UnitOfWork(world.factory) as uow:
        return ranking(uow, "park"), agreement(uow, "park"), approvals(uow, "park")


def _of_flow(world: World, model: Any, flow_id: str) -> int:
    with world.factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)
                                  .where(model.flow_id == flow_id)) or 0)


def _audit(world: World) -> list[AdminAction]:
    with world.factory() as session:
        return list(session.scalars(select(AdminAction).where(AdminAction.action == "purge")
                                    .order_by(AdminAction.id)))


def test_nothing_goes_before_the_close_plus_retention(world: World) -> None:
    before = world.counts()
    for now in (CLOSE, DUE - timedelta(minutes=1)):
        report = _purge(world, now)
        assert report.purged == [] and not report.removed
        assert report.waiting == [("library", datetime(2027, 6, 30, 21, 0, tzinfo=UTC)),
                                  ("park", DUE)]
    assert world.counts() == before
    assert _audit(world) == []


def test_the_flows_personal_data_goes_and_its_outcome_stays(world: World) -> None:
    tallies = _tallies(world)
    assert tallies[0] and tallies[1]  # there is something to compare
    before = world.counts()
    park_answers = _of_flow(world, Answer, "park")
    park_votes = before["pairwise_votes linked"] + before["agree_votes linked"]

    report = _purge(world, DUE)

    [done] = report.purged
    assert (done.flow_id, done.closed_at, done.due_at) == ("park", CLOSE, DUE)
    assert done.counts() == {"runs": 3, "answers": park_answers, "notices": 3, "ideas": 3,
                             "votes": park_votes, "profiles": 2, "participants": 1}
    assert park_answers == 12 and park_votes >= 9  # 3 x 2 agree, and most pairs decided
    for model in (Run, Answer, Notice):
        assert _of_flow(world, model, "park") == 0, model
    # The ideas and votes stay, without anyone: the same results as before.
    with world.factory() as session:
        ideas = session.execute(select(Idea.text, Idea.participant_id)
                                .where(Idea.flow_id == "park")).all()
        assert sorted(t for t, _ in ideas) == sorted([*IDEAS.values(), *SEEDS])
        assert {p for _, p in ideas} == {None}
        for model in (PairwiseVote, AgreeVote):
            voters = set(session.scalars(select(model.participant_id)))
            assert voters == {None}, model
    after = world.counts()
    assert after["pairwise_votes"] == before["pairwise_votes"]
    assert after["agree_votes"] == before["agree_votes"]
    assert _tallies(world) == tallies
    # The audit trail says what went, in counts.
    [row] = _audit(world)
    assert (row.actor, row.subject, row.detail) == ("cli:tester", "flow:park", done.counts())


def test_who_has_nothing_left_is_deleted_address_and_all(world: World) -> None:
    ben = world.person(BEN)
    assert ben is not None
    _purge(world, DUE)
    assert world.person(BEN) is None
    assert texts_to(world.factory, BEN) == []
    with world.factory() as session:
        for model in (Participant, OutboxMessage):
            rows = session.scalars(select(model).where(model.address.contains(BEN[-6:])))
            assert list(rows) == [], model
        for model in (Run, Answer, Consent, Notice, OutboxMessage):
            assert session.scalar(select(func.count()).select_from(model)
                                  .where(model.participant_id == ben.id)) == 0, model
        assert session.scalar(select(func.count()).select_from(ProcessedInput)
                              .where(ProcessedInput.participant_id == ben.id)) == 0


def test_future_consent_keeps_the_person_with_an_empty_profile(world: World) -> None:
    _purge(world, DUE)
    ana = world.person(ANA)
    assert ana is not None
    assert ana.profile == {}
    with world.factory() as session:
        consents = session.execute(select(Consent.kind, Consent.granted_at, Consent.revoked_at)
                                   .where(Consent.participant_id == ana.id)).all()
        assert [(kind, granted is not None, revoked) for kind, granted, revoked in consents] \
            == [("future", True, None)]
        assert session.scalar(select(func.count()).select_from(Run)
                              .where(Run.participant_id == ana.id)) == 0
    # Only the message still waiting to go is left: the ones sent to her are gone.
    assert texts_to(world.factory, ANA) == [{"status": "pending", "text": PENDING}]


def test_another_flows_data_stays_and_only_this_flows_profile_fields_go(
    world: World,
) -> None:
    dan_before, eve_before = world.person(DAN), world.person(EVE)
    assert dan_before is not None and eve_before is not None
    assert dan_before.profile == {"street": "elm", "age_band": "older", "card": True}
    library = (_of_flow(world, Run, "library"), _of_flow(world, Answer, "library"))
    assert library == (2, 4)

    _purge(world, DUE)

    dan, eve = world.person(DAN), world.person(EVE)
    assert dan is not None and eve is not None
    # The library asks the age band too: only the park's street goes.
    assert dan.profile == {"age_band": "older", "card": True}
    assert eve.profile == eve_before.profile
    assert (_of_flow(world, Run, "library"), _of_flow(world, Answer, "library")) == library
    with world.factory() as session:
        runs = session.scalars(select(Run.flow_id).where(Run.participant_id == dan.id)).all()
        assert runs == ["library"]
        # Nothing the park asked is left in any run's state.
        for state in session.scalars(select(Run.state)):
            assert not set(WISHES.values()) & set(map(str, state["answers"].values()))


def test_a_dry_run_changes_nothing_and_counts_the_same(world: World) -> None:
    before = world.counts()
    dry = _purge(world, DUE, dry_run=True)
    assert dry.dry_run
    assert world.counts() == before
    assert _audit(world) == []
    real = _purge(world, DUE)
    assert [p.counts() for p in dry.purged] == [p.counts() for p in real.purged]
    assert dry.participants == real.participants == 1


def test_a_second_purge_finds_nothing_and_writes_no_audit_row(world: World) -> None:
    _purge(world, DUE)
    after = world.counts()
    again = _purge(world, DUE + timedelta(days=1))
    assert [p.counts() for p in again.purged] == [dict.fromkeys(again.purged[0].counts(), 0)]
    assert not again.removed
    assert world.counts() == after
    assert len(_audit(world)) == 1


def test_an_admins_early_close_starts_the_retention_then(world: World) -> None:
    flow = world.registry.current("library")
    early = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)
    with UnitOfWork(world.factory) as uow:
        assert closed_at(uow, flow) == datetime(2026, 6, 30, 21, 0, tzinfo=UTC)
        close_phase(uow, world.service, flow, "open", early, by="admin")
        uow.commit()
    with UnitOfWork(world.factory) as uow:
        assert closed_at(uow, flow) == early
    due = early + timedelta(days=365)
    report = _purge(world, due - timedelta(minutes=1))
    assert [p.flow_id for p in report.purged] == ["park"]
    report = _purge(world, due)
    assert [(p.flow_id, p.runs, p.participants) for p in report.purged] == [
        ("library", 2, 2), ("park", 0, 0)]
    # dan is gone now too (nothing left anywhere); ana, who wants to hear more, stays.
    assert world.person(DAN) is None and world.person(EVE) is None
    assert world.person(ANA) is not None


def test_a_flow_whose_file_is_gone_keeps_to_its_stored_retention(world: World) -> None:
    with UnitOfWork(world.factory) as uow:
        flows, unreadable = known_flows(uow, [])  # no flow files at all
        assert [f.id for f in flows] == ["library", "park"] and unreadable == []
        report = purge(uow, flows, DUE)
        uow.commit()
    assert [(p.flow_id, p.runs) for p in report.purged] == [("park", 3)]
    assert _of_flow(world, Run, "park") == 0


def test_an_unfinished_erasure_goes_after_an_hour(world: World) -> None:
    now = CLOSE + timedelta(days=1)
    with UnitOfWork(world.factory) as uow:
        for address, ago in ((EVE, timedelta(hours=2)), (DAN, timedelta(minutes=30))):
            uow.session.execute(update(Participant).where(Participant.address == address)
                                .values(erasing_at=now - ago))
        uow.commit()
    report = _purge(world, now)
    assert report.purged == [] and report.erased == 1 and report.participants == 1
    assert world.person(EVE) is None and world.person(DAN) is not None
    [row] = _audit(world)
    assert row.subject is None and row.detail == {"erasures_finished": 1}


def test_mydata_files_leave_the_outbox_after_their_hour(world: World) -> None:
    """A copy of someone's data sent with /mydata is dropped from its outbox row once the
    platform has had its hour to fetch it; the message itself stays."""
    now = CLOSE - timedelta(days=1)  # no flow is due: only the file goes
    with UnitOfWork(world.factory) as uow:
        person = uow.participants.known("telegram", ANA)
        assert person is not None
        row = uow.outbox.enqueue(person.id, "telegram", ANA,
                                 {"text": "file", "document": '{"a": 1}',
                                  "document_token": "t" * 32}, now=now - timedelta(hours=2))
        fresh = uow.outbox.enqueue(person.id, "telegram", ANA,
                                   {"text": "file", "document": '{"a": 1}',
                                    "document_token": "u" * 32}, now=now)
        uow.commit()
    report = _purge(world, now)
    assert report.data_files == 1 and report.purged == []
    with world.factory() as session:
        payloads = dict(session.execute(select(OutboxMessage.id, OutboxMessage.payload)
                                        .where(OutboxMessage.id.in_([row, fresh]))).all())
    assert payloads[row] == {"text": "file"} and "document" in payloads[fresh]
    [audit] = _audit(world)
    assert audit.detail == {"data_files_dropped": 1}
