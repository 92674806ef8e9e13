"""kolot broadcast as an organiser runs it, against the fake Telegram Bot API, on SQLite
and PostgreSQL: who it reaches and in which language, asking first, once only, files
with mistakes, a send time, quiet hours, a step to start, and the audience filters."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result
from fakes.telegram_api import FakeTelegram
from sqlalchemy import Engine, func, select

from bot.broadcast.audience import plan
from bot.broadcast.spec import check_spec
from bot.channels.base import Inbound
from bot.channels.console import CHANNEL as CONSOLE
from bot.cli import main
from bot.engine import Flow, load_file
from bot.registry import FlowRegistry
from bot.service import Service
from storage import UnitOfWork
from storage.database import make_session_factory
from storage.models import Broadcast, OutboxMessage, Run

pytestmark = pytest.mark.storage

ZONE = ZoneInfo("Asia/Jerusalem")
NEWS = {"he": "הרעיונות שלכם נאספו, תודה!", "ar": "تم جمع أفكاركم، شكرًا!",
        "en": "Your ideas are in, thank you!"}


def local(moment: datetime) -> str:
    return f"{moment.astimezone(ZONE):%Y-%m-%d %H:%M}"


def square(now: datetime, quiet: tuple[str, str] = ("00:00", "00:00")) -> str:
    """A flow whose ideas phase is open now and whose voting opens in a week; no quiet
    hours unless given."""
    return f"""\
id: square
version: 1
title: The town square
default_language: en
languages: [he, ar, en]
timezone: Asia/Jerusalem
phases:
  - {{id: ideas, starts: "{local(now - timedelta(days=3))}", ends: "{local(now + timedelta(days=5))}"}}
  - {{id: voting, starts: "{local(now + timedelta(days=6))}", ends: "{local(now + timedelta(days=9))}"}}
quiet_hours: {{from: "{quiet[0]}", to: "{quiet[1]}"}}
steps:
  - {{id: consent, type: consent, text: Do you agree?}}
  - id: district
    type: choice
    text: Where do you live?
    profile: district
    phase: ideas
    options: [{{id: north, label: North}}, {{id: south, label: South}}]
  - {{id: bench, type: yes_no, text: More benches?, profile: benches}}
  - {{id: why, type: text, text: Why do you say so?}}
  - id: route
    type: branch
    rules: [{{when: bench == false, next: bye}}]
    otherwise: pick
  - id: pick
    type: choice
    phase: voting
    text: Which plan?
    options: [{{id: a, label: Plan A}}, {{id: b, label: Plan B}}]
  - {{id: bye, type: end, text: Thanks!}}
"""  # noqa: E501


@dataclass
class Town:
    url: str
    engine: Engine
    flow_path: Path
    fake: FakeTelegram
    tmp_path: Path

    def runner(self) -> CliRunner:
        return CliRunner(env={"KOLOT_DATABASE_URL": self.url, "KOLOT_FLOWS": str(self.flow_path),
                              "KOLOT_TELEGRAM_TOKEN": self.fake.token,
                              "KOLOT_TELEGRAM_API_URL": self.fake.url,
                              "KOLOT_TWILIO_FROM": None, "KOLOT_RATE_LIMIT_URL": None})

    def broadcast(self, text: str, *args: str, name: str = "news.yaml",
                  answer: str | None = None) -> Result:
        path = self.tmp_path / name
        path.write_text(text, encoding="utf-8")
        return self.runner().invoke(main, ["broadcast", str(path), *args], input=answer)

    def tick(self, at: datetime) -> Result:
        """``kolot tick --now`` with ``at`` written in Jerusalem time, with its offset."""
        return self.runner().invoke(main, ["tick", "--now", at.astimezone(ZONE).isoformat()])

    def news(self) -> dict[str, list[str]]:
        """The broadcast texts each chat received, in order."""
        got: dict[str, list[str]] = {}
        for call in self.fake.sent():
            if call.params.get("text") in NEWS.values():
                got.setdefault(str(call.chat_id), []).append(str(call.params["text"]))
        return got

    def broadcast_rows(self) -> list[OutboxMessage]:
        with make_session_factory(self.engine)() as session:
            return list(session.scalars(select(OutboxMessage).where(
                OutboxMessage.broadcast_id.is_not(None)).order_by(OutboxMessage.id)))


def people(factory_url: Engine, flow_path: Path) -> None:
    """Five on Telegram (he, ar and en who consented; one who declined; one who stopped)
    and an organiser's walk-through in the console."""
    registry = FlowRegistry()
    registry.add_file(flow_path)
    service = Service(make_session_factory(factory_url), registry)
    n = 0
    for who, language, inputs, channel in (
        ("101", "he", ["/start", "כן", "1"], "telegram"),
        ("102", "ar", ["/start", "نعم", "2"], "telegram"),
        ("103", "en", ["/start", "yes", "1", "no", "Shade"], "telegram"),
        ("104", "en", ["/start", "no"], "telegram"),
        ("105", "he", ["/start", "כן", "2", "/stop"], "telegram"),
        ("dana", "en", ["/start", "yes", "1"], CONSOLE),
    ):
        for text in inputs:
            n += 1
            command = text[1:] if text.startswith("/") else None
            service.handle(Inbound(channel, who, f"in-{n}", text=None if command else text,
                                   command=command, language_hint=language), None)  # type: ignore[arg-type]


