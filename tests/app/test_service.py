"""The service's promises, on SQLite and PostgreSQL: one transaction per input, applied once,
nothing stored before consent, runs pinned to the definition they started on."""

from __future__ import annotations

import hashlib
import random
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import Inbound, Outbound
from bot.channels.console import ConsoleConversation
from bot.engine import FlowError, load_source
from bot.engine.loader import load_stored
from bot.outbox import drain
from bot.registry import FlowRegistry
from bot.results import approvals
from bot.service import Handled, Service
from storage import UnitOfWork
from storage.database import make_engine, make_session_factory, upgrade
from storage.models import AgreeVote, Answer, Idea, OutboxMessage, Participant, Run

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "flows" / "examples" / "civil-service-women.yaml"

FLOW_V1 = """\
id: pinned
version: 1
default_language: en
steps:
  - {id: consent, type: consent, text: Do you agree?}
  - id: colour
    type: choice
    text: Pick a colour
    options: [{id: red, label: Red}, {id: blue, label: Blue}]
  - {id: size, type: number, text: How big?}
  - {id: bye, type: end, text: Bye from version 1}
"""
FLOW_V2 = FLOW_V1.replace("version: 1", "version: 2").replace(
    "Bye from version 1", "Bye from version 2"
).replace("  - {id: size", "  - {id: extra, type: yes_no, text: New question?}\n  - {id: size")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_service(
    session_factory: sessionmaker[Session], clock: Clock
) -> Iterator[Callable[[FlowRegistry], Service]]:
    ids = count()
    yield lambda registry: Service(session_factory, registry, clock=clock,
                                   new_id=lambda: f"pseudo{next(ids):06d}")


def inbound(address: str, n: int, text: str | None = None, **kw: object) -> Inbound:
    return Inbound("console", address, f"{address}-{n}", text=text, **kw)  # type: ignore[arg-type]


def rows(session_factory: sessionmaker[Session], model: type) -> int:
    with session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_redelivered_input_changes_nothing(
    session_factory: sessionmaker[Session], make_service: Callable[[FlowRegistry], Service]
) -> None:
    registry = FlowRegistry()
    registry.add_file(EXAMPLE)
    service = make_service(registry)
    service.handle(inbound("ana", 0, command="start"), "civil-service-women")
    service.handle(inbound("ana", 1, "yes"), "civil-service-women")
    first = service.handle(inbound("ana", 2, "2"), "civil-service-women")
    assert not first.duplicate
    before = (rows(session_factory, OutboxMessage), rows(session_factory, Answer))

    again = service.handle(inbound("ana", 2, "3"), "civil-service-women")
    assert again.duplicate and not again.messages
    assert (rows(session_factory, OutboxMessage), rows(session_factory, Answer)) == before
    with UnitOfWork(session_factory) as uow:
        assert [a for _, a in uow.answers.latest_by_participant("civil-service-women")] == [
            {"sector": "business"}
        ]


def test_nothing_is_stored_before_consent(
    session_factory: sessionmaker[Session], make_service: Callable[[FlowRegistry], Service]
) -> None:
    registry = FlowRegistry()
    registry.add_file(EXAMPLE)
    service = make_service(registry)
    service.handle(inbound("ben", 0, "hello there"), "civil-service-women")
    declined = service.handle(inbound("ben", 1, "no"), "civil-service-women")
    assert declined.run_status == "declined"
    assert "Nothing you wrote has been stored" in declined.messages[-1].text
    later = service.handle(inbound("ben", 2, "1"), "civil-service-women")
    assert later.run_status == "declined"
    assert rows(session_factory, Answer) == 0
    with session_factory() as session:
        person = session.scalars(select(Participant)).one()
        assert person.consent_at is None and person.profile == {}
        assert session.scalars(select(Run)).one().status == "declined"


def test_consent_is_recorded_with_time_and_text_hash(
    session_factory: sessionmaker[Session],
    make_service: Callable[[FlowRegistry], Service],
    clock: Clock,
) -> None:
    registry = FlowRegistry()
    flow = registry.add_file(EXAMPLE)
    service = make_service(registry)
    service.handle(inbound("cai", 0, command="start"), flow.id)
    service.handle(inbound("cai", 1, "yes"), flow.id)
    service.handle(inbound("cai", 2, "Civil society"), flow.id)
    with session_factory() as session:
        person = session.scalars(select(Participant)).one()
        assert person.consent_at == clock.now
        consent = flow.step("consent").text
        assert person.consent_sha256 == hashlib.sha256(consent.encode()).hexdigest()
        assert person.profile == {"sector": "civil"}
        assert person.pseudonym.startswith("pseudo")


