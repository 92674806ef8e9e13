"""What the admin tests share: a flow with pre-moderated ideas and phases, and a small
world of participants and one admin driven through the real Service (a module of its
own: test modules can't import a ``conftest`` by name)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.admin import Desk
from bot.channels.base import Inbound, Outbound, Tap
from bot.registry import FlowRegistry
from bot.service import Handled, Service
from storage import UnitOfWork
from storage.models import OutboxMessage

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
ADMIN = "1001"
"""The admin's Telegram chat id (``KOLOT_ADMINS=telegram:1001``)."""
WHATSAPP_ADMIN = "whatsapp:+972501234567"
"""An admin on WhatsApp, as Twilio's ``From`` names them."""


def square_flow(now: datetime = NOW) -> str:
    """Ideas (moderated before anyone sees them) in an open phase; voting next week."""

    def at(days: int) -> str:
        return f"{now + timedelta(days=days):%Y-%m-%d %H:%M}"

    return f"""\
id: square
version: 1
title: The square
default_language: en
languages: [en, he]
moderation: pre
timezone: UTC
quiet_hours: {{from: "00:00", to: "00:00"}}
phases:
  - {{id: ideas, starts: "{at(-3)}", ends: "{at(5)}"}}
  - {{id: voting, starts: "{at(6)}", ends: "{at(9)}"}}
steps:
  - {{id: welcome, type: message, text: Welcome to the square!}}
  - {{id: consent, type: consent, text: Do you agree?}}
  - {{id: idea, type: idea, text: Your idea for the square?, phase: ideas}}
  - {{id: bye, type: end, text: Thanks!}}
"""


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Row:
    """An outbox row as a test reads it."""

    id: int
    message: Outbound
    state: dict[str, Any]
    broadcast_id: int | None

    @property
    def labels(self) -> list[str]:
        return [b.label for b in self.message.buttons]


@dataclass
class World:
    service: Service
    desk: Desk
    session_factory: sessionmaker[Session]
    clock: Clock
    _ids: Any = field(default_factory=lambda: count(1))

    def send(self, address: str, text: str | None = None, *, platform_id: str | None = None,
             **fields: Any) -> Handled:
        key = platform_id or f"u{next(self._ids)}"
        channel = "whatsapp" if address.startswith("whatsapp:") else "telegram"
        return self.service.handle(Inbound(channel, address, key, text=text, **fields),
                                   "square")

    def tap(self, address: str, row: int, pick: int, *, edits: bool = True) -> Handled:
        n = next(self._ids)
        return self.send(address, tap=Tap(row, (pick,), message_ref=f"m{row}",
                                          callback=f"cb{n}", edits=edits))

    def rows(self, address: str) -> list[Row]:
        with self.session_factory() as session:
            found = session.execute(
                select(OutboxMessage.id, OutboxMessage.payload, OutboxMessage.broadcast_id)
                .where(OutboxMessage.address == address).order_by(OutboxMessage.id)).all()
        return [Row(int(i), Outbound.from_payload(p), dict(p.get("admin") or {}), b)
                for i, p, b in found]

    def said(self, address: str, after: int = 0) -> list[str]:
        """Texts written to ``address`` (acknowledgements of taps left out)."""
        return [r.message.text for r in self.rows(address)
                if r.id > after and r.message.action != "answer"]

    def last_row(self, address: str) -> int:
        rows = self.rows(address)
        return rows[-1].id if rows else 0

    def join(self, address: str, idea: str | None = None) -> None:
        """A participant starts, consents and (optionally) proposes an idea."""
        self.send(address, command="start")
        self.send(address, "yes")
        if idea is not None:
            self.send(address, idea)


def make_world(session_factory: sessionmaker[Session], tmp_path: Path,
               broadcasts: Path | None = None) -> World:
    path = tmp_path / "square.yaml"
    path.write_text(square_flow(), encoding="utf-8")
    registry = FlowRegistry()
    registry.add_file(path)
    clock = Clock()
    pseudonyms = count()
    service = Service(session_factory, registry, clock=clock,
                      new_id=lambda: f"pseudo{next(pseudonyms):06d}")
    desk = Desk(service, {("telegram", ADMIN), ("whatsapp", WHATSAPP_ADMIN)},
                broadcasts=broadcasts or tmp_path / "none")
    service.admin = desk
    return World(service, desk, session_factory, clock)


def idea_status(session_factory: sessionmaker[Session]) -> dict[str, str]:
    with UnitOfWork(session_factory) as uow:
        return {i.text: i.status for i in uow.ideas.listed("square")}
