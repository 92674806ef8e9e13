"""Everything kept about one person, gathered and erased, on SQLite and PostgreSQL: an
erasure leaves their votes as anonymous counts and nothing else of them but the row their
farewell goes from, which goes once the farewell is no longer waiting."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import func, select

from storage import UnitOfWork
from storage.models import (
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

MakeParticipant = Callable[..., Participant]
MakeRun = Callable[..., Run]


def count(uow: UnitOfWork, model: type, *where: object) -> int:
    return int(uow.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def someone_with_everything(uow: UnitOfWork, make_participant: MakeParticipant,
                            make_run: MakeRun, now: datetime) -> tuple[Participant, Participant]:
    """Dana answered, proposed two ideas, voted on Ben's; Ben voted on Dana's."""
    dana, ben = make_participant("dana-address"), make_participant("ben-address")
    run = make_run(dana)
    uow.answers.put(run.id, dana.id, "survey", "q1", "Dana's own words", now=now)
    uow.participants.set_profile(dana.id, {"city": "Haifa"}, now=now)
    uow.consents.ask(dana.id, "future", flow_id="survey", text_sha256="f" * 64, now=now)
    uow.consents.answer(dana.id, "future", True, now=now)
    uow.inputs.record("console", "dana-1", dana.id, now=now)
    uow.outbox.enqueue(dana.id, "console", "dana-address", {"text": "hello"}, now=now)
    uow.session.add(Notice(participant_id=dana.id, flow_id="survey", kind="nudge", key="1",
                           created_at=now))
    ideas = [uow.ideas.add("survey", "idea", who.id, text, "en", status="approved", now=now)
             for who, text in ((dana, "Dana's idea"), (dana, "Dana's second"),
                               (ben, "Ben's idea"))]
    dana_idea, _, ben_idea = ideas
    uow.votes.record_agree("survey", dana.id, ben_idea, "agree", now=now)
    uow.votes.record_agree("survey", ben.id, dana_idea, "agree", now=now)
    uow.votes.record_pair("survey", dana.id, (ben_idea, dana_idea), ben_idea, now=now)
    uow.session.flush()
    return dana, ben


def test_gather_has_answers_profile_ideas_votes_and_consents(
    uow: UnitOfWork, make_participant: MakeParticipant, make_run: MakeRun, now: datetime
) -> None:
    dana, _ = someone_with_everything(uow, make_participant, make_run, now)
    data = uow.personal.gather(dana.id)
    assert data["address"] == "dana-address" and data["profile"] == {"city": "Haifa"}
    assert [a["answer"] for r in data["runs"] for a in r["answers"]] == ["Dana's own words"]
    assert sorted(i["text"] for i in data["ideas"]) == ["Dana's idea", "Dana's second"]
    assert data["votes"] == 2
    assert [(c["kind"], bool(c["granted_at"])) for c in data["consents"]] == [("future", True)]


def test_erase_keeps_only_votes_as_anonymous_counts(
    uow: UnitOfWork, make_participant: MakeParticipant, make_run: MakeRun, now: datetime
) -> None:
    dana, ben = someone_with_everything(uow, make_participant, make_run, now)
    uow.personal.erase(dana.id, pseudonym="random-after", now=now)
    uow.session.expire_all()
    for model in (Answer, Run, Consent, Notice, OutboxMessage):
        assert count(uow, model, model.participant_id == dana.id) == 0, model
    assert count(uow, Idea, Idea.participant_id == dana.id) == 0
    assert count(uow, ProcessedInput, ProcessedInput.participant_id.is_(None)) == 1
    # Dana's vote on Ben's idea stays, anonymous; Ben's vote on Dana's idea went with it.
    assert count(uow, AgreeVote) == 1
    assert count(uow, AgreeVote, AgreeVote.participant_id.is_(None)) == 1
    assert count(uow, PairwiseVote) == 0  # it compared Dana's idea, which is gone
    kept = uow.session.get(Participant, dana.id)
    assert kept is not None and kept.erasing_at == now and kept.stopped_at == now
    assert (kept.profile, kept.pseudonym, kept.source) == ({}, "random-after", None)
    assert uow.session.get(Participant, ben.id) is not None


def test_an_erasure_finishes_once_the_farewell_is_no_longer_waiting(
    uow: UnitOfWork, make_participant: MakeParticipant, make_run: MakeRun, now: datetime
) -> None:
    dana, ben = someone_with_everything(uow, make_participant, make_run, now)
    uow.personal.erase(dana.id, pseudonym="random-after", now=now)
    farewell = uow.outbox.enqueue(dana.id, "console", "dana-address", {"text": "bye"}, now=now)
    assert uow.personal.finish_erasures([dana.id, ben.id]) == 0  # still to send
    uow.outbox.mark_sent([farewell], now=now)
    assert uow.personal.finish_erasures([ben.id]) == 0  # Ben asked for nothing
    assert uow.personal.finish_erasures([dana.id]) == 1
    uow.session.expire_all()
    assert count(uow, Participant, Participant.address == "dana-address") == 0
    assert count(uow, OutboxMessage, OutboxMessage.address == "dana-address") == 0


def test_a_stuck_erasure_is_finished_after_a_while(
    uow: UnitOfWork, make_participant: MakeParticipant, now: datetime
) -> None:
    dana = make_participant("dana-address")
    uow.personal.erase(dana.id, pseudonym="random-after", now=now)
    uow.outbox.enqueue(dana.id, "console", "dana-address", {"text": "bye"}, now=now)
    assert uow.personal.finish_erasures((), before=now) == 0
    assert uow.personal.finish_erasures((), before=now + timedelta(hours=1)) == 1


def test_data_files_are_dropped_from_the_outbox_after_their_hour(
    uow: UnitOfWork, make_participant: MakeParticipant, now: datetime
) -> None:
    dana = make_participant("dana-address")
    row = uow.outbox.enqueue(dana.id, "console", "dana-address",
                             {"text": "file", "document": "{}", "document_token": "t" * 32},
                             now=now)
    plain = uow.outbox.enqueue(dana.id, "console", "dana-address", {"text": "hi"}, now=now)
    assert uow.outbox.document(row, "t" * 32, since=now) == "{}"
    assert uow.outbox.document(row, "u" * 32, since=now) is None
    assert uow.outbox.forget_documents(before=now) == 0
    assert uow.outbox.forget_documents(before=now + timedelta(hours=1)) == 1
    assert uow.outbox.document(row, "t" * 32, since=now) is None
    uow.session.expire_all()
    payloads = dict(uow.session.execute(select(OutboxMessage.id, OutboxMessage.payload)).all())
    assert payloads == {row: {"text": "file"}, plain: {"text": "hi"}}
