"""Pseudonyms are a keyed hash of the channel address: the same under one key, another
under another key, never the address; every export and report, run for real over a
database the real service filled, holds no address in any byte; ``kolot serve`` will not
start without the key and a short key is refused, while ``kolot chat`` needs none."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import random
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.admin import Desk
from bot.channels.base import Inbound
from bot.cli import main
from bot.pseudonyms import LENGTH, MIN_KEY_LENGTH, Pseudonyms
from bot.registry import FlowRegistry
from bot.service import Service
from bot.settings import Settings, SettingsError
from storage import UnitOfWork
from storage.database import make_engine, make_session_factory, upgrade
from storage.models import Participant

ROOT = Path(__file__).resolve().parents[2]
KEY = "kolot-test-key-" + "k" * MIN_KEY_LENGTH
OTHER_KEY = "another-deployment-" + "o" * MIN_KEY_LENGTH
FLOW_ID = "bench-square"
FLOW = f"""\
id: {FLOW_ID}
version: 1
title: The benches
default_language: en
steps:
  - {{id: consent, type: consent, text: Do you agree?}}
  - id: age_band
    type: choice
    text: How old are you?
    profile: age_band
    options: [{{id: young, label: Under 35}}, {{id: older, label: 35 or older}}]
  - {{id: wish, type: text, text: What would you change?}}
  - {{id: my_idea, type: idea, text: Your idea?}}
  - {{id: rank, type: vote, pool: my_idea, text: Which is better?, votes: 2}}
  - {{id: bye, type: end, text: Thanks!}}
"""
PEOPLE = [
    ("telegram", "7300100200"),
    ("whatsapp", "whatsapp:+972541112233"),
    ("telegram", "7300100300"),
    ("console", "dana-walkthrough"),
]
ANSWERS = [("1", "More shade by the benches", "A drinking fountain by the pond"),
           ("2", "Cleaner paths", "Benches facing the sunset"),
           ("2", "Better lights at night", "Lights along the northern path"),
           ("1", "A quiet corner", "A reading corner under the trees")]
ADMIN = ("telegram", "7300999111")
ADDRESS_FORMS = ["7300100200", "7300100300", "7300999111", "972541112233", "541112233",
                 "whatsapp:+", "dana-walkthrough"]
"""Every address in each form it might leak in: chat ids, the number with and without
its country code, the channel's prefix, the console name."""
START = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def forms(address: str) -> list[str]:
    digits = re.sub(r"\D", "", address)
    return [address, *([digits, digits[3:]] if digits else [])]


# --- the hash ---------------------------------------------------------------------------


def test_the_same_address_has_one_pseudonym_per_key_and_it_is_not_the_address() -> None:
    ours, again, theirs = Pseudonyms(KEY), Pseudonyms(KEY), Pseudonyms(OTHER_KEY)
    seen = set()
    for channel, address in [*PEOPLE, ADMIN]:
        pseudonym = ours.of(channel, address)
        assert pseudonym == again.of(channel, address)  # another process, the same key
        assert pseudonym != theirs.of(channel, address)
        assert re.fullmatch(f"[0-9a-f]{{{LENGTH}}}", pseudonym)
        expected = hmac.new(KEY.encode(), f"{channel}:{address}".encode(), hashlib.sha256)
        assert pseudonym == expected.hexdigest()[:LENGTH]
        for form in forms(address):
            assert form not in pseudonym and pseudonym not in form
        seen.add(pseudonym)
    assert len(seen) == len(PEOPLE) + 1
    assert ours.of("telegram", "5") != ours.of("whatsapp", "5")  # the channel counts
    assert Pseudonyms.for_process().of(*ADMIN) != Pseudonyms.for_process().of(*ADMIN)
    assert KEY not in repr(ours)
    with pytest.raises(TypeError, match="needs the address"):
        ours()


def test_a_short_key_is_refused_naming_the_variable_and_not_showing_the_key() -> None:
    short = "s3cr3t-but-short"
    with pytest.raises(SettingsError, match="KOLOT_PSEUDONYM_KEY is too short") as raised:
        Settings.from_env({"KOLOT_PSEUDONYM_KEY": short})
    assert short not in str(raised.value)
    assert "secrets.token_urlsafe" in str(raised.value)  # how to make a good one
    with pytest.raises(ValueError, match=str(MIN_KEY_LENGTH)):
        Pseudonyms(short)
    assert Settings.from_env({}).pseudonym_key is None
    assert Settings.from_env({"KOLOT_PSEUDONYM_KEY": f"  {KEY}\n"}).pseudonym_key == KEY
    assert KEY not in repr(Settings.from_env({"KOLOT_PSEUDONYM_KEY": KEY}))