def test_runs_finish_on_the_definition_they_started_on(
    session_factory: sessionmaker[Session],
    make_service: Callable[[FlowRegistry], Service],
    tmp_path: Path,
) -> None:
    path = tmp_path / "pinned.yaml"
    path.write_text(FLOW_V1, encoding="utf-8")
    registry = FlowRegistry()
    registry.add_file(path)
    service = make_service(registry)
    service.handle(inbound("old", 0, command="start"), "pinned")
    service.handle(inbound("old", 1, "yes"), "pinned")
    service.handle(inbound("old", 2, "red"), "pinned")

    # Redeploy: a new process loads only version 2; the old run's definition is in the DB.
    path.write_text(FLOW_V2, encoding="utf-8")
    fresh = FlowRegistry()
    fresh.add_file(path)
    service = make_service(fresh)
    done = service.handle(inbound("old", 3, "7"), "pinned")
    assert [m.text for m in done.messages] == ["Bye from version 1"]
    assert done.run_status == "finished"

    service.handle(inbound("new", 0, command="start"), "pinned")
    service.handle(inbound("new", 1, "yes"), "pinned")
    asked = service.handle(inbound("new", 2, "blue"), "pinned")
    assert [m.text for m in asked.messages] == ["New question?"]

    with UnitOfWork(session_factory) as uow:
        answers = dict(uow.answers.latest_by_participant("pinned"))
    assert sorted(answers.values(), key=len) == [{"colour": "blue"}, {"colour": "red", "size": 7}]
    assert load_source(FLOW_V2).version == 2


def test_a_stored_definition_still_loads_after_a_stricter_check_arrives() -> None:
    """A definition runs started on passed the checks of its day; a check added later
    (here: one its text fails, an unreachable step) must not strand those runs."""
    stranded = FLOW_V1.replace(
        "  - {id: bye, type: end, text: Bye from version 1}",
        "  - {id: bye, type: end, text: Bye from version 1}\n"
        "  - {id: orphan, type: message, text: Nobody gets here}",
    )
    assert stranded != FLOW_V1
    with pytest.raises(FlowError, match="orphan"):
        load_source(stranded)
    flow = load_stored(stranded)
    assert [step.id for step in flow.steps][-2:] == ["bye", "orphan"]


def test_restart_starts_a_new_run_and_the_newest_run_is_exported(
    session_factory: sessionmaker[Session], make_service: Callable[[FlowRegistry], Service]
) -> None:
    registry = FlowRegistry()
    registry.add_file(EXAMPLE)
    service = make_service(registry)
    for n, text in enumerate(["yes", "1"], start=1):
        service.handle(inbound("dan", n, text), "civil-service-women")
    restarted = service.handle(inbound("dan", 10, command="restart"), "civil-service-women")
    assert restarted.messages[0].text.startswith("Hello!")
    service.handle(inbound("dan", 11, "yes"), "civil-service-women")
    service.handle(inbound("dan", 12, "3"), "civil-service-women")
    with session_factory() as session:
        statuses = session.scalars(select(Run.status).order_by(Run.id)).all()
    assert statuses == ["abandoned", "active"]
    with UnitOfWork(session_factory) as uow:
        assert [a for _, a in uow.answers.latest_by_participant("civil-service-women")] == [
            {"sector": "civil"}
        ]


def test_restart_typed_as_text_also_starts_a_new_run(
    session_factory: sessionmaker[Session], make_service: Callable[[FlowRegistry], Service]
) -> None:
    """A channel that passes "/restart" through as text gets the same new run, not the
    old run overwritten with an empty state while its answer rows stay behind."""
    registry = FlowRegistry()
    registry.add_file(EXAMPLE)
    service = make_service(registry)
    service.handle(inbound("ida", 0, command="start"), "civil-service-women")
    for n, text in enumerate(["yes", "2"], start=1):
        service.handle(inbound("ida", n, text), "civil-service-women")
    restarted = service.handle(inbound("ida", 3, "/restart"), "civil-service-women")
    assert restarted.messages[0].text.startswith("Hello!")
    with session_factory() as session:
        runs = session.execute(select(Run.status, Run.id).order_by(Run.id)).all()
        assert [status for status, _ in runs] == ["abandoned", "active"]
        kept = session.scalars(select(Answer.run_id)).all()
        assert kept == [runs[0].id]  # the old run keeps its answer; the new one has none


