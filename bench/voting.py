"""Benchmark: tallying pairwise votes and choosing the next pair.

Run: ``.venv/bin/python bench/voting.py [--votes 1000000] [--ideas 1000] [--no-postgres]
[--no-record]``. Prints the figures and appends them to docs/benchmarks.md. Targets: tally
1,000,000 votes over 1,000 ideas in under 2 s on SQLite and on PostgreSQL; choose the next
pair in under 1 ms with 10,000 ideas. Loading the votes is setup and is not timed.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import combinations
from pathlib import Path

import numpy as np
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from bot.voting.exposure import next_pair
from bot.voting.scores import decided_matrix, rank
from storage import UnitOfWork
from storage.database import make_engine, make_session_factory, upgrade
from storage.models import Idea, PairwiseVote, Participant

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 22, tzinfo=UTC)
PG_URL = os.environ.get(
    "KOLOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
VOTES_EACH = 500
CHUNK = 50_000


@contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        yield f"sqlite:///{tmp}/votes.db"


@contextmanager
def postgres_url() -> Iterator[str]:
    schema = f"kolot_bench_{os.getpid()}"
    admin = create_engine(PG_URL, poolclass=NullPool)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def load(url: str, n_votes: int, n_ideas: int) -> tuple[list[int], np.ndarray]:
    """``n_votes`` Bradley-Terry votes from ``n_votes / 500`` participants, 500 pairs each."""
    upgrade(url)
    engine = make_engine(url)
    rng = random.Random(1)
    quality = np.array([rng.gauss(0, 1) for _ in range(n_ideas)])
    pairs = list(combinations(range(n_ideas), 2))
    voters = max(1, n_votes // VOTES_EACH)
    with engine.begin() as connection:
        connection.execute(insert(Participant), [
            {"channel": "bench", "address": str(p), "pseudonym": f"bench{p}", "profile": {},
             "created_at": NOW, "updated_at": NOW} for p in range(voters)
        ])
        connection.execute(insert(Idea), [
            {"flow_id": "bench", "step_id": "idea", "text": f"idea {i}", "language": "en",
             "status": "approved", "flags": 0, "created_at": NOW, "updated_at": NOW}
            for i in range(n_ideas)
        ])
        participant_ids = [r[0] for r in connection.execute(text(
            "SELECT id FROM participants ORDER BY id"))]
        idea_ids = [r[0] for r in connection.execute(text("SELECT id FROM ideas ORDER BY id"))]
        rows = []
        for v in range(n_votes):
            p, k = divmod(v, VOTES_EACH)
            i, j = pairs[(p * VOTES_EACH + k) % len(pairs)]
            chance = 1 / (1 + math.exp(quality[j] - quality[i]))
            winner = i if rng.random() < chance else j
            rows.append({"flow_id": "bench", "participant_id": participant_ids[p % voters],
                         "idea_low": idea_ids[i], "idea_high": idea_ids[j],
                         "winner_id": idea_ids[winner], "voted_at": NOW})
            if len(rows) == CHUNK:
                connection.execute(insert(PairwiseVote), rows)
                rows.clear()
        if rows:
            connection.execute(insert(PairwiseVote), rows)
    engine.dispose()
    return idea_ids, quality


def time_tally(url: str, idea_ids: list[int]) -> tuple[float, float]:
    """Seconds to tally all votes into a win matrix, and to score them (Bradley-Terry)."""
    engine = make_engine(url)
    factory = make_session_factory(engine)
    index = {idea: n for n, idea in enumerate(idea_ids)}
    began = time.perf_counter()
    with UnitOfWork(factory) as uow:
        decided = uow.votes.decided("bench")
    wins = decided_matrix(len(idea_ids), decided, index)
    tallied = time.perf_counter() - began
    began = time.perf_counter()
    rank(wins)
    scored = time.perf_counter() - began
    engine.dispose()
    assert int(wins.sum()) > 0
    return tallied, scored


def time_next_pair(n_ideas: int, calls: int = 2_000) -> float:
    """Median milliseconds per ``next_pair`` with ``n_ideas`` ideas and 30 pairs seen."""
    rng = random.Random(2)
    shown = np.array([rng.randrange(0, 500) for _ in range(n_ideas)], dtype=np.int64)
    theta = np.array([rng.gauss(0, 1) for _ in range(n_ideas)])
    seen = [(rng.randrange(n_ideas), rng.randrange(n_ideas)) for _ in range(30)]
    times = []
    for _ in range(calls):
        began = time.perf_counter()
        next_pair(shown, theta, own=(5,), seen=seen, rng=rng)
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def record(rows: list[str]) -> None:
    from record import add_rows  # bench/record.py, beside this file

    section = (
        "## bench/voting.py\n\n"
        "Tally: every pairwise vote of a flow read as raw (winner, loser) rows from the "
        "driver's cursor and counted into a win matrix with numpy; the votes are loaded first "
        "and not timed. Scores: the Bradley-Terry fit and All Our Ideas scores on that "
        "matrix. Next pair: the median time of one `next_pair` with 10,000 ideas.\n\n"
        "| date | machine | database | votes | ideas | tally s (target < 2) | scores s "
        "| next pair ms, 10,000 ideas (target < 1) |\n|---|---|---|---|---|---|---|---|\n"
    )
    add_rows(section, rows)


def main() -> None:
    from engine import machine  # bench/engine.py, beside this file

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--votes", type=int, default=1_000_000)
    parser.add_argument("--ideas", type=int, default=1_000)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    pair_ms = time_next_pair(10_000)
    print(f"next pair: {pair_ms:.3f} ms with 10,000 ideas (target < 1)")
    rows = []
    databases = [("SQLite", sqlite_url)]
    if not args.no_postgres:
        databases.append(("PostgreSQL", postgres_url))
    for name, url_of in databases:
        with url_of() as url:
            began = time.perf_counter()
            idea_ids, _ = load(url, args.votes, args.ideas)
            print(f"{name}: loaded {args.votes:,} votes in {time.perf_counter() - began:.1f} s")
            tallied, scored = time_tally(url, idea_ids)
        print(f"{name}: tally {tallied:.2f} s (target < 2), scores {scored:.2f} s")
        rows.append(
            f"| {datetime.now(UTC):%Y-%m-%d} | {machine()} | {name} | {args.votes:,} | "
            f"{args.ideas:,} | {tallied:.2f} | {scored:.2f} | {pair_ms:.3f} |\n"
        )
    if not args.no_record:
        record(rows)


if __name__ == "__main__":
    main()
