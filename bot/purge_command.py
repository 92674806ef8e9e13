"""``kolot purge``: remove the personal data of every flow whose retention has run out
(see :mod:`bot.retention`), and say what went, per flow: counts only, never an address
or a text.

Registered on the ``kolot`` group at the end of bot/cli.py. This module does not import
bot.cli at load time (bot.cli imports it), only inside the command.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from bot.retention import PurgeReport

__all__ = ["purge"]

_COLUMNS = (
    ("runs", "runs"),
    ("answers", "answers"),
    ("notices", "notices"),
    ("ideas", "ideas unlinked"),
    ("votes", "votes made anonymous"),
    ("profiles", "profiles cleared"),
    ("participants", "people deleted"),
)


@click.command("purge")
@click.option("--dry-run", is_flag=True,
              help="Count what would be removed, and change nothing.")
@click.option("--flows", "flow_paths", metavar="PATHS",
              help="Flow files or folders (default: $KOLOT_FLOWS or ./flows). Flows whose "
                   "file is not there keep the retention of their newest definition in "
                   "the database.")
@click.option("--now", "at", metavar="TIME",
              help="Purge as of this time (ISO 8601, UTC unless it has an offset); with "
                   "--dry-run, what that day would remove. Default: now.")
@click.option("--db", "--db-url", "db_url", metavar="URL",
              help="Database URL (default: $KOLOT_DATABASE_URL or ./kolot.db).")
def purge(dry_run: bool, flow_paths: str | None, at: str | None, db_url: str | None) -> None:
    """Remove the personal data of every flow closed longer ago than its retention_days:
    its runs and answers, its reminders, the authors of its ideas and the voters of its
    votes (ideas and votes stay, anonymous), and everyone left with nothing else (those
    who asked to hear about future processes stay, with an empty profile). The scheduler
    in `kolot serve` and `kolot tick` does this once a day; this does it now."""
    import os

    from bot.audit_command import cli_actor
    from bot.cli import _database
    from bot.engine import FlowError
    from bot.registry import FlowRegistry
    from bot.retention import known_flows
    from bot.retention import purge as run_purge
    from bot.server import load_flows
    from bot.settings import SettingsError
    from storage import UnitOfWork

    now = _moment(at)
    paths = flow_paths or os.environ.get("KOLOT_FLOWS") or "flows"
    registry = FlowRegistry()
    try:
        load_flows([Path(p) for p in paths.split(os.pathsep)], registry)
    except SettingsError:
        pass  # no flow files here: the flows are those of the database
    except FlowError as exc:
        for diagnostic in exc.diagnostics:
            click.echo(str(diagnostic), err=True)
        click.echo("nothing purged: fix the flow files first (kolot validate)", err=True)
        sys.exit(1)
    loaded = [registry.current(flow_id) for flow_id in registry.ids()]
    with _database(db_url) as factory, UnitOfWork(factory) as uow:
        flows, unreadable = known_flows(uow, loaded)
        report = run_purge(uow, flows, now, dry_run=dry_run, actor=cli_actor())
        if not dry_run:
            uow.commit()
    for flow_id in unreadable:
        click.echo(f"warning: the stored definition of {flow_id} can no longer be read; "
                   "its data is kept (load its file with --flows)", err=True)
    _show(report)


def _moment(at: str | None) -> datetime:
    if not at:
        return datetime.now(UTC)
    try:
        given = datetime.fromisoformat(at)
    except ValueError as exc:
        raise click.BadParameter(f"'{at}' is not a time such as 2026-12-22T09:00 (UTC) or "
                                 "2026-12-22T09:00+02:00", param_hint="--now") from exc
    return given.replace(tzinfo=UTC) if given.tzinfo is None else given.astimezone(UTC)


def _show(report: PurgeReport) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(file=sys.stdout, highlight=False)
    if not console.is_terminal:  # piped or redirected: whole lines, not the default 80
        console = Console(file=sys.stdout, highlight=False, width=200)
    when = f"{report.now:%Y-%m-%d %H:%M} UTC"
    if report.dry_run:
        click.echo(f"dry run as of {when}: nothing was changed; a purge would remove:")
    else:
        click.echo(f"purge as of {when}:")
    if report.purged:
        table = Table("flow", "closed")
        for _, title in _COLUMNS:
            table.add_column(title, justify="right")
        for done in report.purged:
            counts = done.counts()
            table.add_row(done.flow_id, f"{done.closed_at:%Y-%m-%d}",
                          *(f"{counts[key]:,}" for key, _ in _COLUMNS))
        console.print(table)
    else:
        click.echo("no flow is past its retention: nothing to remove")
    people = report.participants
    verb = "would be" if report.dry_run else "was" if people == 1 else "were"
    click.echo(f"{people:,} {'person' if people == 1 else 'people'} {verb} deleted in all"
               + (f" ({report.erased:,} of them after an unfinished /delete)"
                  if report.erased else ""))
    if report.data_files:
        click.echo(f"{report.data_files:,} /mydata file copies "
                   f"{'would be' if report.dry_run else 'were'} dropped from the outbox")
    for flow_id, due in report.waiting:
        if due is None:
            click.echo(f"{flow_id}: kept, it never closes (no phases)")
        else:
            click.echo(f"{flow_id}: kept until {due:%Y-%m-%d %H:%M} UTC")
    for flow_id in report.unlimited:
        click.echo(f"{flow_id}: kept, it has no retention_days")
