"""``kolot purge`` on SQLite and PostgreSQL: what a purge would remove (``--dry-run``,
nothing changed), then the purge, each printed per flow as counts, never an address or
a text; the audit row names the command line's user. A flow file with a bad retention
value stops it with the file and line."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from retention_world import (
    ANA,
    BEN,
    DAN,
    DUE,
    EVE,
    IDEAS,
    LIBRARY,
    PARK,
    SEEDS,
    WISHES,
    World,
    build,
)
from sqlalchemy import select

from bot.cli import main
from storage.database import make_engine, make_session_factory, upgrade
from storage.models import AdminAction


@pytest.fixture
def filled(empty_database_url: str, tmp_path: Path) -> Iterator[tuple[str, Path, World]]:
    """A migrated database of this test alone, with the retention world in it, and a
    folder with its two flow files."""
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    try:
        world = build(make_session_factory(engine))
        folder = tmp_path / "flows"
        folder.mkdir()
        (folder / "park.yaml").write_text(PARK, encoding="utf-8")
        (folder / "library.yaml").write_text(LIBRARY, encoding="utf-8")
        yield empty_database_url, folder, world
    finally:
        engine.dispose()


def _purge(url: str, folder: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["purge", "--flows", str(folder), "--db-url", url, *args],
                              catch_exceptions=False)


def _table_row(output: str, flow_id: str) -> list[str]:
    """The cells of a flow's row of the printed table."""
    line = next(line for line in output.splitlines() if f" {flow_id} " in line)
    return [cell.strip() for cell in line.strip("│┃ ").split("│")]


def _no_secrets(output: str) -> None:
    for secret in (ANA, BEN, DAN, EVE, *IDEAS.values(), *WISHES.values(), *SEEDS):
        assert secret not in output


def test_a_dry_run_prints_what_would_go_and_changes_nothing(
    filled: tuple[str, Path, World],
) -> None:
    url, folder, world = filled
    before = world.counts()
    done = _purge(url, folder, "--dry-run", "--now", DUE.isoformat())
    assert done.exit_code == 0, done.output
    assert "dry run as of 2026-04-19 21:00 UTC: nothing was changed" in done.output
    # flow, closed, runs, answers, notices, ideas, votes, profiles, people deleted
    row = _table_row(done.output, "park")
    assert row[:6] == ["park", "2026-03-20", "3", "12", "3", "3"], done.output
    assert row[-2:] == ["2", "1"], done.output
    assert "1 person would be deleted in all" in done.output
    assert "library: kept until 2027-06-30 21:00 UTC" in done.output
    _no_secrets(done.output)
    assert world.counts() == before


def test_the_purge_prints_what_went_and_is_audited(filled: tuple[str, Path, World]) -> None:
    url, folder, world = filled
    early = _purge(url, folder, "--now", (DUE - timedelta(days=1)).isoformat())
    assert early.exit_code == 0, early.output
    assert "no flow is past its retention: nothing to remove" in early.output
    assert "park: kept until 2026-04-19 21:00 UTC" in early.output

    done = _purge(url, folder, "--now", DUE.isoformat())
    assert done.exit_code == 0, done.output
    assert "purge as of 2026-04-19 21:00 UTC:" in done.output
    row = _table_row(done.output, "park")
    assert row[:6] == ["park", "2026-03-20", "3", "12", "3", "3"], done.output
    assert "1 person was deleted in all" in done.output
    _no_secrets(done.output)
    assert world.person(BEN) is None and world.person(ANA) is not None
    with world.factory() as session:
        rows = session.scalars(select(AdminAction).where(AdminAction.action == "purge")).all()
    assert [(r.actor.startswith("cli"), r.subject, r.detail["runs"]) for r in rows] == [
        (True, "flow:park", 3)]

    again = _purge(url, folder, "--now", DUE.isoformat())
    assert _table_row(again.output, "park")[2:] == ["0"] * 7, again.output


def test_a_bad_retention_value_stops_it_with_file_and_line(
    filled: tuple[str, Path, World],
) -> None:
    url, folder, world = filled
    before = world.counts()
    broken = PARK.replace("retention_days: 30", "retention_days: 30 days")
    (folder / "park.yaml").write_text(broken, encoding="utf-8")
    done = CliRunner().invoke(main, ["purge", "--flows", str(folder), "--db", url,
                                     "--now", DUE.isoformat()])
    assert done.exit_code == 1
    assert f"{folder / 'park.yaml'}:7:17: error: 'retention_days' must be a whole number" \
        in done.stderr, done.stderr
    assert "nothing purged" in done.stderr
    assert world.counts() == before