def test_back_removes_the_stored_answer_until_it_is_given_again(
    session_factory: sessionmaker[Session], make_service: Callable[[FlowRegistry], Service]
) -> None:
    registry = FlowRegistry()
    registry.add_file(EXAMPLE)
    service = make_service(registry)
    for n, text in enumerate(["hi", "yes", "1"]):
        service.handle(inbound("eve", n, text), "civil-service-women")
    with UnitOfWork(session_factory) as uow:
        eve = uow.participants.get("console", "eve")
        assert eve is not None and eve.profile == {"sector": "public"}
    service.handle(inbound("eve", 3, "back"), "civil-service-women")
    with UnitOfWork(session_factory) as uow:
        assert uow.answers.latest_by_participant("civil-service-women") == []
        eve = uow.participants.get("console", "eve")
        assert eve is not None and eve.profile == {}  # the answer taken back, its profile too
    service.handle(inbound("eve", 9, "Business"), "civil-service-women")
    with UnitOfWork(session_factory) as uow:
        assert [a for _, a in uow.answers.latest_by_participant("civil-service-women")] == [
            {"sector": "business"}
        ]


def test_drain_sends_once_and_retries_failures(
    session_factory: sessionmaker[Session],
    make_service: Callable[[FlowRegistry], Service],
    clock: Clock,
) -> None:
    registry = FlowRegistry()
    registry.add_file(EXAMPLE)
    service = make_service(registry)
    service.handle(inbound("fay", 0, command="start"), "civil-service-women")

    def broken(address: str, message: Outbound) -> None:
        raise ConnectionError("platform down")

    assert drain(session_factory, "console", broken, clock=clock) == 0
    with session_factory() as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        # The first failed and is retried later; the second waits behind it, unattempted,
        # so the participant never gets the second message before the first.
        assert [(r.status, r.attempts) for r in rows] == [("pending", 1), ("pending", 0)]
        retry_at = rows[0].next_attempt_at
    assert retry_at > clock.now
    assert drain(session_factory, "console", broken, clock=clock) == 0  # not due yet

    got: list[str] = []
    clock.now += timedelta(minutes=1)
    assert drain(session_factory, "console", lambda a, m: got.append(m.text), clock=clock) == 2
    assert got[0].startswith("Hello!") and got[1].startswith("Your answers")
    assert drain(session_factory, "console", lambda a, m: got.append(m.text), clock=clock) == 0
    assert len(got) == 2

    service.handle(inbound("fay", 1, "maybe"), "civil-service-women")
    for _ in range(4):
        clock.now += timedelta(hours=1)
        drain(session_factory, "console", broken, clock=clock)
    with session_factory() as session:
        last = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
        assert last is not None
        assert (last.status, last.attempts) == ("failed", 4)
        assert last.last_error == "ConnectionError: platform down"


def test_console_shows_what_it_takes_and_a_failed_show_loses_nothing(
    session_factory: sessionmaker[Session],
    make_service: Callable[[FlowRegistry], Service],
    clock: Clock,
) -> None:
    """The console marks its messages sent in the input's own commit; if printing fails,
    they go back to pending and appear on the next turn."""
    registry = FlowRegistry()
    registry.add_file(EXAMPLE)
    service = make_service(registry)
    shown: list[str] = []
    fail_once = [True]

    def out(line: str) -> None:
        if fail_once.pop() if fail_once else False:
            raise BrokenPipeError("terminal closed")
        shown.append(line)

    chat = ConsoleConversation(
        service, session_factory, "civil-service-women", "gil", out=out, clock=clock
    )
    with pytest.raises(BrokenPipeError):
        chat.open()
    assert shown == []
    with session_factory() as session:
        held = session.execute(select(OutboxMessage.status, OutboxMessage.last_error)).all()
    assert [tuple(r) for r in held] == [("pending", "BrokenPipeError: terminal closed")] * 2

    chat.say("yes")  # the two held messages first, then the answer to this input
    assert shown[0].startswith("bot: Hello!")
    assert shown[1].startswith("bot: Your answers are used only")
    assert shown[2].startswith("bot: Where do you work?")
    with session_factory() as session:
        statuses = session.scalars(select(OutboxMessage.status)).all()
    assert set(statuses) == {"sent"}


