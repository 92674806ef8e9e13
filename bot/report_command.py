"""``kolot report FLOW``: the closing report of a process, as one HTML file or as Markdown
with its charts beside it (see bot/report/ and docs/report.md).

Registered on the ``kolot`` group at the end of bot/cli.py. This module does not import
bot.cli at load time (bot.cli imports it), only inside the command.
"""

from __future__ import annotations

from pathlib import Path

import click

__all__ = ["report"]

_FORMATS = {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html"}


@click.command("report")
@click.argument("flow")
@click.option("--out", type=click.Path(dir_okay=False), metavar="FILE",
              help="Where to write (default: FLOW-report.html, or .md with --format md).")
@click.option("--format", "fmt", type=click.Choice(["html", "md"]),
              help="html: one self-contained page; md: Markdown with PNG charts beside it "
                   "(default: from the --out suffix, else html).")
@click.option("--intro", type=click.Path(exists=True, dir_okay=False), metavar="FILE.md",
              help="The background and goals of the process: paragraphs of text.")
@click.option("--next", "next_file", type=click.Path(exists=True, dir_okay=False),
              metavar="FILE.md",
              help="What happens next: paragraphs of text (default: the flow's "
                   "results.next, if it has one).")
@click.option("--groups", "group_by", metavar="FIELD",
              help="For agree voting: the profile field whose groups consensus must span "
                   "(default: the first profile field the targets name).")
@click.option("--db", "db_url", metavar="URL",
              help="Database URL (default: $KOLOT_DATABASE_URL or ./kolot.db).")
def report(flow: str, out: str | None, fmt: str | None, intro: str | None,
           next_file: str | None, group_by: str | None, db_url: str | None) -> None:
    """Write the closing report of FLOW (a flow file or id): who took part, what was
    collected, the ranked ideas, what happens next. In the flow's default language, right
    to left for Hebrew and Arabic. No participant addresses, no free-text answers."""
    from bot.audit_command import record
    from bot.cli import _database, flow_given
    from bot.report import gather, write_report
    from storage import UnitOfWork

    chosen = fmt or (_FORMATS.get(Path(out).suffix.lower(), "html") if out else "html")
    intro_text = Path(intro).read_text(encoding="utf-8") if intro else None
    next_text = Path(next_file).read_text(encoding="utf-8") if next_file else None
    with _database(db_url) as factory, UnitOfWork(factory) as uow:
        loaded = flow_given(uow, flow)
        data = gather(uow, loaded, intro=intro_text, next_steps=next_text, groups=group_by)
        record(uow, "report.write", f"flow:{loaded.id}", format=chosen)
        uow.commit()
    target = Path(out or f"{loaded.id}-report.{chosen}")
    target.parent.mkdir(parents=True, exist_ok=True)
    for path in write_report(data, target, chosen):
        click.echo(f"wrote {path}")
