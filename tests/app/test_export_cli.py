"""`kolot export`: answers, ideas, votes and participation figures as xlsx, JSON and CSV,
each matching the database, with a data dictionary and pseudonyms only (both databases).

The data comes in through the real service, as participants on Telegram and WhatsApp
would give it: answers in Hebrew, ideas (one with a phone number, one that looks like a
spreadsheet formula) and pairwise votes on them and on two seed ideas.
"""

from __future__ import annotations

import csv
import json
import random
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import Engine, func, select

from bot.channels.base import Inbound
from bot.cli import main
from bot.registry import FlowRegistry
from bot.service import Service
from storage import UnitOfWork
from storage.database import make_session_factory
from storage.models import AgreeVote, Answer, Idea, PairwiseVote, Participant

FLOW = """\
id: alon-park
version: 2
title: פארק אלון
default_language: he
targets:
  age_band: {older: 0.6}
steps:
  - {id: consent, type: consent, text: מסכימים?}
  - id: age_band
    type: choice
    text: מה הגיל שלכם?
    profile: age_band
    options: [{id: young, label: עד 34}, {id: older, label: 35 ומעלה}]
  - id: uses
    type: multi_choice
    text: מה אתם עושים בפארק?
    options: [{id: walk, label: הליכה}, {id: play, label: משחק}, {id: sport, label: ספורט}]
  - {id: visits, type: number, text: כמה פעמים בשבוע?, min: 0, max: 21, integer: true}
  - {id: dogs, type: yes_no, text: יש לכם כלב?}
  - {id: wish, type: text, text: מה הייתם רוצים?}
  - {id: my_idea, type: idea, text: הרעיון שלכם?}
  - {id: rank, type: vote, pool: my_idea, text: מה יעזור יותר?, votes: 3}
  - {id: bye, type: end, text: תודה!}
"""
FLOW_ID = "alon-park"
PEOPLE = [
    ("telegram", "900100200"),
    ("whatsapp", "whatsapp:+972501234567"),
    ("telegram", "900100300"),
    ("whatsapp", "whatsapp:+972529876543"),
]
DECLINES = ("telegram", "900100999")
ANSWERS = [  # age band, uses, visits, dogs, wish
    ("2", "1,3", "0", "לא", "עוד צל ליד הספסלים"),
    ("1", "2", "4", "כן", "ברזייה שעובדת"),
    ("2", "1 2 3", "12", "כן", "=SUM(A1:A9) שבילים"),
    ("1", "3", "7", "לא", "שירותים ציבוריים נקיים"),
]
IDEAS = [
    "ברזיית מים ליד גן המשחקים",
    "עוד עצים וצל בשבילים",
    "התקשרו אליי 0501234567 ואסביר",  # the screen rejects it: personal details
    "=1+1 ספסלים נוספים ליד האגם",  # text, never a formula
]
SEEDS = ["מתקני כושר לכל הגילים", "גינת כלבים מגודרת"]
ADDRESS_FORMS = [
    "900100200", "900100300", "900100999", "972501234567", "972529876543", "501234567",
    "529876543", "whatsapp:",
]
"""The addresses in every form they might leak in: chat ids, numbers with and without
the country code, the channel prefix."""
START = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


class Clock:
    """A second passes with every input, so times and their order are checkable."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def filled(migrated_url: tuple[str, Engine], tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The database URL and the flow file, with five people through the flow."""
    url, engine = migrated_url
    path = tmp_path / "alon-park.yaml"
    path.write_text(FLOW, encoding="utf-8")
    registry = FlowRegistry()
    registry.add_file(path)
    factory = make_session_factory(engine)
    with UnitOfWork(factory) as uow:
        for text in SEEDS:
            uow.ideas.add(FLOW_ID, "my_idea", None, text, "he", status="approved", now=START)
        uow.commit()
    ids = count()
    service = Service(factory, registry, clock=Clock(), rng=random.Random(7),
                      new_id=lambda: f"pseudo{next(ids):04d}")
    inputs = count()

    def say(channel: str, address: str, text: str | None = None, **kw: Any) -> Any:
        inbound = Inbound(channel, address, f"m{next(inputs)}", text=text, **kw)
        return service.handle(inbound, FLOW_ID)

    for (channel, address), answers, idea in zip(PEOPLE, ANSWERS, IDEAS, strict=True):
        say(channel, address, command="start")
        for text in ("כן", *answers, idea):
            handled = say(channel, address, text)
        for n in range(8):  # vote until the flow ends; "no" when asked for more
            if handled.run_status == "finished":
                break
            asks_more = "עוד?" in handled.messages[-1].text
            handled = say(channel, address, "לא" if asks_more else "ab3"[n % 3])
        assert handled.run_status == "finished"
    say(*DECLINES, command="start")
    say(*DECLINES, "לא")
    yield url, path


