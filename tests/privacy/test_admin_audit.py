"""The admins' audit trail: each admin action in the chat (driven through the real
Service and Desk) and on the command line writes one row, in the action's own
transaction, saying who, what, on what and when; anyone else sending the same command is
an ordinary participant and writes nothing; ``kolot audit`` lists the rows; no row ever
holds a participant's address or words."""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.admin import Desk
from bot.admin.turn import Turn
from bot.channels.base import Inbound, Tap
from bot.cli import main
from bot.registry import FlowRegistry
from bot.service import Handled, Service
from storage import UnitOfWork
from storage.database import make_engine, make_session_factory, upgrade
from storage.models import AdminAction, Idea, OutboxMessage

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ADMIN = "1001"
WHATSAPP_ADMIN = "whatsapp:+972501234567"
PEOPLE = ("2000555", "2000556", "2000557")
"""Participants' Telegram chat ids."""
IDEAS = ("A drinking fountain by the benches", "Shade over the playground please",
         "More trees along the northern path")
BROADCAST_TEXT = "Voting opens next week, thank you all"
FLOW = f"""\
id: square
version: 1
title: The square
default_language: en
moderation: pre
timezone: UTC
quiet_hours: {{from: "00:00", to: "00:00"}}
phases:
  - id: ideas
    starts: "{NOW - timedelta(days=3):%Y-%m-%d %H:%M}"
    ends: "{NOW + timedelta(days=5):%Y-%m-%d %H:%M}"
steps:
  - {{id: welcome, type: message, text: Welcome to the square!}}
  - {{id: consent, type: consent, text: Do you agree?}}
  - {{id: idea, type: idea, text: Your idea for the square?, phase: ideas}}
  - {{id: bye, type: end, text: Thanks!}}
"""


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    url: str
    flow: Path
    factory: sessionmaker[Session]
    service: Service
    clock: Clock
    _ids: Any = field(default_factory=lambda: count(1))

    def send(self, address: str, text: str | None = None, **fields: Any) -> Handled:
        channel = "whatsapp" if address.startswith("whatsapp:") else "telegram"
        inbound = Inbound(channel, address, f"u{next(self._ids)}", text=text, **fields)
        return self.service.handle(inbound, "square")

    def tap(self, address: str, row: int, pick: int) -> Handled:
        n = next(self._ids)
        return self.send(address, tap=Tap(row, (pick,), message_ref=f"m{row}",
                                          callback=f"cb{n}"))

    def admin_rows(self, address: str) -> list[tuple[int, dict[str, Any]]]:
        """The admin messages written to ``address``: row id and conversation state."""
        with self.factory() as session:
            found = session.execute(select(OutboxMessage.id, OutboxMessage.payload)
                                    .where(OutboxMessage.address == address)
                                    .order_by(OutboxMessage.id)).all()
        return [(int(i), dict(p["admin"])) for i, p in found if p.get("admin")]

    def audit(self) -> list[AdminAction]:
        """Every audit row, oldest first."""
        with self.factory() as session:
            return list(session.scalars(select(AdminAction).order_by(AdminAction.id)))

    def statuses(self) -> dict[str, str]:
        with self.factory() as session:
            return {text: status
                    for text, status in session.execute(select(Idea.text, Idea.status))}


@pytest.fixture
def world(empty_database_url: str, tmp_path: Path) -> Iterator[World]:
    """A migrated database of this test alone (the command line reaches it by URL), three
    participants who each proposed an idea (held for moderation) and two admins."""
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    path = tmp_path / "square.yaml"
    path.write_text(FLOW, encoding="utf-8")
    registry = FlowRegistry()
    registry.add_file(path)
    factory = make_session_factory(engine)
    clock = Clock()
    pseudonyms = count()
    service = Service(factory, registry, clock=clock,
                      new_id=lambda: f"pseudo{next(pseudonyms):06d}")
    service.admin = Desk(service, {("telegram", ADMIN), ("whatsapp", WHATSAPP_ADMIN)},
                         broadcasts=tmp_path / "none")
    made = World(empty_database_url, path, factory, service, clock)
    for address, idea in zip(PEOPLE, IDEAS, strict=True):
        made.send(address, command="start")
        made.send(address, "yes")
        made.send(address, idea)
    try:
        yield made
    finally:
        engine.dispose()


def kolot(*args: str) -> str:
    done = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert done.exit_code == 0, done.output
    return done.output


def detail(row: AdminAction) -> dict[str, Any]:
    return dict(row.detail or {})


def at(row: AdminAction) -> datetime:
    return row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)


# --- in the chat ------------------------------------------------------------------------


