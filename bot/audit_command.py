"""The admins' audit trail on the command line: ``kolot audit`` lists it, and
:func:`record` is how a ``kolot`` command that changes or reveals data adds its row.

A row says who (``cli:<os user>`` for a command line run, ``channel:address`` for an
admin in the chat, see :mod:`bot.admin`), what (a short verb such as ``idea.approve``),
on what (``flow:square``, ``idea:12``, ``broadcast:3``) and when, with a few ids and
counts as detail: never a participant's address or words. The row is written in the
command's own transaction, so the action and its record commit together.

Commands that record: ``kolot ideas list/approve/reject/merge/import``, ``kolot
broadcast``, ``kolot answers``, ``kolot export``, ``kolot report``, ``kolot results``,
``kolot stats`` and ``kolot invite``. Left out: what only counts messages or runs the
scheduler's own work (``kolot outbox status``, ``kolot tick``), what touches no
participant data (``validate``, ``schema``, ``i18n``, ``db upgrade``, ``telegram``),
``kolot chat`` (a participant's conversation, not an admin's action) and ``kolot audit``
itself.

Registered on the ``kolot`` group at the end of bot/cli.py. This module does not import
bot.cli at load time (bot.cli imports it), only inside the command.
"""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from storage import UnitOfWork

__all__ = ["audit", "cli_actor", "record"]


def cli_actor() -> str:
    """``cli:<the operating system's user>``, or ``cli`` where there is none to name."""
    try:
        user = getpass.getuser()
    except Exception:  # no USER/LOGNAME and no passwd entry (a bare container)
        return "cli"
    return f"cli:{user}" if user else "cli"


def record(uow: UnitOfWork, action: str, subject: str | None = None, *,
           now: datetime | None = None, **detail: Any) -> None:
    """One audit row for a command line run, in ``uow``'s transaction (the caller
    commits)."""
    uow.audit.record(cli_actor(), action, now=now or datetime.now(UTC), subject=subject,
                     detail=detail or None)


@click.command("audit")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1),
              help="How many of the newest actions to show.")
@click.option("--db", "db_url", metavar="URL",
              help="Database URL (default: $KOLOT_DATABASE_URL or ./kolot.db).")
def audit(limit: int, db_url: str | None) -> None:
    """The newest admin actions, newest first: when (UTC), who (an admin's channel:address
    in the chat, cli:<user> on the command line), what and on what."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from bot.cli import _database
    from storage import UnitOfWork

    with _database(db_url) as factory, UnitOfWork(factory) as uow:
        rows = [(a.at, a.actor, a.action, a.subject, a.detail) for a in uow.audit.recent(limit)]
    console = Console()
    if not console.is_terminal:  # piped or redirected: whole lines, not the default 80
        console = Console(width=200)
    if not rows:
        console.print("no admin actions recorded")
        return
    table = Table("at (UTC)", "actor", "action", "subject", "detail")
    for at, actor, action, subject, detail in rows:
        table.add_row(*(Text(cell) for cell in (_utc(at), actor, action, subject or "",
                                                 _detail(detail))))
    console.print(table)


def _utc(at: datetime) -> str:
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return f"{at:%Y-%m-%d %H:%M:%S}"


def _detail(detail: dict[str, Any] | None) -> str:
    return ", ".join(f"{key}={value}" for key, value in (detail or {}).items())