@pytest.fixture
def town(migrated_url: tuple[str, Engine], tmp_path: Path) -> Iterator[Town]:
    url, engine = migrated_url
    flow_path = tmp_path / "square.yaml"
    flow_path.write_text(square(datetime.now(UTC)), encoding="utf-8")
    people(engine, flow_path)
    with FakeTelegram() as fake:
        yield Town(url, engine, flow_path, fake, tmp_path)


def news_file(name: str = "thanks", **extra: str) -> str:
    lines = [f"name: {name}", "flow: square", "messages:"]
    lines += [f"  {language}: \"{text}\"" for language, text in NEWS.items()]
    lines += [f"{key}: {value}" for key, value in extra.items()]
    return "\n".join(lines) + "\n"


def test_each_consented_participant_gets_it_once_in_their_language(town: Town) -> None:
    done = town.broadcast(news_file(), "--yes")
    assert done.exit_code == 0, done.output
    assert "square: 3 recipients" in done.output
    assert "did not consent 1" in done.output
    assert "stopped or blocked the bot 1" in done.output
    assert "console walk-throughs (kolot chat) get no broadcasts 1" in done.output
    assert town.news() == {"101": [NEWS["he"]], "102": [NEWS["ar"]], "103": [NEWS["en"]]}
    assert "sent 3, waiting 0, unconfirmed 0, failed 0" in done.output

    again = town.broadcast(news_file(), "--yes")
    assert again.exit_code == 0, again.output
    assert "sent 3, waiting 0" in again.output
    assert town.news() == {"101": [NEWS["he"]], "102": [NEWS["ar"]], "103": [NEWS["en"]]}

    changed = town.broadcast(news_file().replace("thank you", "thanks"), "--yes")
    assert changed.exit_code == 1
    assert "was started on" in changed.output and "from a different file" in changed.output
    assert len(town.broadcast_rows()) == 3


def test_declining_writes_nothing_and_no_send_leaves_the_sending_to_the_server(
    town: Town
) -> None:
    declined = town.broadcast(news_file(), answer="n\n")
    assert declined.exit_code == 1 and "Send it?" in declined.output
    with make_session_factory(town.engine)() as session:
        assert session.scalar(select(func.count()).select_from(Broadcast)) == 0
    assert town.broadcast_rows() == []

    queued = town.broadcast(news_file(), "--no-send", answer="y\n")
    assert queued.exit_code == 0, queued.output
    assert "written to the outbox: 3 recipients" in queued.output
    assert {(r.address, r.status) for r in town.broadcast_rows()} == {
        ("101", "pending"), ("102", "pending"), ("103", "pending")}
    assert town.news() == {}


