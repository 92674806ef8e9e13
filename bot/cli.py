"""The ``kolot`` command: check flows, chat through them, export answers, manage the database."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, TextIO

import click

from bot.engine import Flow, FlowError, load_source
from bot.engine.loader import check_file
from bot.engine.schema import flow_schema

__all__ = ["main"]

FLOW_SUFFIXES = (".yaml", ".yml")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kolot")
def main() -> None:
    """Kolot: participation processes as chat conversations."""


def _flow_files(paths: tuple[str, ...]) -> Iterator[Path]:
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix in FLOW_SUFFIXES)
        else:
            yield path


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option(
    "--strict", is_flag=True, help="A declared language not fully translated is an error."
)
def validate(paths: tuple[str, ...], strict: bool) -> None:
    """Check flow files (or folders of them). Exit 1 when any has errors.

    For a flow in several languages, also say how much of it each language translates.
    """
    from bot.flow_i18n import coverage

    files = errors = warnings = 0
    for path in _flow_files(paths):
        files += 1
        checked = check_file(path)
        for diagnostic in checked.diagnostics:
            click.echo(str(diagnostic))
        errors += len(checked.errors)
        warnings += len(checked.warnings)
        flow = checked.flow
        if flow is None:
            continue
        for language in flow.languages:
            if language == flow.default_language:
                continue
            covered = coverage(Path(path), flow, language)
            if strict and not covered.complete:
                click.echo(f"{path}: error: {covered} (--strict: translate every text)")
                errors += 1
            else:
                click.echo(f"{path}: {covered}")
    click.echo(
        f"checked {files} file{'s' if files != 1 else ''}: "
        f"{errors} error{'s' if errors != 1 else ''}, "
        f"{warnings} warning{'s' if warnings != 1 else ''}",
        err=True,
    )
    if errors or files == 0:
        sys.exit(1)


@main.command()
@click.option("--out", type=click.Path(dir_okay=False), help="Write to this file.")
def schema(out: str | None) -> None:
    """Print the flow files' JSON Schema (for editors' autocompletion)."""
    text = json.dumps(flow_schema(), indent=2, ensure_ascii=False) + "\n"
    if out:
        Path(out).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


DB_OPTION = click.option(
    "--db",
    "db_url",
    metavar="URL",
    help="Database URL (default: $KOLOT_DATABASE_URL or ./kolot.db).",
)


@main.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@DB_OPTION
def db_upgrade(db_url: str | None) -> None:
    """Create or migrate the database to the newest schema."""
    from storage.database import database_url, upgrade

    url = database_url(db_url)
    upgrade(url)
    click.echo("database is up to date", err=True)


def _resolve_flow(arg: str) -> Path:
    """A flow file given by path, or by id among the files under ./flows."""
    path = Path(arg)
    if path.is_file():
        return path
    for candidate in _flow_files(("flows",)) if Path("flows").is_dir() else ():
        checked = check_file(candidate)
        if checked.flow is not None and checked.flow.id == arg:
            return candidate
    raise click.BadParameter(f"no flow file or flow id {arg!r} (looked under ./flows)")


@main.command()
@click.argument("flow")
@click.option("--lang", "language", metavar="L", help="Language to talk in (e.g. he, ar, en, ru).")
@click.option("--as", "name", default="console", show_default=True,
              help="Participant name; different names are different participants.")
@DB_OPTION
@click.option("--script", type=click.File("r", encoding="utf-8"),
              help="Read one input per line from FILE ('-' for stdin) and print the transcript.")
def chat(flow: str, language: str | None, name: str, db_url: str | None,
         script: TextIO | None) -> None:
    """Talk through FLOW (a file or a flow id) in the terminal, as a participant would.

    Needs no environment: with no $KOLOT_PSEUDONYM_KEY the participants it enrols get
    pseudonyms from a key made for this run (stored, so they stay as they are)."""
    from bot.channels.console import ConsoleConversation
    from bot.pseudonyms import Pseudonyms
    from bot.registry import FlowRegistry
    from bot.service import Service
    from bot.settings import SettingsError, pseudonym_key
    from storage.database import database_url, make_engine, make_session_factory, upgrade

    path = _resolve_flow(flow)
    registry = FlowRegistry()
    try:
        loaded = registry.add_file(path)
    except FlowError as exc:
        for diagnostic in exc.diagnostics:
            click.echo(str(diagnostic), err=True)
        sys.exit(1)
    try:
        pseudonyms = Pseudonyms.from_key(pseudonym_key())
    except SettingsError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    url = database_url(db_url)
    upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    service = Service(factory, registry, pseudonyms=pseudonyms)
    conversation = ConsoleConversation(service, factory, loaded.id, name, language=language)

    handled = conversation.open()
    if handled.flow_sha256 and handled.flow_sha256 != loaded.sha256:
        click.echo(
            f"(note: {name} started on an earlier version of this flow and continues on it; "
            "send /restart to start over on the current file)",
            err=True,
        )
    if script is not None:
        for raw in script:
            line = raw.rstrip("\r\n")
            if not line.strip():
                continue
            click.echo(f"{name}: {line}")
            conversation.say(line)
        engine.dispose()
        return
    click.echo("(type your answers; /back, /skip, /restart; Ctrl-D or /quit to leave)", err=True)
    while True:
        try:
            line = input(f"{name}> ")
        except (EOFError, KeyboardInterrupt):
            click.echo("", err=True)
            break
        if line.strip() == "/quit":
            break
        if line.strip():
            conversation.say(line)
    engine.dispose()


@main.command()
@click.argument("flow")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json",
              show_default=True)
@DB_OPTION
@click.option("--out", type=click.Path(dir_okay=False), help="Write to this file.")
def answers(flow: str, fmt: str, db_url: str | None, out: str | None) -> None:
    """Export the answers to FLOW (a flow id or file), one record per participant."""
    from bot.audit_command import record
    from bot.export import answers_csv, answers_json, answers_records
    from storage import UnitOfWork
    from storage.database import database_url, make_engine, make_session_factory, upgrade

    flow_id, order = flow, []
    path = Path(flow)
    if path.is_file():
        checked = check_file(path)
        if checked.flow is None:
            for diagnostic in checked.errors:
                click.echo(str(diagnostic), err=True)
            sys.exit(1)
        flow_id, order = checked.flow.id, [s.id for s in checked.flow.steps]
    url = database_url(db_url)
    upgrade(url)
    engine = make_engine(url)
    with UnitOfWork(make_session_factory(engine)) as uow:
        records = answers_records(uow, flow_id)
        record(uow, "answers.export", f"flow:{flow_id}", format=fmt, records=len(records))
        uow.commit()
        if not order:
            newest = uow.definitions.newest(flow_id)
            if newest is not None:
                try:
                    order = [s.id for s in load_source(newest.source).steps]
                except FlowError:
                    order = []
    engine.dispose()
    text = answers_json(records) if fmt == "json" else answers_csv(records, order)
    if out:
        Path(out).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


@main.group()
def i18n() -> None:
    """Translate a flow with gettext catalogs kept beside it (see docs/translating.md)."""


def _load_flow_file(flow: str) -> tuple[Path, Flow]:
    path = Path(flow)
    checked = check_file(path)
    if checked.flow is None:
        for diagnostic in checked.diagnostics:
            click.echo(str(diagnostic), err=True)
        sys.exit(1)
    return path, checked.flow


@i18n.command("extract")
@click.argument("flow", type=click.Path(exists=True, dir_okay=False))
def i18n_extract(flow: str) -> None:
    """Write the flow's template (.pot) of every text to translate."""
    from bot.flow_i18n import template, template_path, write_catalog

    path, loaded = _load_flow_file(flow)
    target = template_path(path, loaded)
    write_catalog(template(loaded, path), target)
    click.echo(f"wrote {target}")