# --- serve and chat ---------------------------------------------------------------------


def _serve(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KOLOT_")}
    environment |= {"KOLOT_DATABASE_URL": f"sqlite:///{tmp_path}/serve.db", **env}
    return subprocess.run([sys.executable, "-m", "bot", "serve", *args], env=environment,
                          cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_serve_refuses_to_start_without_a_key_and_says_how_to_make_one(
    tmp_path: Path,
) -> None:
    done = _serve(tmp_path)
    assert done.returncode == 2, done.stderr
    assert "KOLOT_PSEUDONYM_KEY is not set" in done.stderr
    assert "secrets.token_urlsafe(32)" in done.stderr
    assert not (tmp_path / "serve.db").exists()  # refused before touching anything
    done = _serve(tmp_path, KOLOT_PSEUDONYM_KEY="short")
    assert done.returncode == 2 and "KOLOT_PSEUDONYM_KEY is too short" in done.stderr
    # A sender enrols nobody, so it needs no key: it gets as far as the flows.
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: broken\n", encoding="utf-8")
    done = _serve(tmp_path, "--role", "sender", KOLOT_FLOWS=str(broken))
    assert done.returncode == 1 and "not starting" in done.stderr, done.stderr


def test_chat_needs_no_environment_and_uses_the_key_when_there_is_one(
    tmp_path: Path,
) -> None:
    path = tmp_path / "benches.yaml"
    path.write_text(FLOW, encoding="utf-8")
    url = f"sqlite:///{tmp_path}/chat.db"
    script = tmp_path / "inputs.txt"
    script.write_text("yes\n1\n", encoding="utf-8")
    runner = CliRunner()
    for name, key in (("nokey", None), ("keyed", KEY)):
        done = runner.invoke(main, ["chat", str(path), "--db", url, "--as", name,
                                    "--script", str(script)],
                             env={"KOLOT_PSEUDONYM_KEY": key}, catch_exceptions=False)
        assert done.exit_code == 0, done.output
        assert "bot: What would you change?" in done.output
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            stored = {address: pseudonym for address, pseudonym in session.execute(
                select(Participant.address, Participant.pseudonym))}
    finally:
        engine.dispose()
    assert stored["keyed"] == Pseudonyms(KEY).of("console", "keyed")
    assert re.fullmatch(f"[0-9a-f]{{{LENGTH}}}", stored["nokey"])
    assert stored["nokey"] != Pseudonyms(KEY).of("console", "nokey")
    done = runner.invoke(main, ["chat", str(path), "--db", url, "--script", str(script)],
                         env={"KOLOT_PSEUDONYM_KEY": "short"})
    assert done.exit_code == 2 and "KOLOT_PSEUDONYM_KEY is too short" in done.output


# --- every export and report ------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def filled(empty_database_url: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The database URL and the flow file, with four people through the flow on three
    channels (their pseudonyms keyed) and an admin who asked for the figures."""
    url = empty_database_url
    upgrade(url)
    engine = make_engine(url)
    path = tmp_path / "benches.yaml"
    path.write_text(FLOW, encoding="utf-8")
    registry = FlowRegistry()
    registry.add_file(path)
    factory = make_session_factory(engine)
    service = Service(factory, registry, clock=Clock(), rng=random.Random(3),
                      pseudonyms=Pseudonyms(KEY))
    service.admin = Desk(service, {ADMIN}, broadcasts=tmp_path / "none")
    inputs = count()

    def say(channel: str, address: str, text: str | None = None, **kw: Any) -> Any:
        inbound = Inbound(channel, address, f"m{next(inputs)}", text=text, **kw)
        return service.handle(inbound, FLOW_ID)

    for (channel, address), answers in zip(PEOPLE, ANSWERS, strict=True):
        say(channel, address, command="start")
        for text in ("yes", *answers):
            handled = say(channel, address, text)
        for n in range(8):  # vote until the flow ends; "no" when asked for more
            if handled.run_status == "finished":
                break
            more = "more?" in handled.messages[-1].text
            handled = say(channel, address, "no" if more else "ab"[n % 2])
        assert handled.run_status == "finished", [m.text for m in handled.messages]
    say(*ADMIN, "/stats")  # the admin is enrolled by the desk
    try:
        yield url, path
    finally:
        engine.dispose()


def _run(*args: str) -> str:
    done = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert done.exit_code == 0, done.output
    return done.output


def _bytes_of(path: Path) -> list[tuple[str, bytes]]:
    """Every file under ``path``, an xlsx (a zip) as each of its parts, uncompressed."""
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    found: list[tuple[str, bytes]] = []
    for file in files:
        if zipfile.is_zipfile(file):
            with zipfile.ZipFile(file) as archive:
                found += [(f"{file.name}:{n}", archive.read(n)) for n in archive.namelist()]
        else:
            found.append((file.name, file.read_bytes()))
    return found


def test_every_export_and_report_shows_participants_by_their_keyed_pseudonym_only(
    filled: tuple[str, Path], tmp_path: Path
) -> None:
    url, path = filled
    flow = str(path)
    engine = make_engine(url)
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            stored = {(p.channel, p.address): p.pseudonym
                      for p in uow.session.scalars(select(Participant))}
    finally:
        engine.dispose()
    keyed = Pseudonyms(KEY)
    assert stored == {person: keyed.of(*person) for person in [*PEOPLE, ADMIN]}

    out = tmp_path / "out"
    out.mkdir()
    printed: dict[str, str] = {}
    for fmt, target in (("xlsx", "all.xlsx"), ("json", "all.json"), ("csv", "all-csv")):
        printed[f"export {fmt}"] = _run("export", flow, "--format", fmt, "--db", url,
                                        "--out", str(out / target))
    printed["export -"] = _run("export", flow, "--format", "json", "--db", url, "--out", "-")
    for fmt in ("json", "csv"):
        printed[f"answers {fmt}"] = _run("answers", flow, "--format", fmt, "--db", url,
                                         "--out", str(out / f"answers.{fmt}"))
        printed[f"answers {fmt} printed"] = _run("answers", flow, "--format", fmt,
                                                 "--db", url)
    for fmt in ("text", "json"):
        printed[f"results {fmt}"] = _run("results", flow, "--format", fmt, "--db", url)
        printed[f"stats {fmt}"] = _run("stats", flow, "--format", fmt, "--db", url)
    printed["ideas list"] = _run("ideas", "list", flow, "--db", url)
    for name in ("report.html", "report.md"):
        printed[name] = _run("report", flow, "--db", url, "--out", str(out / name))
    broadcast = tmp_path / "thanks.yaml"
    broadcast.write_text(f"name: thanks\nflow: {FLOW_ID}\nmessages:\n  en: Thank you!\n",
                         encoding="utf-8")
    printed["broadcast"] = _run("broadcast", str(broadcast), "--flows", flow, "--yes",
                                "--no-send", "--db", url)
    printed["outbox status"] = _run("outbox", "status", "--db", url)
    printed["audit"] = _run("audit", "--db", url)

    everything = [(f"printed by kolot {k}", v.encode()) for k, v in printed.items()]
    everything += _bytes_of(out)
    names = {name for name, _ in everything}
    assert {"all.json", "answers.json", "answers.csv", "report.html", "report.md",
            "votes.csv", "ideas.csv"} <= names
    assert any(name.startswith("all.xlsx:xl/worksheets/") for name in names)
    admin = ADMIN[1]  # the audit trail names the admin (staff), and no participant
    for name, data in everything:
        for form in ADDRESS_FORMS:
            if form == admin and name == "printed by kolot audit":
                continue
            assert form.encode() not in data, (form, name)
    assert f"telegram:{admin}" in printed["audit"]
    exported = json.loads((out / "all.json").read_text(encoding="utf-8"))
    authors = {row["author"] for row in exported["tables"]["ideas"]}
    voters = {row["voter"] for row in exported["tables"]["votes"]}
    answered = {row["participant"] for row in exported["tables"]["answers"]}
    people = {keyed.of(*person) for person in PEOPLE}
    assert answered == authors == people and voters <= people and voters
    assert "written to the outbox: 3 recipients" in printed["broadcast"]  # not the console