def _export(url: str, flow: str, fmt: str, out: Path | None) -> str:
    args = ["export", flow, "--format", fmt, "--db", url]
    done = CliRunner().invoke(main, args + (["--out", str(out)] if out else []))
    assert done.exit_code == 0, done.output
    return done.output


def _cli_json(*args: str) -> Any:
    done = CliRunner().invoke(main, [*args, "--format", "json"])
    assert done.exit_code == 0, done.output
    return json.loads(done.output)


def _database(url: str) -> dict[str, Any]:
    """What the database holds, read here without the export's code."""
    from storage.database import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as db:
            answers: dict[str, dict[str, Any]] = {}
            for pseudonym, step, value in db.execute(
                select(Participant.pseudonym, Answer.step_id, Answer.value)
                .join(Participant, Participant.id == Answer.participant_id)
                .where(Answer.flow_id == FLOW_ID, Answer.step_id != "my_idea")
            ):
                answers.setdefault(pseudonym, {})[step] = value
            ideas = {
                row.id: row for row in db.execute(
                    select(Idea.id, Idea.text, Idea.status, Idea.reason, Idea.language,
                           Idea.created_at, Participant.pseudonym)
                    .outerjoin(Participant, Participant.id == Idea.participant_id)
                    .where(Idea.flow_id == FLOW_ID))
            }
            votes = sorted(
                (str(row.pseudonym), row.idea_low, row.idea_high, row.winner_id,
                 row.voted_at.replace(tzinfo=None))
                for row in db.execute(
                    select(Participant.pseudonym, PairwiseVote.idea_low, PairwiseVote.idea_high,
                           PairwiseVote.winner_id, PairwiseVote.voted_at)
                    .join(Participant, Participant.id == PairwiseVote.participant_id))
            )
            people = db.scalar(select(func.count()).select_from(Participant))
    finally:
        engine.dispose()
    return {"answers": answers, "ideas": ideas, "votes": votes, "people": people}


