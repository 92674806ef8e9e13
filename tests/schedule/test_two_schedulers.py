"""Two scheduler processes on one PostgreSQL, at once, for the same due reminders and the
same phase opening: each participant gets each message exactly once."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from databases import create_schema, drop_schema, postgres_server_url, require_postgres
from sqlalchemy import select
from test_tick import TOWN

from bot.channels.base import Inbound, Outbound
from bot.engine import load_source
from bot.registry import FlowRegistry
from bot.service import Service
from storage.database import make_engine, make_session_factory, upgrade
from storage.models import OutboxMessage

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = 150


@pytest.fixture
def postgres_url() -> Iterator[str]:
    server = postgres_server_url()
    require_postgres(server)
    schema, url = create_schema(server, prefix="kolot_ticks")
    upgrade(url)
    try:
        yield url
    finally:
        drop_schema(server, schema)


def both(url: str, flow: Path, now: str) -> list[str]:
    """Two ``kolot tick`` processes started together; their reports."""
    env = {**os.environ, "KOLOT_DATABASE_URL": url}
    command = [sys.executable, "-m", "bot", "tick", "--now", now, "--flows", str(flow)]
    processes = [subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outputs = []
    for process in processes:
        out, _ = process.communicate(timeout=120)
        assert process.returncode == 0, out
        outputs.append(out)
    return outputs


def counted(outputs: list[str], what: str) -> int:
    total = 0
    for out in outputs:
        found = re.search(rf"{what} (\d+)", out)
        assert found is not None, out
        total += int(found.group(1))
    return total


def test_two_schedulers_send_each_reminder_and_announcement_exactly_once(
    postgres_url: str, tmp_path: Path
) -> None:
    flow_file = tmp_path / "town.yaml"
    flow_file.write_text(TOWN, encoding="utf-8")
    engine = make_engine(postgres_url)
    factory = make_session_factory(engine)
    try:
        registry = FlowRegistry()
        registry.add(load_source(TOWN, str(flow_file)), TOWN)
        start = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
        service = Service(factory, registry, clock=lambda: start)
        for n in range(PEOPLE):
            who = f"p{n}"
            service.handle(Inbound("telegram", who, f"{who}-0", command="start"), "town")
            service.handle(Inbound("telegram", who, f"{who}-1", text="yes"), "town")
            if n % 2:  # half go on to wait for the voting phase
                service.handle(Inbound("telegram", who, f"{who}-2", text="yes"), "town")
                service.handle(Inbound("telegram", who, f"{who}-3", text="shade"), "town")

        nudges = both(postgres_url, flow_file, "2026-03-03T09:00:00")
        assert counted(nudges, "nudged") == PEOPLE // 2  # the idle half, once, between them
        opening = both(postgres_url, flow_file, "2026-03-11T07:30:00")
        assert counted(opening, "asked") == PEOPLE // 2
        assert counted(opening, "announced") == PEOPLE // 2
        assert counted(opening, "nudged") == PEOPLE // 2  # the idle half's second nudge
        assert sum("phase voting opened" in out for out in opening) == 1

        with factory() as session:
            rows = session.execute(select(OutboxMessage.address, OutboxMessage.payload)
                                   .where(OutboxMessage.created_at > start)).all()
        per = Counter((address, Outbound.from_payload(payload).text)
                      for address, payload in rows)
        idle = {f"p{n}" for n in range(0, PEOPLE, 2)}
        waiting = {f"p{n}" for n in range(1, PEOPLE, 2)}
        # Two passes: two nudges each to the idle half (never four), one announcement to
        # everyone, the voting question once to those who waited for it.
        nudge = "Come back and finish, please."
        assert {a: per[(a, nudge)] for a in idle} == dict.fromkeys(idle, 2)
        everyone = idle | waiting
        assert {a: per[(a, "Voting is open!")] for a in everyone} == dict.fromkeys(everyone, 1)
        assert {a: per[(a, "Which plan?")] for a in waiting} == dict.fromkeys(waiting, 1)
        assert not any(per[(a, nudge)] for a in waiting)
    finally:
        engine.dispose()