@i18n.command("init")
@click.argument("flow", type=click.Path(exists=True, dir_okay=False))
@click.argument("language")
def i18n_init(flow: str, language: str) -> None:
    """Start the catalog of LANGUAGE (e.g. ar) from the flow's texts."""
    from bot.flow_i18n import catalog_path, init_catalog, template, write_catalog

    path, loaded = _load_flow_file(flow)
    target = catalog_path(path, loaded, language)
    if target.exists():
        click.echo(f"{target} exists already; use `kolot i18n update`", err=True)
        sys.exit(1)
    write_catalog(init_catalog(template(loaded, path), language), target)
    click.echo(f"wrote {target}")


@i18n.command("update")
@click.argument("flow", type=click.Path(exists=True, dir_okay=False))
def i18n_update(flow: str) -> None:
    """Bring every catalog of the flow up to date with its texts (after an edit)."""
    from bot.flow_i18n import locales_dir, read_catalog, template, write_catalog

    path, loaded = _load_flow_file(flow)
    fresh = template(loaded, path)
    for po in sorted(locales_dir(path).glob(f"*/LC_MESSAGES/{loaded.id}.po")):
        catalog = read_catalog(po)
        catalog.update(fresh)
        write_catalog(catalog, po)
        click.echo(f"updated {po}")


@i18n.command("compile")
@click.argument("flow", type=click.Path(exists=True, dir_okay=False))
def i18n_compile(flow: str) -> None:
    """Compile the flow's catalogs to .mo files (Kolot itself reads the .po files)."""
    from bot.flow_i18n import compile_catalog, locales_dir

    path, loaded = _load_flow_file(flow)
    failed = False
    for po in sorted(locales_dir(path).glob(f"*/LC_MESSAGES/{loaded.id}.po")):
        try:
            click.echo(f"compiled {compile_catalog(po)}")
        except ValueError as exc:
            click.echo(f"error: {exc}", err=True)
            failed = True
    if failed:
        sys.exit(1)