def test_an_admins_moderation_writes_one_row_each_saying_who_what_and_when(
    world: World,
) -> None:
    assert world.audit() == []  # participants' inputs record nothing
    world.send(ADMIN, "/pending")
    [listed] = world.audit()
    assert (listed.actor, listed.action, listed.subject) == ("telegram:1001",
                                                             "ideas.pending", "flow:square")
    assert detail(listed) == {"shown": 3} and at(listed) == NOW

    rows = world.admin_rows(ADMIN)
    world.clock.now = NOW + timedelta(minutes=5)
    world.tap(ADMIN, rows[0][0], 0)  # Approve
    [approved] = world.audit()[1:]
    idea = rows[0][1]["idea"]
    assert (approved.actor, approved.action, approved.subject) == (
        "telegram:1001", "idea.approve", f"idea:{idea}")
    assert detail(approved) == {"flow": "square", "was": "pending"}
    assert at(approved) == NOW + timedelta(minutes=5)
    assert world.statuses()[IDEAS[0]] == "approved"

    world.tap(ADMIN, rows[0][0], 1)  # a second tap on it changes nothing: no row
    assert len(world.audit()) == 2

    world.send(WHATSAPP_ADMIN, "/pending")  # the admin as KOLOT_ADMINS names them
    [(row, state), *_] = world.admin_rows(WHATSAPP_ADMIN)
    world.send(WHATSAPP_ADMIN, tap=Tap(row, (1,), message_ref=f"SM{row}", edits=False))
    rejected = world.audit()[-1]
    assert (rejected.actor, rejected.action, rejected.subject) == (
        WHATSAPP_ADMIN, "idea.reject", f"idea:{state['idea']}")
    assert detail(rejected) == {"flow": "square", "reason": "rules", "was": "pending"}
    assert [r.action for r in world.audit()] == ["ideas.pending", "idea.approve",
                                                 "ideas.pending", "idea.reject"]


