"""``kolot export FLOW``: answers, ideas, votes and participation figures in one go, as
xlsx, JSON or a folder of CSV files, with a data dictionary (see bot/exports.py).

Registered on the ``kolot`` group at the end of bot/cli.py. This module does not import
bot.cli at load time (bot.cli imports it), only inside the command.
"""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["export"]

_DEFAULT_OUT = {"xlsx": "{flow}.xlsx", "json": "{flow}.json", "csv": "{flow}-export"}


@click.command("export")
@click.argument("flow")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv", "json"]), default="xlsx",
              show_default=True, help="xlsx: one sheet per table; csv: a folder of files; "
                                      "json: one document.")
@click.option("--out", type=click.Path(), metavar="PATH",
              help="Where to write (default: FLOW.xlsx, FLOW.json or the folder "
                   "FLOW-export/; '-' prints the JSON).")
@click.option("--db", "db_url", metavar="URL",
              help="Database URL (default: $KOLOT_DATABASE_URL or ./kolot.db).")
def export(flow: str, fmt: str, out: str | None, db_url: str | None) -> None:
    """Export everything FLOW (a flow file or id) collected: answers, ideas with their
    scores, votes and participation figures, with a data dictionary. Participants appear
    by pseudonym only."""
    from bot.audit_command import record
    from bot.cli import _database, flow_given
    from bot.exports import build, write_csv, write_json, write_xlsx
    from storage import UnitOfWork

    if out == "-" and fmt != "json":
        raise click.BadParameter("only JSON is printed; give a file or folder for "
                                 f"{fmt}", param_hint="--out")
    with _database(db_url) as factory, UnitOfWork(factory) as uow:
        loaded = flow_given(uow, flow)
        found = build(uow, loaded)
        record(uow, "flow.export", f"flow:{loaded.id}", now=found.exported_at, format=fmt,
               rows={t.name: len(t.rows) for t in found.tables})
        uow.commit()
    if out == "-":
        import json

        click.echo(json.dumps(found.as_json(), ensure_ascii=False, indent=2))
        return
    target = Path(out or _DEFAULT_OUT[fmt].format(flow=loaded.id))
    if fmt == "xlsx":
        write_xlsx(found, target)
    elif fmt == "json":
        write_json(found, target)
    else:
        write_csv(found, target)
    counts = ", ".join(f"{t.name} {len(t.rows):,}" for t in found.tables)
    click.echo(f"wrote {target} (rows: {counts})")