@main.command()
@click.argument("flow")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("--groups", "group_by", metavar="FIELD",
              help="For agree voting: the profile field whose groups consensus must span.")
@DB_OPTION
def results(flow: str, fmt: str, group_by: str | None, db_url: str | None) -> None:
    """Rank the ideas of FLOW (a flow id or file) by their votes: pairwise scores, and for
    agree voting, agreement and consensus across groups."""
    from bot.audit_command import record
    from bot.results import agreement, approvals, ranking
    from storage import UnitOfWork
    from storage.database import database_url, make_engine, make_session_factory, upgrade

    flow_id = flow
    if Path(flow).is_file():
        _path, loaded = _load_flow_file(flow)
        flow_id = loaded.id
    url = database_url(db_url)
    upgrade(url)
    engine = make_engine(url)
    with UnitOfWork(make_session_factory(engine)) as uow:
        ranked = [r for r in ranking(uow, flow_id) if r.wins or r.losses]
        agreed = agreement(uow, flow_id, group_by)
        approved = approvals(uow, flow_id)
        record(uow, "results.show", f"flow:{flow_id}", format=fmt)
        uow.commit()
    engine.dispose()
    if fmt == "json":
        click.echo(json.dumps(
            {"pairwise": [r.as_json() for r in ranked], "agree": [a.as_json() for a in agreed],
             "approve": [a.as_json() for a in approved]},
            ensure_ascii=False, indent=2,
        ))
        return
    for r in ranked:
        mark = " (provisional)" if r.provisional else ""
        click.echo(f"{r.rank:>3}. {r.score:5.1f}  {r.wins}-{r.losses}{mark}  {r.text}")
    for a in agreed:
        click.echo(f"{a.consensus:5.3f}  +{a.agree} -{a.disagree} ={a.passed}  {a.text}")
    for p in approved:
        click.echo(f"{p.share:5.1%}  {p.approved}/{p.shown}  {p.text}")


@main.group()
def ideas() -> None:
    """Moderate the ideas of a flow: list, approve, reject (the author is told), import."""


@contextmanager
def _database(db_url: str | None) -> Iterator[Any]:
    """A session factory on the migrated database; the engine is disposed however the
    block ends (an error exit included), so no connection is left open."""
    from storage.database import database_url, make_engine, make_session_factory, upgrade

    url = database_url(db_url)
    upgrade(url)
    engine = make_engine(url)
    try:
        yield make_session_factory(engine)
    finally:
        engine.dispose()


def _flow_id(flow: str) -> str:
    if Path(flow).is_file():
        return _load_flow_file(flow)[1].id
    return flow


@ideas.command("list")
@click.argument("flow")
@click.option("--status", type=click.Choice(["pending", "approved", "rejected", "hidden",
                                             "withdrawn", "merged"]))
@DB_OPTION
def ideas_list(flow: str, status: str | None, db_url: str | None) -> None:
    """The ideas of FLOW (a flow id or file), oldest first; no author addresses."""
    from bot.audit_command import record
    from storage import UnitOfWork

    flow_id = _flow_id(flow)
    with _database(db_url) as factory, UnitOfWork(factory) as uow:
        listed = uow.ideas.listed(flow_id, status)
        record(uow, "ideas.list", f"flow:{flow_id}", status=status or "all", ideas=len(listed))
        uow.commit()
    for idea in listed:
        why = f" ({idea.reason})" if idea.reason else ""
        click.echo(f"{idea.id:>5}  {idea.status}{why}  [{idea.language}]  {idea.text}")


@ideas.command("approve")
@click.argument("flow")
@click.argument("idea_ids", nargs=-1, required=True, type=int)
@DB_OPTION
def ideas_approve(flow: str, idea_ids: tuple[int, ...], db_url: str | None) -> None:
    """Publish ideas (pending, or caught by the automatic screen)."""
    _moderate(flow, idea_ids, "approved", None, db_url)


@ideas.command("reject")
@click.argument("flow")
@click.argument("idea_ids", nargs=-1, required=True, type=int)
@click.option("--reason", required=True,
              type=click.Choice(["rules", "personal_data", "link", "blocked_words",
                                 "duplicate"]),
              help="The category the author is told (never who decided).")
@DB_OPTION
def ideas_reject(
    flow: str, idea_ids: tuple[int, ...], reason: str, db_url: str | None
) -> None:
    """Take ideas out of voting; each author is told why, in the idea's language."""
    _moderate(flow, idea_ids, "rejected", reason, db_url)