@pytest.mark.parametrize(("body", "line", "column", "message"), [
    ("messages:\n  fr: Merci\n  en: Thanks\n", 4, 3, "the flow does not speak 'fr'"),
    ("messages:\n  he: תודה\n", 4, 3, "give a message in en, the flow's own language"),
    ("messages: {en: Hi}\naudience:\n  done: [bench, whyy]\n", 5, 17,
     "step 'whyy' does not exist (did you mean 'why'?)"),
    ("messages: {en: Hi}\naudience: {phase: vote}\n", 4, 19,
     "phase 'vote' is not among the flow's phases"),
    ("messages: {en: Hi}\naudience: {channel: sms}\n", 4, 21, "'sms' is not a channel"),
    ("messages: {en: Hi}\nstart_step: pick\n", 4, 13,
     "step 'pick' belongs to phase 'voting'"),
    ("messages: {en: Hi}\nsend_at: tomorrow\n", 4, 10,
     "'tomorrow' is not a date and time such as 2026-12-22 09:00"),
    ("messages: {en: Hi}\naudiance: {}\n", 4, 1, "audiance"),
])
def test_a_broken_broadcast_file_is_reported_with_file_line_and_column(
    town: Town, body: str, line: int, column: int, message: str
) -> None:
    done = town.broadcast(f"name: oops\nflow: square\n{body}", "--yes", name="oops.yaml")
    assert done.exit_code == 1
    where = f"{town.tmp_path / 'oops.yaml'}:{line}:{column}"
    assert where in done.output, done.output
    assert message in done.output, done.output
    assert town.broadcast_rows() == []


def test_an_unknown_flow_is_named_with_a_suggestion(town: Town) -> None:
    done = town.broadcast("name: oops\nflow: squar\nmessages: {en: Hi}\n", "--yes")
    assert done.exit_code == 1
    assert ":2:" in done.output and "no flow 'squar'" in done.output
    assert "square" in done.output


def test_a_scheduled_broadcast_is_written_by_the_scheduler_when_due(town: Town) -> None:
    when = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=2)
    done = town.broadcast(news_file(send_at=f'"{local(when)}"'), "--yes")
    assert done.exit_code == 0, done.output
    assert f"scheduled for {local(when)} (Asia/Jerusalem)" in done.output
    assert town.broadcast_rows() == []

    early = town.tick(when - timedelta(minutes=5))
    assert early.exit_code == 0, early.output
    assert town.broadcast_rows() == []
    due = town.tick(when + timedelta(minutes=1))
    assert due.exit_code == 0, due.output
    assert "broadcast to 3" in due.output
    assert sorted(r.address for r in town.broadcast_rows()) == ["101", "102", "103"]
    assert town.tick(when + timedelta(minutes=2)).exit_code == 0
    assert len(town.broadcast_rows()) == 3, "the second pass wrote it again"
    assert all(r.next_attempt_at.replace(tzinfo=UTC) >= when for r in town.broadcast_rows())


def test_a_scheduler_pass_that_comes_late_still_keeps_quiet_hours(town: Town) -> None:
    now = datetime.now(UTC)
    noon = datetime.combine((now + timedelta(days=2)).astimezone(ZONE).date(),
                            datetime.min.time().replace(hour=12), ZONE)
    town.flow_path.write_text(square(now, quiet=("21:00", "08:00")), encoding="utf-8")
    done = town.broadcast(news_file(send_at=f'"{local(noon)}"'), "--yes")
    assert done.exit_code == 0 and "scheduled for" in done.output, done.output
    late = town.tick(noon + timedelta(hours=10))  # 22:00: the server was down all afternoon
    assert late.exit_code == 0, late.output
    rows = town.broadcast_rows()
    assert len(rows) == 3
    morning = noon + timedelta(hours=20)  # 08:00 the next day
    assert {r.next_attempt_at.replace(tzinfo=UTC) for r in rows} == {morning.astimezone(UTC)}


