"""Benchmark: the pure engine (steps/s) and the stored console path (inputs/s).

Run: ``.venv/bin/python bench/engine.py [--seconds 3] [--no-record]``. Prints the figures and
appends them, with the machine and date, to docs/benchmarks.md. Targets (one core):
>= 20,000 engine steps/s and >= 1,000 stored inputs/s on SQLite with a commit per input.
Both figures come from one run on the same machine; compare ratios, not single numbers.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
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


def bench_engine(seconds: float) -> tuple[float, int]:
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
    elapsed = time.perf_counter() - began
    return steps / elapsed, steps


def bench_stored(seconds: float) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        registry = FlowRegistry()
        flow = registry.add_file(FLOW)
        service = Service(factory, registry)
        inputs = 0
        began = time.perf_counter()
        deadline = began + seconds
        for n in count():
            if time.perf_counter() >= deadline:
                break
            chat = ConsoleConversation(service, factory, flow.id, f"p{n}", out=lambda _: None)
            chat.open()
            inputs += 1
            for line in WALK:
                chat.say(line)
                inputs += 1
        elapsed = time.perf_counter() - began
        engine.dispose()
    return inputs / elapsed, inputs


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


def record(engine_rate: float, stored_rate: float) -> None:
    doc = ROOT / "docs" / "benchmarks.md"
    if not doc.exists():
        doc.write_text(
            "# Benchmarks\n\n"
            "Figures recorded by the scripts in `bench/`; each row is one run on the named "
            "machine. Machines are small and noisy: compare figures from the same row.\n\n"
            "## bench/engine.py\n\n"
            "Pure engine: `start` + `step` over a full walk of the civil-service-women example "
            "(10 inputs with a re-prompt and a `back`), one core. Stored: the same walk through "
            "the console channel: service transaction (state, answers, outbox) committed to a "
            "SQLite file (WAL) per input, then the outbox drained (claim + mark sent).\n\n"
            "| date | machine | engine steps/s (target 20,000) | stored inputs/s (target 1,000) |\n"
            "|---|---|---|---|\n",
            encoding="utf-8",
        )
    row = (
        f"| {datetime.now(UTC):%Y-%m-%d} | {machine()} | {engine_rate:,.0f} | "
        f"{stored_rate:,.0f} |\n"
    )
    with doc.open("a", encoding="utf-8") as f:
        f.write(row)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    engine_rate, steps = bench_engine(args.seconds)
    print(f"engine: {engine_rate:,.0f} steps/s ({steps} steps; target {TARGET_ENGINE:,})")
    stored_rate, inputs = bench_stored(args.seconds)
    print(f"stored: {stored_rate:,.0f} inputs/s ({inputs} inputs; target {TARGET_STORED:,})")
    print(f"ratio engine/stored: {engine_rate / stored_rate:.1f}")
    if not args.no_record:
        record(engine_rate, stored_rate)


if __name__ == "__main__":
    main()