def _moderate(
    flow: str, idea_ids: tuple[int, ...], status: str, reason: str | None, db_url: str | None
) -> None:
    from bot.audit_command import record
    from bot.clock import utc_now
    from bot.moderation import decide
    from storage import UnitOfWork

    flow_id = _flow_id(flow)
    now = utc_now()
    action = "idea.approve" if status == "approved" else "idea.reject"
    with _database(db_url) as factory, UnitOfWork(factory) as uow:
        for idea_id in idea_ids:
            idea = uow.ideas.get(idea_id)
            if idea is None or idea.flow_id != flow_id:
                click.echo(f"error: no idea {idea_id} in {flow_id}", err=True)
                sys.exit(1)
            was = idea.status
            told = decide(uow, idea, status, reason, now=now)
            record(uow, action, f"idea:{idea_id}", now=now, flow=flow_id, was=was,
                   **({"reason": reason} if reason else {}))
            click.echo(f"{idea_id}: {status}" + (f" ({reason}), author told" if told else ""))
        uow.commit()


@ideas.command("merge")
@click.argument("flow")
@click.argument("idea_id", type=int)
@click.argument("into", type=int)
@DB_OPTION
def ideas_merge(flow: str, idea_id: int, into: int, db_url: str | None) -> None:
    """Fold IDEA_ID into the similar idea INTO; its author is told which one is voted on."""
    from bot.audit_command import record
    from bot.channels.base import Outbound
    from bot.clock import utc_now
    from bot.i18n import translator
    from bot.moderation import merge_notice
    from storage import UnitOfWork

    flow_id = _flow_id(flow)
    now = utc_now()
    with _database(db_url) as factory, UnitOfWork(factory) as uow:
        idea, target = uow.ideas.get(idea_id), uow.ideas.get(into)
        if idea is None or target is None or {idea.flow_id, target.flow_id} != {flow_id} \
                or idea_id == into:
            click.echo(f"error: ideas {idea_id} and {into} must be two ideas of {flow_id}",
                       err=True)
            sys.exit(1)
        uow.ideas.merge(idea_id, into, now=now)
        record(uow, "idea.merge", f"idea:{idea_id}", now=now, flow=flow_id, into=into)
        author = uow.participants.by_id(idea.participant_id) if idea.participant_id else None
        if author is not None:
            notice = merge_notice(translator(idea.language), idea.text, target.text)
            uow.outbox.enqueue(author.id, author.channel, author.address,
                               Outbound(notice).to_payload(), now=now)
        uow.commit()
    click.echo(f"{idea_id}: merged into {into}" + (", author told" if author else ""))


@ideas.command("import")
@click.argument("flow", type=click.Path(exists=True, dir_okay=False))
@click.argument("csv_file", type=click.File("r", encoding="utf-8"))
@DB_OPTION
def ideas_import(flow: str, csv_file: TextIO, db_url: str | None) -> None:
    """Seed ideas from a CSV file with columns step, text and (optionally) language."""
    import csv

    from bot.audit_command import record
    from bot.clock import utc_now
    from storage import UnitOfWork

    _path, loaded = _load_flow_file(flow)
    idea_steps = {s.id for s in loaded.steps if s.type == "idea"}
    rows = list(csv.DictReader(csv_file))
    for n, row in enumerate(rows, start=2):
        if row.get("step") not in idea_steps or not (row.get("text") or "").strip():
            click.echo(f"{csv_file.name}:{n}: error: needs a step ({', '.join(sorted(idea_steps))})"
                       " and a text", err=True)
            sys.exit(1)
    now = utc_now()
    with _database(db_url) as factory, UnitOfWork(factory) as uow:
        for row in rows:
            uow.ideas.add(loaded.id, row["step"], None, row["text"].strip(),
                          row.get("language") or loaded.default_language,
                          status="approved", now=now)
        record(uow, "ideas.import", f"flow:{loaded.id}", now=now, ideas=len(rows))
        uow.commit()
    click.echo(f"imported {len(rows)} idea{'s' if len(rows) != 1 else ''} into {loaded.id}")


@main.command()
@click.option("--role", type=click.Choice(["all", "web", "sender"]), default="all",
              show_default=True, help="Take webhooks, send the outbox, or both.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--polling", is_flag=True,
              help="Take Telegram updates by long polling instead of a webhook (local use).")
@click.option("--flow", "default_flow", metavar="ID",
              help="The flow new participants start (default: $KOLOT_DEFAULT_FLOW, or the "
                   "only flow loaded).")