def test_kolot_tick_without_flow_files_says_so(town: Town, tmp_path: Path) -> None:
    empty = tmp_path / "none"
    empty.mkdir()
    done = town.runner().invoke(main, ["tick", "--flows", str(empty)])
    assert done.exit_code == 2 and "no flow files" in done.output, done.output
    assert done.exception is None or isinstance(done.exception, SystemExit)


def test_quiet_hours_defer_a_broadcast_to_their_end(town: Town) -> None:
    now = datetime.now(UTC).astimezone(ZONE)
    ends = now + timedelta(hours=2)
    town.flow_path.write_text(square(now, quiet=(f"{now - timedelta(hours=1):%H:%M}",
                                                 f"{ends:%H:%M}")), encoding="utf-8")
    done = town.broadcast(news_file(), "--yes")
    assert done.exit_code == 0, done.output
    assert f"scheduled for {ends:%Y-%m-%d %H:%M} (Asia/Jerusalem)" in done.output
    assert town.broadcast_rows() == []
    assert town.news() == {}


def test_a_start_step_moves_the_run_there_and_asks_it_after_the_message(town: Town) -> None:
    done = town.broadcast(news_file(start_step="why"), "--yes")
    assert done.exit_code == 0, done.output
    for chat in ("101", "102", "103"):
        texts = town.fake.texts(chat)
        at = texts.index(next(t for t in texts if t in NEWS.values()))
        assert texts[at + 1].startswith("Why do you say so?"), texts
    with make_session_factory(town.engine)() as session:
        steps = {run.participant_id: run.state.get("step") for run in session.scalars(
            select(Run).where(Run.state.is_not(None)))}
    assert sorted(steps.values(), key=str).count("why") == 3


def flow_of(town: Town) -> Flow:
    return load_file(town.flow_path)


def audience_of(town: Town, body: str) -> tuple[dict[str, str], dict[str, int]]:
    """Who a broadcast file reaches (address -> the language of their text), and the
    reasons the others were left out."""
    flow = flow_of(town)
    text = f"name: probe\nflow: square\n{body}"
    spec, _flow, problems = check_spec(text, "probe.yaml", lambda _id: flow, ["square"],
                                       now=datetime.now(UTC))
    assert spec is not None, problems
    with UnitOfWork(make_session_factory(town.engine)) as uow:
        found = plan(uow, flow, spec)
    return ({m.address: used for m, used in found.members}, dict(found.left_out))


def test_the_audience_filters_narrow_it(town: Town) -> None:
    everyone = "messages: {en: Hi, he: שלום, ar: مرحبا}\n"
    assert audience_of(town, everyone)[0] == {"101": "he", "102": "ar", "103": "en"}
    finished, why = audience_of(town, everyone + "audience: {progress: finished}\n")
    assert finished == {"103": "en"} and why["has not finished"] == 2
    assert audience_of(town, everyone + "audience: {progress: unfinished}\n")[0].keys() == {
        "101", "102"}
    north, why = audience_of(town, everyone + "audience: {profile: {district: north}}\n")
    assert north.keys() == {"101", "103"} and why["another district"] == 1
    assert audience_of(town, everyone + "audience: {language: [ar, he]}\n")[0].keys() == {
        "101", "102"}
    assert audience_of(town, everyone + "audience: {done: [bench]}\n")[0].keys() == {"103"}
    assert audience_of(town, everyone + "audience: {not_done: [bench]}\n")[0].keys() == {
        "101", "102"}
    assert audience_of(town, everyone + "audience: {phase: ideas}\n")[0].keys() == {
        "101", "102", "103"}
    assert audience_of(town, everyone + "audience: {channel: whatsapp}\n")[0] == {}
    # A yes/no profile field, as YAML writes it.
    assert audience_of(town, everyone + "audience: {profile: {benches: false}}\n")[0].keys() \
        == {"103"}
    assert audience_of(town, everyone + "audience: {profile: {benches: true}}\n")[0] == {}
    # No Arabic text: the Arabic speaker gets the flow's own language.
    fallback, _ = audience_of(town, "messages: {en: Hi, he: שלום}\n")
    assert fallback == {"101": "he", "102": "en", "103": "en"}
