"""Consent that means something, on SQLite and PostgreSQL: each run keeps when its
participant agreed and the exact wording agreed to; a consent text changed while they are
half way asks again before anything more is taken; no ends the run and deletes its answers.
Through the real service and flow registry, in English, Hebrew and Arabic."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from itertools import count
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import Inbound
from bot.channels.console import ConsoleConversation
from bot.engine import texts as engine_texts
from bot.i18n import translator
from bot.registry import FlowRegistry
from bot.rights import texts
from bot.service import Service
from storage import UnitOfWork
from storage.models import Answer, ConsentText, OutboxMessage, Participant, Run

FLOW = """\
id: terms
version: 1
default_language: en
languages: [en, he, ar]
steps:
  - {id: consent, type: consent, text: Your answers are used only for this report. Agree?}
  - {id: city, type: text, text: Which city?}
  - {id: street, type: text, text: Which street?}
  - {id: bye, type: end, text: Bye}
"""
NEW_TERMS = "Your answers are used for this report and shared with the council. Agree?"
CHANGED = FLOW.replace("version: 1", "version: 2").replace(
    "Your answers are used only for this report. Agree?", NEW_TERMS)
TYPO_ONLY = FLOW.replace("version: 1", "version: 2").replace("Bye", "Goodbye")


class Steps:
    """One console participant talking to a service whose flow file can be redeployed."""

    def __init__(self, session_factory: sessionmaker[Session], path: Path, language: str):
        self.session_factory, self.path, self.language = session_factory, path, language
        self.n = count()
        self.ids = count()
        self.service = self._service()

    def _service(self) -> Service:
        registry = FlowRegistry()
        registry.add_file(self.path)
        return Service(self.session_factory, registry,
                       clock=lambda: datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
                       new_id=lambda: f"pseudo{next(self.ids):06d}")

    def redeploy(self, source: str) -> None:
        self.path.write_text(source, encoding="utf-8")
        self.service = self._service()

    def half_way_then(self, source: str) -> None:
        """Agree, answer the first question, and then the flow is redeployed."""
        self.say(command="start")
        self.say("yes")
        self.say("Haifa")
        self.redeploy(source)

    def say(self, text: str | None = None, **kw: object) -> list[str]:
        inbound = Inbound("console", "dana", f"dana-{next(self.n)}", text=text,
                          language_hint=self.language, **kw)  # type: ignore[arg-type]
        return [m.text for m in self.service.handle(inbound, "terms").messages]

    def run(self) -> Run:
        with self.session_factory() as session:
            run = session.scalars(select(Run).order_by(Run.id.desc())).first()
            assert run is not None
            session.expunge(run)
            return run

    def answers(self) -> dict[str, object]:
        with self.session_factory() as session:
            return {a.step_id: a.value for a in session.scalars(select(Answer))}


@pytest.fixture
def steps(session_factory: sessionmaker[Session], tmp_path: Path) -> Callable[[str], Steps]:
    path = tmp_path / "terms.yaml"
    path.write_text(FLOW, encoding="utf-8")
    return lambda language: Steps(session_factory, path, language)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_a_run_keeps_the_time_and_the_exact_wording_agreed_to(
    steps: Callable[[str], Steps], session_factory: sessionmaker[Session]
) -> None:
    dana = steps("en")
    dana.say(command="start")
    dana.say("yes")
    run = dana.run()
    terms = "Your answers are used only for this report. Agree?"
    assert run.consent_sha256 == sha(terms)
    assert run.consent_at == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    with UnitOfWork(session_factory) as uow:
        assert uow.consents.text(sha(terms)) == terms
    with session_factory() as session:
        [kept] = session.scalars(select(ConsentText)).all()
        assert (kept.flow_id, kept.language) == ("terms", "en")


@pytest.mark.parametrize("language", ["en", "he", "ar"])
def test_a_changed_consent_text_asks_again_and_yes_goes_on(
    steps: Callable[[str], Steps], language: str
) -> None:
    tr = translator(language)
    dana = steps(language)
    dana.half_way_then(CHANGED)

    asked = dana.say("Herzl")  # meant for the street question: not taken
    assert asked[0] == tr.gettext(texts.CONSENT_CHANGED)
    assert asked[1].startswith(NEW_TERMS)
    assert dana.answers() == {"city": "Haifa"}
    assert dana.run().consent_asked == sha(NEW_TERMS)

    sorry = dana.say("perhaps")  # neither yes nor no: asked politely again
    assert sorry[0].startswith(tr.gettext(engine_texts.SORRY_CONSENT))
    assert dana.answers() == {"city": "Haifa"}

    again = dana.say("yes")
    assert again[0] == tr.gettext(texts.CONSENT_AGREED_AGAIN)
    assert again[1].startswith("Which street?")  # where they were, on their run's version
    run = dana.run()
    assert (run.consent_sha256, run.consent_asked) == (sha(NEW_TERMS), None)
    assert dana.say("Herzl") == ["Bye"]
    assert dana.answers() == {"city": "Haifa", "street": "Herzl"}


@pytest.mark.parametrize("language", ["en", "he", "ar"])
def test_no_to_the_changed_text_ends_the_run_and_deletes_its_answers(
    steps: Callable[[str], Steps], language: str
) -> None:
    tr = translator(language)
    dana = steps(language)
    dana.half_way_then(CHANGED)
    dana.say("Herzl")
    refused = dana.say("no")
    assert refused == [tr.gettext(texts.CONSENT_REFUSED_AGAIN)]
    assert dana.answers() == {}
    run = dana.run()
    assert run.status == "declined" and run.state["answers"] == {}
    # /restart takes them to the new version, consent first.
    assert dana.say(command="restart")[-1].startswith(NEW_TERMS)


def test_a_new_version_with_the_same_consent_text_does_not_ask_again(
    steps: Callable[[str], Steps],
) -> None:
    dana = steps("en")
    dana.half_way_then(TYPO_ONLY)
    assert dana.say("Herzl") == ["Bye"]  # the run's own version, and no question
    assert dana.run().consent_asked is None


def test_mydata_and_delete_in_the_console(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """``kolot chat`` shows its messages itself: the farewell is shown, and the person is
    gone in the same commit (no sender will come for it)."""
    path = tmp_path / "terms.yaml"
    path.write_text(FLOW, encoding="utf-8")
    registry = FlowRegistry()
    registry.add_file(path)
    service = Service(session_factory, registry)
    shown: list[str] = []
    chat = ConsoleConversation(service, session_factory, "terms", "gil", out=shown.append)
    chat.open()
    chat.say("yes")
    chat.say("Haifa")
    chat.say("/mydata")
    assert any("Haifa" in line and texts.MYDATA_INTRO in line for line in shown)
    assert shown[-1] == f"bot: {texts.MYDATA_FILE}"
    chat.say("/delete")
    assert shown[-1].startswith(f"bot: {texts.DELETE_ASK}")
    chat.say("delete")
    assert shown[-1] == f"bot: {texts.DELETED}"
    with session_factory() as session:
        assert session.scalars(select(Participant)).all() == []
        assert session.scalars(select(OutboxMessage)).all() == []
        assert session.scalars(select(Answer)).all() == []


def test_mydata_shows_a_choice_by_its_label(
    session_factory: sessionmaker[Session],
) -> None:
    example = Path(__file__).resolve().parents[2] / "flows/examples/civil-service-women.yaml"
    registry = FlowRegistry()
    registry.add_file(example)
    shown: list[str] = []
    chat = ConsoleConversation(Service(session_factory, registry), session_factory,
                               "civil-service-women", "noa", out=shown.append)
    chat.open()
    chat.say("yes")
    chat.say("1")
    chat.say("/mydata")
    readable = next(line for line in shown if texts.MYDATA_INTRO in line)
    sector = registry.current("civil-service-women").step("sector")
    assert f"• {sector.text}: {sector.options[0].label}" in readable


def test_a_run_whose_flow_is_no_longer_deployed_goes_on_without_asking(
    steps: Callable[[str], Steps], tmp_path: Path,
) -> None:
    """Its file gone from the deployment, a consented run still finishes on its stored
    version: there is no newer consent text to ask."""
    dana = steps("en")
    dana.say(command="start")
    dana.say("yes")
    other = tmp_path / "other.yaml"
    other.write_text(FLOW.replace("id: terms", "id: other"), encoding="utf-8")
    registry = FlowRegistry()
    registry.add_file(other)
    dana.service = Service(dana.session_factory, registry)
    inbound = Inbound("console", "dana", "dana-late", text="Haifa")
    assert [m.text for m in dana.service.handle(inbound, None).messages] == ["Which street?"]