@DB_OPTION
def serve(role: str, host: str, port: int, polling: bool, default_flow: str | None,
          db_url: str | None) -> None:
    """Run Kolot for real: webhooks in, the outbox out, under the platforms' rate caps.

    Settings come from the environment (see docs/deploy.md): KOLOT_PSEUDONYM_KEY (required),
    KOLOT_TELEGRAM_TOKEN, KOLOT_TELEGRAM_SECRET, KOLOT_PUBLIC_URL, KOLOT_DATABASE_URL,
    KOLOT_FLOWS (default ./flows). Refuses to start while a flow file has errors. SIGHUP
    reloads the flows.
    """
    import asyncio
    import dataclasses

    import uvicorn

    from bot.pseudonyms import MISSING_KEY
    from bot.server import Runtime, configure_logging
    from bot.settings import Settings, SettingsError
    from bot.web import create_app

    configure_logging()
    try:
        settings = Settings.from_env()
        if db_url or default_flow:
            settings = dataclasses.replace(
                settings,
                database_url=database_url_of(db_url) if db_url else settings.database_url,
                default_flow=default_flow or settings.default_flow,
            )
        if settings.telegram_token and not settings.telegram_secret and not polling \
                and role != "sender":
            raise SettingsError("KOLOT_TELEGRAM_SECRET is not set: without it anyone could "
                                "post updates to the webhook (run `kolot telegram "
                                "set-webhook` to make one), or use --polling")
        if settings.twilio_account_sid and not settings.public_url and role != "sender":
            raise SettingsError("KOLOT_PUBLIC_URL is not set: Twilio signs each webhook over "
                                "the public URL it calls, and it is checked against that")
        if settings.pseudonym_key is None and role != "sender":  # a sender enrols nobody
            raise SettingsError(MISSING_KEY)
        runtime = Runtime(settings, role=role)  # type: ignore[arg-type]
    except FlowError as exc:
        for diagnostic in exc.diagnostics:
            click.echo(str(diagnostic), err=True)
        click.echo("not starting: fix the flow files first (kolot validate)", err=True)
        sys.exit(1)
    except SettingsError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    if polling:
        if runtime.bot is None:
            click.echo("error: --polling needs KOLOT_TELEGRAM_TOKEN", err=True)
            sys.exit(2)

        async def run_polling() -> None:
            await runtime.start()
            try:
                await runtime.poll()
            finally:
                await runtime.stop()

        with suppress(KeyboardInterrupt):
            asyncio.run(run_polling())
        return
    uvicorn.run(create_app(runtime), host=host, port=port, log_level="info",
                access_log=False, proxy_headers=True)


def database_url_of(explicit: str) -> str:
    from storage.database import database_url

    return database_url(explicit)


@main.group()
def telegram() -> None:
    """Telegram: register the webhook (settings from the environment)."""


@telegram.command("set-webhook")
@click.option("--drop-pending", is_flag=True, help="Discard updates Telegram still holds.")
def telegram_set_webhook(drop_pending: bool) -> None:
    """Point Telegram at $KOLOT_PUBLIC_URL/telegram/webhook with a secret token.

    Uses $KOLOT_TELEGRAM_SECRET if set; otherwise makes a random one and prints it once,
    to be put in the server's environment.
    """
    import asyncio
    import secrets

    from telegram import Bot

    from bot.server import ALLOWED_UPDATES
    from bot.settings import Settings
    from bot.web import TELEGRAM_WEBHOOK

    settings = Settings.from_env()
    if not settings.telegram_token or not settings.public_url:
        click.echo("error: set KOLOT_TELEGRAM_TOKEN and KOLOT_PUBLIC_URL (https://...)",
                   err=True)
        sys.exit(2)
    made = settings.telegram_secret is None
    secret = settings.telegram_secret or secrets.token_urlsafe(32)
    url = f"{settings.public_url}{TELEGRAM_WEBHOOK}"
    api = settings.telegram_api_url

    async def register() -> None:
        async with Bot(settings.telegram_token or "", base_url=f"{api}/bot",
                       base_file_url=f"{api}/file/bot") as bot:
            await bot.set_webhook(url=url, secret_token=secret,
                                  allowed_updates=list(ALLOWED_UPDATES),
                                  drop_pending_updates=drop_pending)

    asyncio.run(register())
    click.echo(f"webhook set: {url}")
    if made:
        click.echo("Put this secret in the server's environment (it is shown only now):")
        click.echo(f"KOLOT_TELEGRAM_SECRET={secret}")


@main.group()
def outbox() -> None:
    """The queue of outgoing messages."""


@outbox.command("status")
@DB_OPTION
def outbox_status(db_url: str | None) -> None:
    """How many messages wait, are being sent, were sent, failed or are held, and why."""
    from sqlalchemy import func, select

    from storage import UnitOfWork
    from storage.models import OutboxMessage

    with _database(db_url) as factory, UnitOfWork(factory) as uow:
        counts = uow.session.execute(
            select(OutboxMessage.channel, OutboxMessage.status, func.count())
            .group_by(OutboxMessage.channel, OutboxMessage.status)
            .order_by(OutboxMessage.channel, OutboxMessage.status)
        ).all()
        reasons = uow.session.execute(
            select(OutboxMessage.channel, OutboxMessage.last_error, func.count())
            .where(OutboxMessage.status.in_(("failed", "held", "pending")),
                   OutboxMessage.last_error.is_not(None))
            .group_by(OutboxMessage.channel, OutboxMessage.last_error)
            .order_by(func.count().desc())
            .limit(20)
        ).all()
    if not counts:
        click.echo("the outbox is empty")
    for channel, status, n in counts:
        click.echo(f"{channel:<10} {status:<8} {n:>8}")
    if reasons:
        click.echo("\nwhy (failed, held, or waiting to retry):")
        for channel, reason, n in reasons:
            click.echo(f"{channel:<10} {n:>8}  {reason}")


