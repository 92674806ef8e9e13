"""``kolot participant data`` and ``erase``: a data request answered by an operator, on
SQLite and PostgreSQL, over a participant who took part through the real service."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import Engine, select

from bot.channels.base import Inbound
from bot.cli import main
from bot.registry import FlowRegistry
from bot.service import Service
from storage.database import make_session_factory
from storage.models import AdminAction, Base

FLOW = """\
id: street
version: 1
default_language: en
steps:
  - {id: consent, type: consent, text: Agree?}
  - {id: wish, type: text, text: What would you change?}
  - {id: bye, type: end, text: Bye}
"""
WISH = "a pedestrian crossing by the school"


def took_part(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "street.yaml"
    path.write_text(FLOW, encoding="utf-8")
    registry = FlowRegistry()
    registry.add_file(path)
    service = Service(make_session_factory(engine), registry)
    for n, text in enumerate((None, "yes", WISH)):
        service.handle(Inbound("telegram", "605550001", f"u{n}", text=text,
                               command="start" if text is None else None), "street")


def everything(engine: Engine) -> str:
    with engine.connect() as connection:
        return repr([tuple(row) for table in Base.metadata.sorted_tables
                     if table.name != "admin_actions"
                     for row in connection.execute(select(table))])


def test_data_prints_what_mydata_sends_and_erase_removes_it(
    migrated_url: tuple[str, Engine], tmp_path: Path
) -> None:
    url, engine = migrated_url
    took_part(engine, tmp_path)
    shown = CliRunner().invoke(main, ["participant", "data", "telegram", "605550001",
                                      "--db", url])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.output)
    assert data["address"] == "605550001"
    assert [a["answer"] for a in data["runs"][0]["answers"]] == [WISH]

    refused = CliRunner().invoke(main, ["participant", "erase", "telegram", "605550001",
                                        "--db", url], input="n\n")
    assert refused.exit_code == 1 and "605550001" in everything(engine)
    erased = CliRunner().invoke(main, ["participant", "erase", "telegram", "605550001",
                                       "--db", url, "--yes"])
    assert erased.exit_code == 0 and erased.output.strip() == "erased"
    assert "605550001" not in everything(engine) and WISH not in everything(engine)

    with engine.connect() as connection:
        audit = connection.execute(select(AdminAction.action, AdminAction.subject,
                                          AdminAction.detail)).all()
    assert [tuple(a) for a in audit] == [("participant.data", "channel:telegram", None),
                                         ("participant.erase", "channel:telegram", None)]
    gone = CliRunner().invoke(main, ["participant", "data", "telegram", "605550001",
                                     "--db", url])
    assert gone.exit_code == 1 and "nobody is known" in gone.output