def test_one_participants_inputs_apply_one_after_the_other_across_processes(
    empty_database_url: str, clock: Clock
) -> None:
    """Two processes handling the same participant at once: the second waits for the
    first's commit (the participant's row is locked), then steps from its new state.
    Its own database, since this test commits."""
    if not empty_database_url.startswith("postgresql"):
        pytest.skip("row locks are PostgreSQL's; SQLite has a single writer")
    db_engine = make_engine(empty_database_url)
    upgrade(empty_database_url, engine=db_engine)
    factory = make_session_factory(db_engine)
    registry = FlowRegistry()
    registry.add_file(EXAMPLE)
    service = Service(factory, registry, clock=clock, new_id=lambda: uuid.uuid4().hex[:16])
    try:
        service.handle(inbound("lee", 0, command="start"), "civil-service-women")
        service.handle(inbound("lee", 1, "yes"), "civil-service-women")
        done = threading.Event()
        results: list[Handled] = []
        with UnitOfWork(factory) as holder:  # another process, mid-input
            assert holder.runs.turn("console", "lee", "civil-service-women", lock=True)

            def second() -> None:
                results.append(service.handle(inbound("lee", 2, "2"), "civil-service-women"))
                done.set()

            worker = threading.Thread(target=second)
            worker.start()
            assert not done.wait(0.5), "the second input did not wait for the first"
            holder.commit()
        worker.join(timeout=10)
        assert done.is_set() and results[0].messages[0].text.startswith("Which topics")
        with factory() as session:
            assert session.scalars(select(Answer.value)).all() == ["business"]
    finally:
        db_engine.dispose()


BILINGUAL = FLOW_V1.replace("id: pinned", "id: bilingual").replace(
    "default_language: en", "default_language: en\nlanguages: [en, he]"
)


@pytest.mark.parametrize(
    ("hint", "language"), [("he-IL", "he"), ("iw", "he"), ("ru", "en"), (None, "en")]
)
def test_a_run_speaks_the_hinted_language_only_if_the_flow_does(
    session_factory: sessionmaker[Session],
    make_service: Callable[[FlowRegistry], Service],
    tmp_path: Path,
    hint: str | None,
    language: str,
) -> None:
    path = tmp_path / "bilingual.yaml"
    path.write_text(BILINGUAL, encoding="utf-8")
    registry = FlowRegistry()
    registry.add_file(path)
    service = make_service(registry)
    service.handle(
        Inbound("console", "noa", "noa-0", command="start", language_hint=hint), "bilingual"
    )
    with session_factory() as session:
        run = session.scalars(select(Run)).one()
        person = session.scalars(select(Participant)).one()
    assert run.state["language"] == language
    assert person.language is None  # a hint is not a choice: nothing is stored for it


def test_a_language_step_is_named_in_each_language_and_the_choice_is_kept(
    session_factory: sessionmaker[Session],
    make_service: Callable[[FlowRegistry], Service],
    tmp_path: Path,
) -> None:
    path = tmp_path / "bilingual.yaml"
    path.write_text(
        BILINGUAL.replace(
            "steps:\n", "steps:\n  - {id: lang, type: language, text: Choose · בחרו}\n"
        ),
        encoding="utf-8",
    )
    registry = FlowRegistry()
    registry.add_file(path)
    service = make_service(registry)
    first = service.handle(inbound("tal", 0, command="start"), "bilingual")
    assert [b.label for b in first.messages[0].buttons] == ["English", "עברית"]
    chosen = service.handle(inbound("tal", 1, "עברית"), "bilingual")
    assert chosen.messages[0].text == "Do you agree?"  # no Hebrew catalog: the default text
    assert chosen.messages[0].hint == "השיבו כן או לא."  # Kolot's own words in Hebrew
    with session_factory() as session:
        person = session.scalars(select(Participant)).one()
        assert person.language == "he"
        assert session.scalars(select(Run)).one().state["language"] == "he"