@main.command()
@click.option("--now", "at", metavar="TIME",
              help="Run the pass as of this time (ISO 8601, UTC unless it has an offset); "
              "default: now.")
@click.option("--flows", "flow_paths", metavar="PATHS",
              help="Flow files or folders (default: $KOLOT_FLOWS or ./flows).")
@DB_OPTION
def tick(at: str | None, flow_paths: str | None, db_url: str | None) -> None:
    """Do once what the scheduler does every half minute in `kolot serve`: announce the
    phases that opened, remind, nudge. Safe to run alongside servers and from cron: each
    thing happens once whoever does it."""
    import os
    from datetime import UTC, datetime

    from bot.registry import FlowRegistry
    from bot.schedule.tick import Ticker
    from bot.server import load_flows
    from bot.service import Service
    from bot.settings import Settings, SettingsError

    paths = flow_paths or os.environ.get("KOLOT_FLOWS") or "flows"
    try:
        registry = load_flows([Path(p) for p in paths.split(os.pathsep)], FlowRegistry())
    except SettingsError as exc:
        raise click.UsageError(f"{exc}: give them with --flows or $KOLOT_FLOWS") from exc
    except FlowError as exc:
        for diagnostic in exc.diagnostics:
            click.echo(str(diagnostic), err=True)
        sys.exit(1)
    now = datetime.now(UTC)
    if at:
        try:
            given = datetime.fromisoformat(at)
        except ValueError as exc:
            raise click.BadParameter(f"'{at}' is not a time such as 2026-12-22T09:00 "
                                     "(UTC) or 2026-12-22T09:00+02:00", param_hint="--now") from exc
        now = given.replace(tzinfo=UTC) if given.tzinfo is None else given.astimezone(UTC)
    with _database(db_url) as factory:
        service = Service(factory, registry, clock=lambda: now)
        report = Ticker(factory, registry, service, media=Settings.from_env().media).tick(now)
    for event in report.events:
        click.echo(event)
    click.echo(f"announced {report.announced}, asked {report.asked}, invited {report.invited}, "
               f"reminded {report.reminded}, nudged {report.nudged}, held by the daily cap "
               f"{report.capped}, broadcast to {report.broadcast}, results to {report.results}")


@main.command()
@click.argument("flow")
@click.option("--source", required=True, metavar="NAME",
              help="Where this invite goes out (a poster, a partner's newsletter, a clinic).")
@click.option("--circle", metavar="NAME", help="The circle it admits to (experts, a ministry).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=".",
              show_default=True, help="Folder for the QR code pictures.")
@click.option("--bot", "bot_name", metavar="USERNAME",
              help="The Telegram bot's username (default: $KOLOT_TELEGRAM_USERNAME).")
@DB_OPTION
def invite(flow: str, source: str, circle: str | None, out_dir: str, bot_name: str | None,
           db_url: str | None) -> None:
    """Make an invite code for FLOW: a Telegram deep link, a WhatsApp click-to-chat link and
    a QR code of each for posters. Who comes with it is counted under SOURCE (and CIRCLE)."""
    import os
    import re
    import secrets
    import urllib.parse

    import qrcode

    from bot.audit_command import record
    from bot.clock import utc_now
    from bot.settings import Settings
    from storage import UnitOfWork

    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", source) or (
            circle is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", circle)):
        raise click.BadParameter("use letters, digits, - and _ for --source and --circle")
    flow_id = _flow_id(flow)
    settings = Settings.from_env()
    username = (bot_name or os.environ.get("KOLOT_TELEGRAM_USERNAME") or "").lstrip("@")
    code = secrets.token_urlsafe(6)  # 8 characters of A-Z a-z 0-9 - _: a deep link's payload
    with _database(db_url) as factory, UnitOfWork(factory) as uow:
        now = utc_now()
        uow.invites.add(code, flow_id, source, circle, now=now)
        record(uow, "invite.create", f"invite:{code}", now=now, flow=flow_id, source=source,
               **({"circle": circle} if circle else {}))
        uow.commit()
    links: dict[str, str] = {}
    if username:
        links["telegram"] = f"https://t.me/{username}?start={code}"
    if settings.twilio_from:
        number = settings.twilio_from.removeprefix("whatsapp:").lstrip("+")
        links["whatsapp"] = f"https://wa.me/{number}?text={urllib.parse.quote(code)}"
    click.echo(f"invite code {code}: flow {flow_id}, source {source}"
               + (f", circle {circle}" if circle else ""))
    if not links:
        click.echo("(no links: set KOLOT_TELEGRAM_USERNAME or --bot, and/or KOLOT_TWILIO_FROM)")
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    for channel, link in links.items():
        picture = folder / f"{flow_id}-{source}-{channel}.png"
        qrcode.make(link).save(str(picture))
        click.echo(f"{channel}: {link}  (QR code: {picture})")