def _sheet(book: Any, name: str) -> list[dict[str, Any]]:
    rows = list(book[name].iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def _expected_participation(url: str, path: Path) -> list[tuple[Any, ...]]:
    stats = _cli_json("stats", str(path), "--db", url)
    reached = stats["stages"][0]["count"]
    rows: list[tuple[Any, ...]] = [
        ("funnel", s["name"], s["count"], round(s["count"] / reached, 3), None, None)
        for s in stats["stages"]
    ]
    rows += [(b["dimension"], s["value"], s["count"], s["share"], s["target"], s["short"])
             for b in stats["breakdowns"] for s in b["shares"]]
    return rows


def _check_ideas(found: list[dict[str, Any]], url: str, truth: dict[str, Any]) -> None:
    assert len(found) == len(truth["ideas"]) == len(SEEDS) + len(IDEAS)
    ranked = {r["idea"]: r for r in _cli_json("results", FLOW_ID, "--db", url)["pairwise"]}
    assert ranked  # there were votes
    for row in found:
        stored = truth["ideas"][row["idea"]]
        assert (row["author"], row["status"], row["reason"], row["language"]) == (
            stored.pseudonym, stored.status, stored.reason, stored.language)
        if stored.reason == "personal_data":
            assert row["text"] in (None, "") and "0501234567" in stored.text
        else:
            assert row["text"] == stored.text
        if row["idea"] in ranked:
            r = ranked[row["idea"]]
            assert (row["rank"], row["score"], row["wins"], row["losses"]) == (
                r["rank"], r["score"], r["wins"], r["losses"])
        else:  # not approved, or no vote decided on it yet: no rank, as in kolot results
            assert row["rank"] in (None, "") and row["score"] in (None, "")
    assert [row["reason"] for row in found].count("personal_data") == 1
    assert any(row["status"] == "approved" and row["idea"] not in ranked for row in found)
    assert {row["text"] for row in found if row["author"] is None} == set(SEEDS)


def test_xlsx_opens_with_openpyxl_and_matches_the_database(
    filled: tuple[str, Path], tmp_path: Path
) -> None:
    url, path = filled
    out = tmp_path / "alon.xlsx"
    said = _export(url, str(path), "xlsx", out)
    assert str(out) in said
    truth = _database(url)
    book = load_workbook(out)
    assert book.sheetnames == ["answers", "ideas", "votes", "participation", "dictionary"]
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"
        assert sheet.sheet_view.rightToLeft  # a Hebrew flow reads right to left
        assert all(cell.font.b for cell in sheet[1])

    answers = _sheet(book, "answers")
    assert len(answers) == len(truth["answers"]) == len(PEOPLE)  # not the one who declined
    for row in answers:
        stored = truth["answers"][row["participant"]]
        assert row["channel"] in ("telegram", "whatsapp") and row["language"] == "he"
        assert row["age_band"] == stored["age_band"]
        assert row["uses"] == ";".join(stored["uses"])
        assert row["visits"] == stored["visits"] and isinstance(row["visits"], int)
        assert row["dogs"] is stored["dogs"]
        assert row["wish"] == stored["wish"]
    assert [r["wish"] for r in answers] == [a[4] for a in ANSWERS]  # Hebrew, and "=SUM" text
    assert book["answers"]["H4"].data_type == "s"
    assert list(answers[0]) == ["participant", "channel", "language", "age_band", "uses",
                                "visits", "dogs", "wish"]

    _check_ideas(_sheet(book, "ideas"), url, truth)
    formula = next(c for row in book["ideas"].iter_rows() for c in row
                   if c.value == IDEAS[3])
    assert formula.data_type == "s"

    votes = _sheet(book, "votes")
    assert sorted((v["voter"], v["idea_a"], v["idea_b"], v["winner"], v["voted_at"])
                  for v in votes) == truth["votes"]
    assert {v["step"] for v in votes} == {"rank"} and {v["method"] for v in votes} == {
        "pairwise"}
    assert [v["voted_at"] for v in votes] == sorted(v["voted_at"] for v in votes)
    for v in votes:
        assert v["choice"] == ("skip" if v["winner"] is None else
                               "a" if v["winner"] == v["idea_a"] else "b")
    assert any(v["choice"] == "skip" for v in votes)

    participation = [tuple(r.values()) for r in _sheet(book, "participation")]
    assert participation == _expected_participation(url, path)
    assert ("age_band", "older", 2, 0.5, 0.6, True) in participation
    assert ("funnel", "reached", 5, 1.0, None, None) in participation

    dictionary = _sheet(book, "dictionary")
    _check_dictionary(dictionary, {n: list(_sheet(book, n)[0]) for n in book.sheetnames
                                   if n != "dictionary"})


def _check_dictionary(dictionary: list[dict[str, Any]], tables: dict[str, list[str]]) -> None:
    """One row per column of every table, in order, each with a type and a meaning; the
    answers' rows carry the question and its options."""
    assert [(d["table"], d["column"]) for d in dictionary] == [
        (table, column) for table, columns in tables.items() for column in columns]
    assert all(d["type"] and d["meaning"] for d in dictionary)
    about = {(d["table"], d["column"]): d for d in dictionary}
    assert about["answers", "age_band"]["meaning"].startswith("מה הגיל שלכם?")
    assert about["answers", "age_band"]["values"] == "young = עד 34; older = 35 ומעלה"
    assert about["answers", "uses"]["type"] == "option ids"
    assert about["answers", "visits"]["type"] == "integer"
    assert about["answers", "dogs"]["type"] == "true/false"


def test_json_parses_and_matches_the_database(filled: tuple[str, Path], tmp_path: Path) -> None:
    url, path = filled
    out = tmp_path / "alon.json"
    _export(url, FLOW_ID, "json", out)  # by id: the flow as stored in the database
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["flow"] == {"id": FLOW_ID, "version": 2, "title": "פארק אלון",
                                "default_language": "he"}
    assert datetime.fromisoformat(document["exported_at"]).tzinfo is not None
    tables = document["tables"]
    assert list(tables) == ["answers", "ideas", "votes", "participation"]
    truth = _database(url)
    assert {r["participant"]: {k: r[k] for k in ("age_band", "uses", "visits", "dogs", "wish")}
            for r in tables["answers"]} == truth["answers"]  # native: lists, numbers, booleans
    _check_ideas(tables["ideas"], url, truth)
    assert sorted((v["voter"], v["idea_a"], v["idea_b"], v["winner"],
                   datetime.fromisoformat(v["voted_at"]).replace(tzinfo=None))
                  for v in tables["votes"]) == truth["votes"]
    assert [tuple(r.values()) for r in tables["participation"]] == \
        _expected_participation(url, path)
    _check_dictionary(document["dictionary"], {n: list(t[0]) for n, t in tables.items()})

    printed = CliRunner().invoke(main, ["export", FLOW_ID, "--format", "json", "--out", "-",
                                        "--db", url])
    assert json.loads(printed.output)["tables"] == tables


def test_csv_files_read_back_with_the_csv_module(filled: tuple[str, Path],
                                                 tmp_path: Path) -> None:
    url, path = filled
    out = tmp_path / "alon-csv"
    _export(url, str(path), "csv", out)
    names = ["answers", "ideas", "votes", "participation", "dictionary"]
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{n}.csv" for n in names)
    tables = {}
    for name in names:
        raw = (out / f"{name}.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads it as UTF-8
        with (out / f"{name}.csv").open(encoding="utf-8-sig", newline="") as f:
            tables[name] = list(csv.DictReader(f))
    truth = _database(url)
    answers = tables["answers"]
    assert len(answers) == len(truth["answers"])
    for row in answers:
        stored = truth["answers"][row["participant"]]
        assert row["uses"] == ";".join(stored["uses"])
        assert row["visits"] == str(stored["visits"])
        assert row["dogs"] == ("true" if stored["dogs"] else "false")
        expected = stored["wish"]
        assert row["wish"] == (f"'{expected}" if expected.startswith("=") else expected)
    ideas = {int(r["idea"]): r for r in tables["ideas"]}
    assert len(ideas) == len(truth["ideas"])
    for idea, stored in truth["ideas"].items():
        assert ideas[idea]["author"] == (stored.pseudonym or "")
        assert datetime.fromisoformat(ideas[idea]["created_at"]) == stored.created_at
    assert ideas[max(ideas)]["text"] == f"'{IDEAS[3]}"  # a spreadsheet won't run it
    assert len(tables["votes"]) == len(truth["votes"])
    assert [(r["dimension"], r["value"], int(r["count"])) for r in tables["participation"]] \
        == [row[:3] for row in _expected_participation(url, path)]
    _check_dictionary(tables["dictionary"],
                      {n: list(t[0]) for n, t in tables.items() if n != "dictionary"})


@pytest.mark.parametrize("fmt", ["xlsx", "json", "csv"])
def test_no_address_appears_anywhere(filled: tuple[str, Path], tmp_path: Path,
                                     fmt: str) -> None:
    url, path = filled
    out = tmp_path / f"export-{fmt}"
    _export(url, str(path), fmt, out)
    if fmt == "xlsx":
        with zipfile.ZipFile(out) as book:  # the sheets are compressed XML inside
            texts = [book.read(name).decode("utf-8") for name in book.namelist()]
    elif fmt == "csv":
        texts = [p.read_text(encoding="utf-8-sig") for p in out.iterdir()]
    else:
        texts = [out.read_text(encoding="utf-8")]
    everything = "\n".join(texts)
    assert "pseudo0000" in everything and "ברזיית מים" in everything
    for form in ADDRESS_FORMS:
        assert form not in everything, form


def test_default_paths_a_left_to_right_flow_and_long_tables(
    filled: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, path = filled
    monkeypatch.chdir(tmp_path)
    for fmt, made in (("xlsx", "alon-park.xlsx"), ("json", "alon-park.json"),
                      ("csv", "alon-park-export")):
        assert made in _export(url, str(path), fmt, None)
        assert (tmp_path / made).exists()

    import bot.exports

    monkeypatch.setattr(bot.exports, "XLSX_ROWS", 4)  # a table longer than a sheet
    _export(url, str(path), "xlsx", tmp_path / "split.xlsx")
    book = load_workbook(tmp_path / "split.xlsx")
    votes = [n for n in book.sheetnames if n.startswith("votes")]
    assert votes[:2] == ["votes", "votes-2"]
    assert sum(len(_sheet(book, n)) for n in votes) == len(_database(url)["votes"])

    english = tmp_path / "english.yaml"
    english.write_text(FLOW.replace("id: alon-park", "id: quiet").replace(
        "default_language: he", "default_language: en"), encoding="utf-8")
    _export(url, str(english), "xlsx", tmp_path / "quiet.xlsx")
    book = load_workbook(tmp_path / "quiet.xlsx")
    assert not book["answers"].sheet_view.rightToLeft
    assert [len(_sheet(book, n)) for n in ("answers", "ideas", "votes")] == [0, 0, 0]

    unknown = CliRunner().invoke(main, ["export", "no-such-flow", "--db", url])
    assert unknown.exit_code == 1 and "no flow 'no-such-flow'" in unknown.output
    printed = CliRunner().invoke(main, ["export", str(path), "--out", "-", "--db", url])
    assert printed.exit_code == 2 and "only JSON is printed" in printed.output


AGREE = """\
id: agree-park
version: 1
default_language: en
steps:
  - {id: consent, type: consent, text: Agreed?}
  - {id: my_idea, type: idea, text: Your idea?}
  - {id: judge, type: vote, pool: my_idea, method: agree, text: Agree?}
  - {id: pick, type: vote, pool: my_idea, method: approve, text: Which?, show: 2}
  - {id: bye, type: end, text: Thanks!}
"""


def test_agree_and_approve_figures_when_the_flow_votes_that_way(
    migrated_url: tuple[str, Engine], tmp_path: Path
) -> None:
    url, engine = migrated_url
    path = tmp_path / "agree.yaml"
    path.write_text(AGREE, encoding="utf-8")
    with UnitOfWork(make_session_factory(engine)) as uow:
        shade, water = (uow.ideas.add("agree-park", "my_idea", None, text, "en",
                                      status="approved", now=START)
                        for text in ("More shade", "A water fountain"))
        for n in range(6):
            voter = uow.participants.create("telegram", f"77700{n}", now=START,
                                            pseudonym=f"v{n}").id
            uow.votes.record_agree("agree-park", voter, shade,
                                   "agree" if n < 4 else "disagree", now=START)
            uow.votes.record_agree("agree-park", voter, water, "approve" if n < 2 else "skip",
                                   now=START)
        uow.commit()
    out = tmp_path / "agree.json"
    _export(url, str(path), "json", out)
    tables = json.loads(out.read_text(encoding="utf-8"))["tables"]
    results = _cli_json("results", "agree-park", "--db", url)
    ideas = {r["idea"]: r for r in tables["ideas"]}
    assert "rank" not in ideas[shade]  # no pairwise step: no pairwise columns
    agreed = {a["idea"]: a for a in results["agree"]}[shade]
    assert (ideas[shade]["agree"], ideas[shade]["disagree"], ideas[shade]["passed"],
            ideas[shade]["consensus"]) == (4, 2, 0, agreed["consensus"])
    approved = {a["idea"]: a for a in results["approve"]}[water]
    assert (ideas[water]["approved"], ideas[water]["shown"], ideas[water]["share"]) == (
        2, 6, approved["share"])
    assert ideas[water]["agree"] is None and ideas[shade]["approved"] is None
    methods = [(v["step"], v["method"], v["choice"]) for v in tables["votes"]]
    assert methods.count(("judge", "agree", "agree")) == 4
    assert methods.count(("pick", "approve", "approve")) == 2
    assert len(methods) == 12
    with engine.connect() as db:
        assert db.scalar(select(func.count()).select_from(AgreeVote)) == 12



def test_a_question_called_language_keeps_its_name(
    migrated_url: tuple[str, Engine], tmp_path: Path
) -> None:
    url, engine = migrated_url
    path = tmp_path / "home.yaml"
    path.write_text("""\
id: home
version: 1
default_language: en
steps:
  - {id: consent, type: consent, text: Agreed?}
  - id: language
    type: choice
    text: What do you speak at home?
    options: [{id: he, label: Hebrew}, {id: ar, label: Arabic}, {id: am, label: Amharic}]
  - {id: bye, type: end, text: Thanks!}
""", encoding="utf-8")
    registry = FlowRegistry()
    registry.add_file(path)
    service = Service(make_session_factory(engine), registry, clock=Clock(),
                      new_id=lambda: "pseudo-home")
    for n, text in enumerate((None, "yes", "Amharic")):
        service.handle(Inbound("telegram", "900100200", f"h{n}", text=text,
                               command=None if text else "start"), "home")
    out = tmp_path / "home.json"
    _export(url, str(path), "json", out)
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["tables"]["answers"] == [
        {"participant": "pseudo-home", "channel": "telegram", "_language": "en",
         "language": "am"}]
    about = {d["column"]: d["meaning"] for d in document["dictionary"]
             if d["table"] == "answers"}
    assert about["language"] == "What do you speak at home?"
