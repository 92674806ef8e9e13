"""Migrations and models must describe the same schema, on both databases."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from storage.database import (
    current_revision,
    downgrade,
    head_revision,
    is_up_to_date,
    make_engine,
    upgrade,
)
from storage.models import Base

TABLES = {
    "admin_actions",
    "agree_votes",
    "alembic_version",
    "answers",
    "broadcasts",
    "consent_texts",
    "consents",
    "flow_events",
    "flow_definitions",
    "ideas",
    "invites",
    "notices",
    "outbox",
    "pairwise_votes",
    "participants",
    "processed_inputs",
    "runs",
    "whatsapp_contents",
}


def differences(url: str) -> list[Any]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_head_creates_exactly_the_models(empty_database_url: str) -> None:
    assert current_revision(empty_database_url) is None
    assert not is_up_to_date(empty_database_url)
    upgrade(empty_database_url)
    assert tables(empty_database_url) == TABLES
    assert differences(empty_database_url) == []
    assert current_revision(empty_database_url) == head_revision() == "0010"
    assert is_up_to_date(empty_database_url)


def test_upgrade_twice_is_a_no_op(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    upgrade(empty_database_url)
    assert is_up_to_date(empty_database_url)


def test_downgrade_to_base_and_upgrade_again(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    downgrade(empty_database_url, "base")
    assert tables(empty_database_url) == {"alembic_version"}
    assert current_revision(empty_database_url) is None
    upgrade(empty_database_url)
    assert differences(empty_database_url) == []
    assert is_up_to_date(empty_database_url)


def test_constraint_names_follow_the_naming_convention(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    try:
        inspector = inspect(engine)
        uniques = {u["name"] for u in inspector.get_unique_constraints("participants")}
        foreign = {f["name"] for f in inspector.get_foreign_keys("runs")}
        # PostgreSQL lists the index behind a unique constraint too; it is the constraint's.
        indexes = {i["name"] for i in inspector.get_indexes("outbox")
                   if not i.get("duplicates_constraint")}
        outbox_uniques = {u["name"] for u in inspector.get_unique_constraints("outbox")}
    finally:
        engine.dispose()
    assert uniques == {"uq_participants_channel_address", "uq_participants_pseudonym"}
    assert foreign == {
        "fk_runs_participant_id_participants",
        "fk_runs_definition_id_flow_definitions",
    }
    assert outbox_uniques == {"uq_outbox_broadcast_id_participant_id"}
    assert indexes == {
        "ix_outbox_status_channel_next_attempt_at",
        "ix_outbox_participant_id_status",
        "ix_outbox_platform_message_id",
        "ix_outbox_unsent_channel_id",
    }


def test_upgrade_works_from_any_working_directory(
    empty_database_url: str, tmp_path: Any, monkeypatch: Any
) -> None:
    monkeypatch.chdir(tmp_path)  # no alembic.ini here; the config is built in code
    upgrade(empty_database_url)
    assert is_up_to_date(empty_database_url)


def test_processes_starting_together_can_all_upgrade(empty_database_url: str) -> None:
    """Web and sender processes each run upgrade() at start; one migrates, none fails."""
    script = "import sys; from storage.database import upgrade; upgrade(sys.argv[1])"
    root = Path(__file__).resolve().parents[2]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, empty_database_url],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(3)
    ]
    outputs = [process.communicate(timeout=60)[0].decode() for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0], outputs
    assert is_up_to_date(empty_database_url)
    assert differences(empty_database_url) == []
