"""Ideas and pairwise votes: one vote per participant and pair, counted by the database."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

import pytest
from sqlalchemy import Engine, delete, func, select

from storage import UnitOfWork
from storage.database import make_session_factory
from storage.models import Idea, PairwiseVote, Participant


def _ideas(uow: UnitOfWork, now: datetime, n: int, flow_id: str = "park") -> list[int]:
    return [
        uow.ideas.add(flow_id, "idea", None, f"idea {i}", "he", status="approved", now=now)
        for i in range(n)
    ]


def test_a_vote_counts_once_per_pair_in_either_order(
    uow: UnitOfWork, make_participant: Callable[..., Participant], now: datetime
) -> None:
    ana, ben = make_participant("ana"), make_participant("ben")
    a, b, c = _ideas(uow, now, 3)
    assert uow.votes.record_pair("park", ana.id, (a, b), a, now=now)
    assert not uow.votes.record_pair("park", ana.id, (b, a), b, now=now)  # same pair
    assert uow.votes.record_pair("park", ben.id, (b, a), b, now=now)
    assert uow.votes.record_pair("park", ana.id, (c, a), None, now=now)  # can't decide
    assert uow.votes.record_pair("park", ben.id, (a, c), a, now=now)
    assert sorted(uow.votes.tally("park")) == sorted([(a, b, 1), (b, a, 1), (a, c, 1)])
    assert sorted(uow.votes.seen_by("park", ana.id)) == sorted([(a, b), (a, c)])
    with pytest.raises(ValueError, match="can't be won"):
        uow.votes.record_pair("park", ana.id, (b, c), a, now=now)


def test_only_approved_ideas_are_visible(
    uow: UnitOfWork, make_participant: Callable[..., Participant], now: datetime
) -> None:
    ana = make_participant("ana")
    shown = uow.ideas.add("park", "idea", ana.id, "צל", "he", status="approved", now=now)
    waiting = uow.ideas.add("park", "idea", ana.id, "ברזייה", "he", status="pending", now=now)
    uow.ideas.add("other", "idea", None, "seed", "en", status="approved", now=now)
    assert uow.ideas.visible("park") == [(shown, ana.id)]
    uow.ideas.set_status(waiting, "approved", now=now)
    uow.ideas.set_status(shown, "rejected", now=now, reason="personal_data")
    assert uow.ideas.visible("park") == [(waiting, ana.id)]
    with pytest.raises(ValueError, match="unknown idea status"):
        uow.ideas.set_status(shown, "maybe", now=now)


def test_the_same_vote_delivered_twice_at_once_is_stored_once(
    db_engine: Engine, now: datetime
) -> None:
    """Two processes insert the same tap in open transactions: the second waits for the
    first and then skips the conflict; both commit, one row."""
    if db_engine.dialect.name != "postgresql":
        pytest.skip("concurrent writers are PostgreSQL's; SQLite has a single writer")
    factory = make_session_factory(db_engine)
    with UnitOfWork(factory) as uow:
        voter = uow.participants.create("votetest", "twice", now=now, pseudonym="vote-twice")
        a, b = _ideas(uow, now, 2, flow_id="concurrency")
        uow.commit()
        voter_id = voter.id
    try:
        barrier = threading.Barrier(2, timeout=10)
        counted: list[bool] = []
        errors: list[BaseException] = []

        def deliver() -> None:
            try:
                with UnitOfWork(factory) as uow:
                    barrier.wait()
                    counted.append(uow.votes.record_pair("concurrency", voter_id, (a, b), b,
                                                         now=now))
                    uow.commit()
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=deliver) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
        assert not errors and sorted(counted) == [False, True]
        with factory() as session:
            stored = session.scalar(
                select(func.count()).select_from(PairwiseVote)
                .where(PairwiseVote.participant_id == voter_id)
            )
        assert stored == 1
    finally:
        with db_engine.begin() as connection:
            connection.execute(delete(Idea).where(Idea.flow_id == "concurrency"))
            connection.execute(delete(Participant).where(Participant.id == voter_id))


def test_decided_gives_the_raw_winner_loser_rows(
    uow: UnitOfWork, make_participant: Callable[..., Participant], now: datetime
) -> None:
    ana, ben = make_participant("ana"), make_participant("ben")
    a, b, c = _ideas(uow, now, 3)
    uow.votes.record_pair("park", ana.id, (a, b), b, now=now)
    uow.votes.record_pair("park", ben.id, (a, b), b, now=now)
    uow.votes.record_pair("park", ana.id, (b, c), None, now=now)  # a skip: not decided
    uow.votes.record_pair("park", ana.id, (c, a), c, now=now)
    assert sorted(uow.votes.decided("park")) == sorted([(b, a), (b, a), (c, a)])
    assert uow.votes.decided("elsewhere") == []


def test_a_vote_can_be_taken_back_and_cast_again(
    uow: UnitOfWork, make_participant: Callable[..., Participant], now: datetime
) -> None:
    ana = make_participant("ana")
    a, b = _ideas(uow, now, 2)
    assert uow.votes.record_pair("park", ana.id, (a, b), a, now=now)
    assert uow.votes.undo_pair("park", ana.id, (b, a))
    assert not uow.votes.undo_pair("park", ana.id, (a, b))  # nothing left to take back
    assert uow.votes.record_pair("park", ana.id, (a, b), b, now=now)
    assert uow.votes.decided("park") == [(b, a)]