@pytest.mark.parametrize(
    ("address", "hint", "language"),
    [
        ("whatsapp:+972501234567", None, "he"),  # Israel: Hebrew (then Arabic)
        ("whatsapp:+970599123456", None, "ar"),  # Palestine: Arabic
        ("whatsapp:+33612345678", None, "en"),  # France: the flow has no French
        ("whatsapp:+972501234567", "ar", "ar"),  # the channel's own hint comes first
    ],
)
def test_a_whatsapp_numbers_country_is_the_weakest_hint(
    session_factory: sessionmaker[Session],
    make_service: Callable[[FlowRegistry], Service],
    tmp_path: Path,
    address: str,
    hint: str | None,
    language: str,
) -> None:
    path = tmp_path / "bilingual.yaml"
    path.write_text(BILINGUAL.replace("[en, he]", "[en, he, ar]"), "utf-8")
    registry = FlowRegistry()
    registry.add_file(path)
    make_service(registry).handle(
        Inbound("whatsapp", address, "SM1", command="start", language_hint=hint), "bilingual"
    )
    with session_factory() as session:
        assert session.scalars(select(Run)).one().state["language"] == language


IDEAS = """\
id: ideas
version: 1
default_language: he
moderation: MODE
steps:
  - {id: consent, type: consent, text: מסכימים?}
  - {id: my_idea, type: idea, text: מה הייתם משנים?, max_ideas: 2}
  - {id: bye, type: end, text: תודה!}
"""


@pytest.mark.parametrize(("mode", "status"), [("pre", "pending"), ("post", "approved")])
def test_ideas_are_stored_in_their_language_for_moderation(
    session_factory: sessionmaker[Session],
    make_service: Callable[[FlowRegistry], Service],
    tmp_path: Path,
    mode: str,
    status: str,
) -> None:
    path = tmp_path / "ideas.yaml"
    path.write_text(IDEAS.replace("MODE", mode), encoding="utf-8")
    registry = FlowRegistry()
    registry.add_file(path)
    service = make_service(registry)
    service.handle(inbound("dov", 0, command="start"), "ideas")
    for n, said in enumerate(["כן", "ברזיית מים ליד גן המשחקים", "עוד עצים וצל בשבילים"], 1):
        service.handle(inbound("dov", n, said), "ideas")
    with UnitOfWork(session_factory) as uow:
        person = uow.participants.get("console", "dov")
        assert person is not None
        stored = uow.session.execute(
            select(Idea.text, Idea.language, Idea.status, Idea.participant_id).order_by(Idea.id)
        ).all()
        assert [tuple(row) for row in stored] == [
            ("ברזיית מים ליד גן המשחקים", "he", status, person.id),
            ("עוד עצים וצל בשבילים", "he", status, person.id),
        ]
        assert uow.ideas.visible("ideas") == (
            [] if mode == "pre" else [(i, person.id) for i in sorted(
                uow.session.scalars(select(Idea.id)).all())]
        )
        run = uow.session.scalars(select(Run)).one()
        assert run.status == "finished"  # two ideas: the limit moved the flow on


VOTING = """\
id: voting
version: 1
default_language: en
steps:
  - {id: consent, type: consent, text: Agreed?}
  - {id: my_idea, type: idea, text: Your idea?}
  - {id: rank, type: vote, pool: my_idea, text: Which would help more?, votes: 3}
  - {id: bye, type: end, text: Thanks!}
"""


def test_voting_end_to_end_never_shows_own_ideas_or_a_pair_twice(
    session_factory: sessionmaker[Session], clock: Clock, tmp_path: Path
) -> None:
    path = tmp_path / "voting.yaml"
    path.write_text(VOTING, encoding="utf-8")
    registry = FlowRegistry()
    registry.add_file(path)
    ids = count()
    service = Service(session_factory, registry, clock=clock, rng=random.Random(3),
                      new_id=lambda: f"pseudo{next(ids):06d}")
    people = ["ana", "ben", "cai", "dan"]
    for person in people:
        service.handle(inbound(person, 0, command="start"), "voting")
        service.handle(inbound(person, 1, "yes"), "voting")
    # ana, ben and cai give ideas in turn; dan's idea comes last, when the pool is full
    for n, person in enumerate(people):
        service.handle(inbound(person, 2, f"Idea number {n} from {person}"), "voting")

    dan = service.handle(inbound("dan", 3, "a"), "voting")
    assert dan.messages[-1].text.startswith("Which would help more?")
    for n in range(4, 12):  # dan votes on: 3 own-free ideas give 3 pairs, then none left
        dan = service.handle(inbound("dan", n, "yes" if n == 6 else "b"), "voting")
    assert dan.run_status == "finished"
    with UnitOfWork(session_factory) as uow:
        person = uow.participants.get("console", "dan")
        assert person is not None
        own = {i for i, author in uow.ideas.visible("voting") if author == person.id}
        pairs = uow.votes.seen_by("voting", person.id)
    assert len(pairs) == 3 == len(set(pairs))  # every pair of the 3 other ideas, once
    assert not {i for pair in pairs for i in pair} & own


