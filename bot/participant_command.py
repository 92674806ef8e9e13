"""``kolot participant``: a data request that can't come from the chat (a lost phone, a
letter to the organisers), answered by an operator who has checked who is asking.

``data`` prints everything kept about the person at an address, the same JSON ``/mydata``
sends them; ``erase`` removes it, as ``/delete`` does, without a farewell (they asked
elsewhere). Both are written to the audit trail, without the address.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from storage import UnitOfWork

__all__ = ["participant"]


@click.group("participant")
def participant() -> None:
    """Answer a participant's data request on their behalf."""


def _find(uow: UnitOfWork, channel: str, address: str) -> int:
    known = uow.participants.known(channel, address)
    if known is None:
        click.echo(f"error: nobody is known at that {channel} address", err=True)
        sys.exit(1)
    return known.id


@participant.command("data")
@click.argument("channel")
@click.argument("address")
@click.option("--db", "db_url", metavar="URL",
              help="Database URL (default: $KOLOT_DATABASE_URL or ./kolot.db).")
def data(channel: str, address: str, db_url: str | None) -> None:
    """Print, as JSON, everything kept about the person at ADDRESS on CHANNEL (a Telegram
    chat id, a WhatsApp number as whatsapp:+972...)."""
    from bot.audit_command import record
    from bot.cli import _database
    from storage import UnitOfWork

    with _database(db_url) as factory, UnitOfWork(factory) as uow:
        found = uow.personal.gather(_find(uow, channel, address))
        record(uow, "participant.data", f"channel:{channel}")
        uow.commit()
    click.echo(json.dumps(found, ensure_ascii=False, indent=2, sort_keys=True, default=str))


@participant.command("erase")
@click.argument("channel")
@click.argument("address")
@click.option("--yes", is_flag=True, help="Erase without asking.")
@click.option("--db", "db_url", metavar="URL",
              help="Database URL (default: $KOLOT_DATABASE_URL or ./kolot.db).")
def erase(channel: str, address: str, yes: bool, db_url: str | None) -> None:
    """Erase the person at ADDRESS on CHANNEL: answers, profile, ideas, consents, messages
    and the address itself; their votes stay as anonymous counts."""
    from bot.audit_command import record
    from bot.cli import _database
    from bot.clock import random_id, utc_now
    from storage import UnitOfWork

    if not yes:
        click.confirm(f"Erase everything kept about this {channel} participant?", abort=True)
    with _database(db_url) as factory, UnitOfWork(factory) as uow:
        person = _find(uow, channel, address)
        now = utc_now()
        uow.personal.erase(person, pseudonym=random_id(), now=now)
        gone = uow.personal.finish_erasures([person])
        record(uow, "participant.erase", f"channel:{channel}", now=now)
        uow.commit()
    click.echo("erased" if gone else "erased; the address goes once a message in flight ends")