def test_the_row_commits_with_the_action_or_not_at_all(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.send(ADMIN, "/pending")
    row = world.admin_rows(ADMIN)[0][0]

    def broken(self: Turn, text: str) -> None:
        raise RuntimeError("the reply could not be written")

    monkeypatch.setattr(Turn, "settle", broken)
    with pytest.raises(RuntimeError):
        world.tap(ADMIN, row, 0)
    assert [r.action for r in world.audit()] == ["ideas.pending"]
    assert set(world.statuses().values()) == {"pending"}


@pytest.mark.parametrize("command", ["/pending", "/stats", "/results", "/broadcast square",
                                     "/close ideas", "/help"])
def test_anyone_else_sending_an_admin_command_is_a_participant_and_writes_nothing(
    world: World, command: str
) -> None:
    handled = world.send("2000999", command)
    assert [m.text for m in handled.messages] == ["Welcome to the square!", "Do you agree?"]
    assert world.audit() == []
    assert set(world.statuses().values()) == {"pending"}
    world.send(ADMIN, command)  # the same from an admin: one row
    assert len(world.audit()) == 1


def test_every_command_and_every_tap_that_changes_or_shows_data_writes_one_row(
    world: World,
) -> None:
    for command in ("/help", "/stats", "/results", "/stats park", "/close votes",
                    "/broadcast"):
        world.send(ADMIN, command)
    world.send(ADMIN, "/broadcast square")
    world.send(ADMIN, BROADCAST_TEXT)  # the message asked for: its audience is counted
    confirm = world.admin_rows(ADMIN)[-1]
    assert confirm[1]["do"] == "confirm"
    world.tap(ADMIN, confirm[0], 0)  # Confirm
    world.send(ADMIN, "/close ideas")
    world.send(ADMIN, "/close ideas")  # closed before: said so, and recorded
    found = [(r.action, r.subject, detail(r)) for r in world.audit()]
    [broadcast_id] = {int(s.split(":")[1]) for _, s, _ in found
                      if s and s.startswith("broadcast:")}
    assert found == [
        ("help", None, {}),
        ("stats.show", "flow:square", {}),
        ("results.show", "flow:square", {}),
        ("stats.show", None, {"refused": "flow"}),
        ("phase.close", "flow:square", {"refused": "phase"}),
        ("broadcast.menu", None, {}),
        ("broadcast.write", "flow:square", {}),
        ("broadcast.preview", "flow:square", {"name": f"chat-{confirm[0] - 1}",
                                              "recipients": 3}),
        ("broadcast.send", f"broadcast:{broadcast_id}", {"name": f"chat-{confirm[0] - 1}",
                                                         "flow": "square", "recipients": 3}),
        ("phase.close", "phase:square/ideas", {"sent": 3}),
        ("phase.close", "phase:square/ideas", {"closed_before": True}),
    ]
    assert {r.actor for r in world.audit()} == {"telegram:1001"}
    assert all(BROADCAST_TEXT not in json.dumps(detail(r)) for r in world.audit())


# --- on the command line ----------------------------------------------------------------


def test_a_command_line_moderation_writes_a_cli_row(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(getpass, "getuser", lambda: "maria")
    with UnitOfWork(world.factory) as uow:
        first, second, third = (i.id for i in uow.ideas.listed("square"))
    flow = str(world.flow)
    kolot("ideas", "approve", flow, str(first), "--db", world.url)
    [row] = world.audit()
    assert (row.actor, row.action, row.subject) == ("cli:maria", "idea.approve",
                                                    f"idea:{first}")
    assert detail(row) == {"flow": "square", "was": "pending"}
    assert abs(at(row) - datetime.now(UTC)) < timedelta(minutes=5)

    kolot("ideas", "reject", flow, str(second), "--reason", "duplicate", "--db", world.url)
    kolot("ideas", "merge", flow, str(third), str(first), "--db", world.url)
    assert [(r.action, r.subject, detail(r)) for r in world.audit()[1:]] == [
        ("idea.reject", f"idea:{second}", {"flow": "square", "was": "pending",
                                           "reason": "duplicate"}),
        ("idea.merge", f"idea:{third}", {"flow": "square", "into": first}),
    ]

    def nobody() -> str:
        raise OSError("no user name")

    monkeypatch.setattr(getpass, "getuser", nobody)
    kolot("ideas", "list", flow, "--db", world.url)
    assert world.audit()[-1].actor == "cli"
    assert world.audit()[-1].action == "ideas.list"


def test_the_command_line_records_what_changes_or_reveals_data_and_no_addresses(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(getpass, "getuser", lambda: "maria")
    monkeypatch.chdir(tmp_path)
    flow = str(world.flow)
    seeds = tmp_path / "seeds.csv"
    seeds.write_text("step,text\nidea,A seed idea from the council\n", encoding="utf-8")
    message = tmp_path / "thanks.yaml"
    message.write_text("name: thanks\nflow: square\nmessages:\n  en: Thank you!\n",
                       encoding="utf-8")
    kolot("ideas", "import", flow, str(seeds), "--db", world.url)
    kolot("answers", flow, "--db", world.url)
    kolot("export", flow, "--format", "json", "--out", str(tmp_path / "x.json"),
          "--db", world.url)
    kolot("report", flow, "--out", str(tmp_path / "r.md"), "--db", world.url)
    kolot("results", flow, "--db", world.url)
    kolot("stats", flow, "--db", world.url)
    code = kolot("invite", flow, "--source", "poster", "--out", str(tmp_path),
                 "--db", world.url).split()[2].rstrip(":")
    kolot("broadcast", str(message), "--flows", flow, "--yes", "--no-send",
          "--db", world.url)
    kolot("broadcast", str(message), "--flows", flow, "--yes", "--no-send",
          "--db", world.url)  # run again: it resumes, sending nobody twice
    kolot("outbox", "status", "--db", world.url)  # counts only: not recorded
    kolot("tick", "--flows", flow, "--db", world.url)  # the scheduler's work: not recorded
    found = [(r.action, r.subject) for r in world.audit()]
    assert found == [
        ("ideas.import", "flow:square"),
        ("answers.export", "flow:square"),
        ("flow.export", "flow:square"),
        ("report.write", "flow:square"),
        ("results.show", "flow:square"),
        ("stats.show", "flow:square"),
        ("invite.create", f"invite:{code}"),
        ("broadcast.send", found[7][1]),
        ("broadcast.resume", found[7][1]),
    ]
    rows = world.audit()
    assert {r.actor for r in rows} == {"cli:maria"}
    assert detail(rows[0]) == {"ideas": 1}
    assert detail(rows[1]) == {"format": "json", "records": 3}
    assert detail(rows[2])["rows"]["answers"] == 3
    assert detail(rows[6]) == {"flow": "square", "source": "poster"}
    assert detail(rows[7]) == {"name": "thanks", "flow": "square", "recipients": 3}

    # And the chat's rows beside them: still no participant's address or words.
    world.send(ADMIN, "/pending")
    world.tap(ADMIN, world.admin_rows(ADMIN)[0][0], 1)
    for row in world.audit():
        text = " ".join([row.actor, row.action, row.subject or "",
                         json.dumps(row.detail, ensure_ascii=False)])
        for address in PEOPLE:
            assert address not in text
        for idea in IDEAS:
            assert idea not in text


def test_kolot_audit_lists_the_newest_rows_first(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "no admin actions recorded" in kolot("audit", "--db", world.url)
    monkeypatch.setattr(getpass, "getuser", lambda: "maria")
    world.send(ADMIN, "/pending")
    world.tap(ADMIN, world.admin_rows(ADMIN)[0][0], 0)
    world.clock.now = NOW + timedelta(hours=1)
    kolot("stats", str(world.flow), "--db", world.url)
    listed = kolot("audit", "--db", world.url)
    for words in ("telegram:1001", "ideas.pending", "idea.approve", "cli:maria",
                  "stats.show", "flow:square", "shown=3", "2026-03-01 09:00:00"):
        assert words in listed, listed
    lines = listed.splitlines()
    order = [next(n for n, line in enumerate(lines) if action in line)
             for action in ("stats.show", "idea.approve", "ideas.pending")]
    assert order == sorted(order)  # newest first (the command line's row is now)
    newest = kolot("audit", "--limit", "1", "--db", world.url)
    assert "stats.show" in newest and "idea.approve" not in newest
    assert CliRunner().invoke(main, ["audit", "--limit", "0", "--db", world.url]).exit_code == 2