@main.command()
@click.argument("flow")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("--by", "dimensions", multiple=True, metavar="DIMENSION",
              help="Break down by this (channel, language, source, circle or a profile "
                   "field); repeat it. Default: all of them.")
@DB_OPTION
def stats(flow: str, fmt: str, dimensions: tuple[str, ...], db_url: str | None) -> None:
    """The funnel of FLOW (a file or id): reached, consented, each question, finished; and
    who took part by channel, language, source, circle and profile, against its targets."""
    from bot.audit_command import record
    from bot.stats import render_text, report
    from storage import UnitOfWork

    with _database(db_url) as factory, UnitOfWork(factory) as uow:
        loaded = flow_given(uow, flow)
        found = report(uow, loaded, dimensions=list(dimensions) or None)
        record(uow, "stats.show", f"flow:{loaded.id}", format=fmt)
        uow.commit()
    if fmt == "json":
        click.echo(json.dumps(found.as_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(render_text(found), nl=False)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Don't ask for confirmation (for scripts).")
@click.option("--no-send", is_flag=True,
              help="Write the recipients to the outbox and leave sending to `kolot serve`.")
@click.option("--resend-unconfirmed", is_flag=True,
              help="Send again to those whose message may or may not have arrived (a "
                   "sender died mid-call): some of them may get it twice.")
@click.option("--flows", "flow_paths", metavar="PATHS",
              help="Flow files or folders (default: $KOLOT_FLOWS or ./flows).")
@DB_OPTION
def broadcast(file: str, yes: bool, no_send: bool, resend_unconfirmed: bool,
              flow_paths: str | None, db_url: str | None) -> None:
    """Send the message in FILE (YAML: name, flow, messages per language, audience,
    send_at, start_step; see docs/broadcasts.md) to a flow's participants, each in their
    language. Shows who it reaches and asks first; then writes every recipient to the
    outbox and sends, with a progress bar. Run it again after a crash or Ctrl-C: it sends
    to the rest, and never twice to anyone it was sent to."""
    import asyncio
    import hashlib
    import os
    import time
    from datetime import UTC, datetime

    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from bot.audit_command import record
    from bot.broadcast.audience import enqueue, plan
    from bot.broadcast.send import progress_of, send, waiting_on
    from bot.broadcast.spec import check_spec
    from bot.registry import FlowRegistry
    from bot.server import load_flows
    from bot.service import Service
    from bot.settings import Settings, SettingsError
    from storage import UnitOfWork

    text = Path(file).read_text(encoding="utf-8")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    paths = flow_paths or os.environ.get("KOLOT_FLOWS") or "flows"
    registry = FlowRegistry()
    try:
        load_flows([Path(p) for p in paths.split(os.pathsep)], registry)
    except SettingsError:
        pass  # no flow files here: the flows are found in the database
    except FlowError as exc:
        for diagnostic in exc.diagnostics:
            click.echo(str(diagnostic), err=True)
        sys.exit(1)
    now = datetime.now(UTC)
    with _database(db_url) as factory:
        with UnitOfWork(factory) as uow:

            def find(flow_id: str) -> Flow | None:
                if flow_id in registry.ids():
                    return registry.current(flow_id)
                stored = uow.definitions.newest(flow_id)
                return None if stored is None else load_source(stored.source,
                                                               f"<stored {flow_id}>")

            known = sorted(set(registry.ids()) | set(uow.definitions.flow_ids()))
            spec, flow, problems = check_spec(text, file, find, known, now=now)
            if problems or spec is None or flow is None:
                for diagnostic in problems:
                    click.echo(str(diagnostic), err=True)
                sys.exit(1)
            zone = flow.outreach.zone
            found = uow.broadcasts.named(spec.name)
            if found is not None and found.digest != digest:
                done = uow.broadcasts.progress(found.id)
                click.echo(f"error: broadcast {spec.name!r} was started on "
                           f"{found.created_at.astimezone(zone):%Y-%m-%d %H:%M} from a "
                           f"different file (sent to {done.sent:,} of {done.total:,}). To "
                           "resume it, use that file; to send a new message, give it a "
                           "new name.", err=True)
                sys.exit(1)
            audience = None
            made, written_now = found is None, False
            if found is None:
                audience = plan(uow, flow, spec)
                when = spec.send_time(flow, now)
                _describe_plan(spec.name, flow.id, audience, when, now, zone)
                if not audience.members:
                    click.echo("nobody to send to: nothing done")
                    return
                if not yes:
                    click.confirm("Send it?", abort=True)
                found = uow.broadcasts.create(
                    name=spec.name, digest=digest, flow_id=flow.id, spec=spec.to_json(),
                    start_step=spec.start_step, send_at=when, now=now)
            broadcast_id = found.id
            # Run again after its time, in quiet hours: it waits for their end all the same.
            send_at = max(found.send_at, spec.send_time(flow, now))
            subject = f"broadcast:{broadcast_id}"
            if found.enqueued_at is None and send_at > now:
                if made:
                    record(uow, "broadcast.schedule", subject, now=now, name=spec.name,
                           flow=flow.id, send_at=send_at.isoformat())
                uow.commit()
                click.echo(f"scheduled for {send_at.astimezone(zone):%Y-%m-%d %H:%M} "
                           f"({zone.key}): kolot serve (or kolot tick) writes it to the "
                           "outbox then, for the audience of that moment")
                return
            if found.enqueued_at is None:
                began = time.perf_counter()
                service = Service(factory, registry)
                written = enqueue(uow, broadcast_id, flow, spec, now=now, due=now,
                                  prompt=service.prompt, found=audience)
                record(uow, "broadcast.send", subject, now=now, name=spec.name, flow=flow.id,
                       recipients=written or 0)
                uow.commit()
                written_now = True
                click.echo(f"written to the outbox: {written or 0:,} recipients in "
                           f"{time.perf_counter() - began:.1f} s")
        with UnitOfWork(factory) as uow:
            taken = uow.broadcasts.take_back(broadcast_id, now=now)
            doubt = uow.outbox.settle(now=now, broadcast=broadcast_id)
            again = uow.broadcasts.resend_unconfirmed(broadcast_id, now=now) \
                if resend_unconfirmed else 0
            if not written_now:  # this run resumes one written to the outbox before
                record(uow, "broadcast.resume", f"broadcast:{broadcast_id}", now=now,
                       name=spec.name, taken_back=taken, unconfirmed=doubt, resent=again)
            uow.commit()
        if taken or doubt or again:
            click.echo(f"resuming: {taken:,} claimed by a stopped sender go again; "
                       f"{doubt:,} were mid-call (unconfirmed, not sent again)"
                       + (f"; {again:,} unconfirmed sent again" if again else ""))
        progress = progress_of(factory, broadcast_id)
        settings = Settings.from_env()
        configured = {name for name, ok in (("telegram", settings.telegram_token),
                                            ("whatsapp", settings.twilio_from)) if ok}
        channels = {c for c in progress.by_channel if c in configured}
        others = {c: waiting_on(progress, {c}) for c in progress.by_channel
                  if c not in configured and waiting_on(progress, {c})}
        for channel, n in others.items():
            click.echo(f"{channel}: {n:,} wait for a sender of that channel (kolot serve)")
        if not no_send and waiting_on(progress, channels):
            columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                       TextColumn("{task.fields[detail]}"), TimeRemainingColumn())
            with Progress(*columns) as bar:
                task = bar.add_task(spec.name, total=progress.total, detail="")

                def shown(p: Any) -> None:
                    bar.update(task, completed=p.done, detail=f"sent {p.sent:,}")

                progress = asyncio.run(send(settings, factory, broadcast_id, channels=channels,
                                            shown=shown))
        click.echo(f"{spec.name}: {progress.total:,} recipients: sent {progress.sent:,}, "
                   f"waiting {progress.waiting:,}, unconfirmed {progress.unconfirmed:,}, "
                   f"failed {progress.failed:,}, held {progress.held:,}")
        if progress.unconfirmed:
            click.echo("unconfirmed: a sender stopped while sending these, so they may or may "
                       "not have arrived; they are not sent again unless you run this with "
                       "--resend-unconfirmed")


def _describe_plan(name: str, flow_id: str, audience: Any, when: Any, now: Any,
                   zone: Any) -> None:
    def counts(counter: Any) -> str:
        return ", ".join(f"{key} {n:,}" for key, n in counter.most_common()) or "-"

    click.echo(f"broadcast {name} to the participants of {flow_id}: "
               f"{len(audience.members):,} recipients")
    click.echo(f"  by language: {counts(audience.languages)}")
    click.echo(f"  by channel:  {counts(audience.channels)}")
    click.echo(f"  left out:    {counts(audience.left_out)}")
    goes = "now" if when <= now else f"{when.astimezone(zone):%Y-%m-%d %H:%M} ({zone.key})"
    click.echo(f"  goes:        {goes}")


def flow_given(uow: Any, flow: str) -> Flow:
    """FLOW as a command names it: a flow file, or the id of a flow whose newest version
    is stored in the database. Exits with the reason when it is neither."""
    if Path(flow).is_file():
        return _load_flow_file(flow)[1]
    stored = uow.definitions.newest(flow)
    if stored is None:
        click.echo(f"error: no flow {flow!r} in the database; give its file", err=True)
        sys.exit(1)
    try:
        return load_source(stored.source, f"<stored {flow}>")
    except FlowError as exc:
        for diagnostic in exc.diagnostics:
            click.echo(str(diagnostic), err=True)
        sys.exit(1)


from bot.export_command import export  # noqa: E402

main.add_command(export)

from bot.report_command import report  # noqa: E402

main.add_command(report)

from bot.audit_command import audit  # noqa: E402

main.add_command(audit)

from bot.purge_command import purge  # noqa: E402

main.add_command(purge)

from bot.participant_command import participant  # noqa: E402

main.add_command(participant)
