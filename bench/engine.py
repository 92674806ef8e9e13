"""Benchmark: the pure engine (steps/s) and the stored console path (inputs/s).

Run: ``.venv/bin/python bench/engine.py [--rounds 7] [--seconds 1] [--no-record]``. Prints
the figures and appends them, with the machine and date, to docs/benchmarks.md. Targets
(one core): >= 20,000 engine steps/s and >= 1,000 stored inputs/s on SQLite with a commit
per input. The two are measured in alternating rounds and each is reported as the median
round, so a noisy neighbour on a small machine moves both alike; compare the ratio.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import count
from pathlib import Path

from bot.channels.console import ConsoleConversation
from bot.engine import Text, load_file, start, step
from bot.registry import FlowRegistry
from bot.service import Service
from storage.database import make_engine, make_session_factory, upgrade

ROOT = Path(__file__).resolve().parent.parent
FLOW = ROOT / "flows" / "examples" / "civil-service-women.yaml"
# A full walk: consent, every question, the branch to `barrier`, one re-prompt, one back.
WALK = ["yes", "1", "1,3", "9", "5", "back", "5", "12", "no", "Too few mentors"]
TARGET_ENGINE = 20_000
TARGET_STORED = 1_000


def engine_round(seconds: float) -> float:
    """Engine steps per second: ``start`` + ``step`` over full walks, state in memory."""
    flow = load_file(FLOW)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    inputs = [Text(t) for t in WALK]
    steps = 0
    began = time.perf_counter()
    deadline = began + seconds
    while time.perf_counter() < deadline:
        state, _ = start(flow, now)
        for given in inputs:
            state, _ = step(flow, state, given, now)
        assert state.status == "finished", state
        steps += len(inputs) + 1
    return steps / (time.perf_counter() - began)


@contextmanager
def stored_rounds() -> Iterator[Callable[[float], float]]:
    """Stored inputs per second through the console channel, on one SQLite file.

    Each walk is a new participant: ``open`` (the /start) and the ten inputs, each one
    service transaction (input key, run state, answers, profile, consent, outbox rows,
    the console's messages taken as sent) committed, then printed to nowhere.
    """
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        registry = FlowRegistry()
        flow = registry.add_file(FLOW)
        service = Service(factory, registry)
        names = (f"p{n}" for n in count())

        def run(seconds: float) -> float:
            inputs = 0
            began = time.perf_counter()
            deadline = began + seconds
            while time.perf_counter() < deadline:
                chat = ConsoleConversation(
                    service, factory, flow.id, next(names), out=lambda _: None
                )
                chat.open()
                for line in WALK:
                    chat.say(line)
                inputs += len(WALK) + 1
            return inputs / (time.perf_counter() - began)

        try:
            yield run
        finally:
            engine.dispose()


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def record(engine_rate: float, stored_rate: float, rounds: int) -> None:
    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    from record import add_rows  # bench/record.py, beside this file

    section = (
        "## bench/engine.py\n\n"
        "Engine: `start` + `step` over a full walk of the civil-service-women example "
        "(10 inputs with a re-prompt and a `back`), one core, state in memory. Stored: the "
        "same walk through the console channel, one new participant per walk; each input "
        "is one service transaction (input key, run state, answers, profile, consent, "
        "outbox rows, the console's messages taken as sent) committed to a SQLite file "
        "(WAL, synchronous=NORMAL). The two alternate in rounds of one second; each "
        "figure is the median round.\n\n"
        "| date | machine | rounds | engine steps/s (target 20,000) "
        "| stored inputs/s (target 1,000) | engine/stored |\n"
        "|---|---|---|---|---|---|\n"
    )
    row = (
        f"| {datetime.now(UTC):%Y-%m-%d} | {machine()} | {rounds} | {engine_rate:,.0f} | "
        f"{stored_rate:,.0f} | {engine_rate / stored_rate:.0f} |\n"
    )
    add_rows(section, [row])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=1.0, help="length of one round")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    engine_rates: list[float] = []
    stored_rates: list[float] = []
    with stored_rounds() as stored_round:
        stored_round(0.2)  # warm up: compiled statements, translations, first pages
        for _ in range(args.rounds):
            engine_rates.append(engine_round(args.seconds))
            stored_rates.append(stored_round(args.seconds))
    engine_rate = statistics.median(engine_rates)
    stored_rate = statistics.median(stored_rates)
    spread = f"rounds {min(stored_rates):,.0f}..{max(stored_rates):,.0f}"
    print(f"engine: {engine_rate:,.0f} steps/s (median; target {TARGET_ENGINE:,})")
    print(f"stored: {stored_rate:,.0f} inputs/s (median, {spread}; target {TARGET_STORED:,})")
    print(f"ratio engine/stored: {engine_rate / stored_rate:.1f}")
    if not args.no_record:
        record(engine_rate, stored_rate, args.rounds)


if __name__ == "__main__":
    main()