def test_agree_voting_end_to_end(
    session_factory: sessionmaker[Session], clock: Clock, tmp_path: Path
) -> None:
    path = tmp_path / "agree.yaml"
    path.write_text(VOTING.replace("id: voting", "id: agree").replace(
        "text: Which would help more?, votes: 3", "text: Agree?, method: agree, votes: 5"),
        encoding="utf-8")
    registry = FlowRegistry()
    registry.add_file(path)
    service = Service(session_factory, registry, clock=clock, rng=random.Random(5),
                      new_id=lambda: f"p{random.random()}"[:16])
    with UnitOfWork(session_factory) as uow:
        for text in ("Seed one idea", "Seed two idea"):
            uow.ideas.add("agree", "my_idea", None, text, "en", status="approved",
                          now=clock.now)
        uow.commit()
    service.handle(inbound("eva", 0, command="start"), "agree")
    service.handle(inbound("eva", 1, "yes"), "agree")
    shown = service.handle(inbound("eva", 2, "My own idea for the park"), "agree")
    first = shown.messages[-1].text
    assert first.startswith("Agree?\n\nSeed") and "My own" not in first
    service.handle(inbound("eva", 3, "agree"), "agree")
    service.handle(inbound("eva", 4, "undo"), "agree")
    service.handle(inbound("eva", 5, "disagree"), "agree")
    done = service.handle(inbound("eva", 6, "pass"), "agree")
    assert done.run_status == "finished"  # both seeds seen; her own idea never offered
    with session_factory() as session:
        stored = session.execute(select(AgreeVote.idea_id, AgreeVote.choice)
                                 .order_by(AgreeVote.id)).all()
    assert [choice for _, choice in stored] == ["disagree", "pass"]
    assert len({idea for idea, _ in stored}) == 2


def test_approve_voting_end_to_end(
    session_factory: sessionmaker[Session], clock: Clock, tmp_path: Path
) -> None:
    path = tmp_path / "approve.yaml"
    path.write_text(VOTING.replace("id: voting", "id: approve").replace(
        "text: Which would help more?, votes: 3",
        "text: Which do you support?, method: approve, show: 2, pick: 1"), encoding="utf-8")
    registry = FlowRegistry()
    registry.add_file(path)
    service = Service(session_factory, registry, clock=clock, rng=random.Random(8),
                      new_id=lambda: f"p{random.random()}"[:16])
    with UnitOfWork(session_factory) as uow:
        for text in ("Seed one idea", "Seed two idea", "Seed three idea"):
            uow.ideas.add("approve", "my_idea", None, text, "en", status="approved",
                          now=clock.now)
        uow.commit()
    service.handle(inbound("ora", 0, command="start"), "approve")
    service.handle(inbound("ora", 1, "yes"), "approve")
    listed = service.handle(inbound("ora", 2, "My own idea for the park"), "approve")
    assert len(listed.messages[-1].buttons) == 2
    assert "My own" not in " ".join(b.label for b in listed.messages[-1].buttons)
    last = service.handle(inbound("ora", 3, "1"), "approve")
    assert last.run_status == "finished"  # one unseen seed left: no list of two to show
    with session_factory() as session:
        stored = sorted(session.execute(select(AgreeVote.choice)).scalars())
    assert stored == ["approve", "skip"]
    with UnitOfWork(session_factory) as uow:
        shares = [(a.approved, a.shown) for a in approvals(uow, "approve")]
    assert shares == [(1, 1), (0, 1)]


def test_a_withdrawn_idea_is_out_of_voting(
    session_factory: sessionmaker[Session],
    make_service: Callable[[FlowRegistry], Service],
    tmp_path: Path,
) -> None:
    path = tmp_path / "ideas.yaml"
    path.write_text(IDEAS.replace("MODE", "post").replace("default_language: he",
                                                          "default_language: en"), "utf-8")
    registry = FlowRegistry()
    registry.add_file(path)
    service = make_service(registry)
    service.handle(inbound("uri", 0, command="start"), "ideas")
    for n, said in enumerate(["yes", "Paint every bench orange", "withdraw"], 1):
        service.handle(inbound("uri", n, said), "ideas")
    with UnitOfWork(session_factory) as uow:
        assert [i.status for i in uow.ideas.listed("ideas")] == ["withdrawn"]
        assert uow.ideas.visible("ideas") == []
