"""Benchmark: a broadcast written to the outbox for 100,000, then sent under Telegram's cap.

Run: ``.venv/bin/python bench/broadcast.py [--recipients 100000] [--capped 900]
[--lifted 20000] [--concurrency N] [--no-postgres] [--no-record]`` (PostgreSQL from
``$KOLOT_TEST_POSTGRES_URL``, default local trust auth, database ``test``; each
measurement makes its own schema and drops it). Prints the figures and adds a row, with
the machine and date, to the ``bench/broadcast.py`` table of docs/benchmarks.md; exits 1
if a check failed (a missed target is printed, as the other benchmarks do).

The participants are written in bulk by ``tests/crowd.py`` (consented, languages he, ar,
en in turn, Telegram chat ids from 10,000,000; not timed), for the neighbourhood-park
example; the broadcast file gives a text in each language and no audience filter, so
everyone is a recipient. Three measurements:

* Enqueue, in this process: creating the broadcast row and
  ``bot.broadcast.audience.enqueue`` (the audience plan, then one bulk insert of the
  outbox rows) up to its commit, on SQLite and on PostgreSQL. Target: < 5 s for 100,000
  on SQLite. Checked: the outbox then holds exactly one row per recipient.
* At the cap: ``kolot broadcast FILE --yes`` as a subprocess, with Telegram's default
  caps (29/second overall, ``bot/settings.py``), against the fake Bot API
  (``tests/fakes/telegram_api.py``) in this process with its limits on (30 per second
  overall, a request over it answered 429). The rate is the fake's: accepted sendMessage
  calls from the first to the last. Targets: >= 95% of the 30/s cap, no 429.
* Cap lifted: the same with ``KOLOT_TELEGRAM_RATE=100000/second`` (and the per-chat cap
  at 1000/second) against the fake with its limits off, on SQLite and PostgreSQL: what
  the sender alone moves. Target: >= 1,000 messages/s. The subprocess and this process
  (the fake's thread: the main thread only samples CPU) are sampled every 0.1 s, so the
  CPU each used between the first and the last send is printed beside the rate, and
  what the sender would move with a core of its own (messages / its CPU seconds).
  Marks per commit: the broadcast rows' attempts are committed in groups right before
  their calls (``bot/outbox/attempts.py``); each group shares one ``attempted_at``, so
  the distinct values count the commits. Printed too: on SQLite, the index the claim's
  plan uses to look for a person's earlier unsent row; on PostgreSQL, whether the
  outbox table was analyzed during the run (until then its planner counts no rows).

Checked in every send: the subprocess exited 0, every recipient got exactly one message,
the broadcast's outbox rows are all ``sent``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
import time
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder comes first on sys.path, and bench/telegram.py would
# shadow python-telegram-bot's ``telegram`` package: take the folder out.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

TOKEN = "123456:TEST-token"
NAME = "park-results"
NEWS = {"he": "התוצאות פורסמו: תודה שהשתתפתם!", "ar": "تم نشر النتائج: شكرًا لمشاركتكم!",
        "en": "The results are out: thank you for taking part!"}
FIRST_ADDRESS = 10_000_000
PG_URL = os.environ.get(
    "KOLOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
FAKE_CAP = 30.0  # the fake's overall limit, per second (its default)
TARGET_ENQUEUE_S = 5.0
TARGET_CAP_SHARE = 0.95
TARGET_LIFTED = 1_000.0
SAMPLE_EVERY = 0.1
SLOW_INDEX = "ix_outbox_status_channel_next_attempt_at"
_WRITTEN = re.compile(r"written to the outbox: ([\d,]+) recipients in ([\d.]+) s")


# -- databases ---------------------------------------------------------------------------------

@contextlib.contextmanager
def sqlite_file(tmp: Path, name: str) -> Iterator[str]:
    yield f"sqlite:///{tmp}/{name}.db"


@contextlib.contextmanager
def postgres_schema(name: str) -> Iterator[str]:
    """A schema of its own for one measurement, dropped afterwards; yields its URL."""
    schema = f"kolot_bench_bc_{name}_{os.getpid()}"
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


def seeded(url: str, n: int) -> Any:
    """A migrated database with ``n`` consented participants of the park flow; its Flow."""
    from crowd import seed  # tests/crowd.py

    from storage.database import make_engine, upgrade

    upgrade(url)
    engine = make_engine(url)
    try:
        began = time.perf_counter()
        flow = seed(engine, n, now=datetime.now(UTC), first_address=FIRST_ADDRESS)
        print(f"  seeded {n:,} participants in {time.perf_counter() - began:.1f} s "
              "(not timed)", flush=True)
        return flow
    finally:
        engine.dispose()


def scalar(url: str, query: str, **params: Any) -> int:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text(query), params).scalar_one() or 0)
    finally:
        engine.dispose()


def statuses(url: str) -> dict[str, int]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return {str(s): int(n) for s, n in connection.execute(text(
                "SELECT status, count(*) FROM outbox WHERE broadcast_id IS NOT NULL "
                "GROUP BY status"))}
    finally:
        engine.dispose()


def claim_index(url: str) -> str | None:
    """On SQLite, the index its plan for the sender's claim uses to look for an earlier
    unsent row of the same person (the claim's ``NOT EXISTS``); ``None`` elsewhere. The
    claim runs once, in a transaction rolled back, and its statement is explained."""
    if not url.startswith("sqlite"):
        return None
    from sqlalchemy import event

    from storage import UnitOfWork
    from storage.database import make_engine, make_session_factory

    engine = make_engine(url)
    seen: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if not seen and statement.lstrip().startswith("SELECT outbox.participant_id"):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            uow.outbox.claim("telegram", now=datetime.now(UTC), limit=1)
            if not seen:
                return "?"
            statement, parameters = seen[0]
            plan = uow.session.connection().exec_driver_sql(
                "EXPLAIN QUERY PLAN " + statement, parameters).all()
    finally:
        engine.dispose()
    found = [str(row[3]) for row in plan if "outbox_1" in str(row[3])]
    index = re.search(r"INDEX (\w+)", found[0]) if found else None
    return index.group(1) if index else (found[0] if found else "?")


def analyzed_after(url: str, started: datetime) -> float | None:
    """On PostgreSQL, seconds from ``started`` to the outbox table's newest (auto)analyze,
    when that came after ``started`` (the planner's row counts are stale until then)."""
    if not url.startswith("postgresql"):
        return None
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            row = connection.execute(text(
                "SELECT greatest(last_analyze, last_autoanalyze) FROM pg_stat_user_tables "
                "WHERE relname = 'outbox' AND schemaname = current_schema()")).first()
    finally:
        engine.dispose()
    if row is None or row[0] is None or row[0] < started:
        return None
    return float((row[0] - started).total_seconds())


def broadcast_text() -> str:
    lines = [f"name: {NAME}", "flow: neighbourhood-park", "messages:"]
    lines += [f'  {language}: "{news}"' for language, news in NEWS.items()]
    return "\n".join(lines) + "\n"


# -- 1. enqueue in this process ------------------------------------------------------------------

@dataclass
class Enqueue:
    database: str
    recipients: int
    seconds: float  # broadcast row + enqueue + commit
    plan_seconds: float  # plan() alone, again, afterwards (for the breakdown)
    rows: int  # the broadcast's outbox rows afterwards


def measure_enqueue(url: str, database: str, n: int) -> Enqueue:
    from bot.broadcast.audience import enqueue, plan
    from bot.broadcast.spec import check_spec
    from storage import UnitOfWork
    from storage.database import make_engine, make_session_factory

    flow = seeded(url, n)
    now = datetime.now(UTC)
    spec, _flow, problems = check_spec(broadcast_text(), "results.yaml",
                                       lambda flow_id: flow if flow_id == flow.id else None,
                                       [flow.id], now=now)
    if problems or spec is None:
        raise RuntimeError("the broadcast file is wrong: " + "; ".join(map(str, problems)))
    engine = make_engine(url)
    factory = make_session_factory(engine)
    try:
        began = time.perf_counter()
        with UnitOfWork(factory) as uow:
            broadcast = uow.broadcasts.create(
                name=spec.name, digest="bench", flow_id=flow.id, spec=spec.to_json(),
                start_step=spec.start_step, send_at=now, now=now)
            written = enqueue(uow, broadcast.id, flow, spec, now=now, due=now)
            uow.commit()
        seconds = time.perf_counter() - began
        began = time.perf_counter()
        with UnitOfWork(factory) as uow:
            planned = len(plan(uow, flow, spec).members)
        plan_seconds = time.perf_counter() - began
        broadcast_id = broadcast.id
    finally:
        engine.dispose()
    rows = scalar(url, "SELECT count(*) FROM outbox WHERE broadcast_id = :b", b=broadcast_id)
    print(f"  enqueue {database}: {written or 0:,} recipients in {seconds:.2f} s "
          f"({(written or 0) / seconds:,.0f}/s; plan alone {plan_seconds:.2f} s for "
          f"{planned:,}); outbox rows {rows:,}", flush=True)
    return Enqueue(database, n, seconds, plan_seconds, rows)


# -- 2, 3. kolot broadcast as a subprocess -------------------------------------------------------

@dataclass
class Send:
    name: str
    recipients: int
    returncode: int
    wall: float  # the subprocess, start to exit
    log: str
    sends: list[float]  # arrival times (time.monotonic) of accepted sendMessage calls
    per_chat: Counter[str]
    rejected_429: int
    statuses: dict[str, int]
    marks_per_commit: float | None = None
    claim_index: str | None = None  # SQLite: see claim_index()
    analyzed: str | None = None  # PostgreSQL: when the outbox table was analyzed
    sender_cpu: float | None = None  # the subprocess's CPU seconds, first to last send
    fake_cpu: float | None = None  # this process's, the same span
    problems: list[str] = field(default_factory=list)

    @property
    def span(self) -> float:
        return self.sends[-1] - self.sends[0] if len(self.sends) > 1 else 0.0

    @property
    def rate(self) -> float:
        """Messages a second as the fake received them, first to last."""
        return (len(self.sends) - 1) / self.span if self.span > 0 else 0.0

    def rate_after(self, skip: float) -> str:
        """The same, leaving out the first ``skip`` seconds (the start's burst)."""
        start = bisect_left(self.sends, self.sends[0] + skip) if self.sends else 0
        if len(self.sends) - start < 2:
            return "-"
        return f"{(len(self.sends) - 1 - start) / (self.sends[-1] - self.sends[start]):,.1f}/s"

    def busiest_second(self) -> int:
        """The most sends that arrived within any one second."""
        return max((bisect_right(self.sends, at + 1.0) - i for i, at in enumerate(self.sends)),
                   default=0)

    def written_in(self) -> str:
        found = _WRITTEN.search(self.log)
        return f"{found.group(2)} s" if found else "?"


def _cpu_of(pid: int) -> float | None:
    """Seconds of CPU (user + system, all threads) process ``pid`` used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _between(samples: list[tuple[float, float]], start: float, end: float) -> float | None:
    """CPU used between ``start`` and ``end`` from (monotonic, cpu seconds) samples,
    interpolated linearly between the samples around each end."""
    if len(samples) < 2 or not samples[0][0] <= start < end <= samples[-1][0]:
        return None
    times = [at for at, _ in samples]

    def at(moment: float) -> float:
        i = max(1, bisect_left(times, moment))
        (t0, c0), (t1, c1) = samples[i - 1], samples[i]
        return c0 + (c1 - c0) * (moment - t0) / (t1 - t0) if t1 > t0 else c1

    return at(end) - at(start)


def run_broadcast(name: str, url: str, n: int, tmp: Path, *, limits: bool,
                  rates: dict[str, str], concurrency: int | None) -> Send:
    """Seed ``n``, run ``kolot broadcast FILE --yes`` against a new fake; what arrived."""
    from fakes.telegram_api import FakeTelegram  # tests/fakes/telegram_api.py

    seeded(url, n)
    path = tmp / f"{name}.yaml"
    path.write_text(broadcast_text(), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOLOT_")}
    env.update(KOLOT_DATABASE_URL=url, KOLOT_FLOWS=str(ROOT / "flows" / "examples" /
                                                       "neighbourhood-park.yaml"),
               KOLOT_TELEGRAM_TOKEN=TOKEN, PYTHONUNBUFFERED="1", **rates)
    if concurrency is not None:
        env["KOLOT_SENDER_CONCURRENCY"] = str(concurrency)
    log = tmp / f"{name}.log"
    child: list[tuple[float, float]] = []
    own: list[tuple[float, float]] = []
    with FakeTelegram(TOKEN, limits_enabled=limits) as fake:
        env["KOLOT_TELEGRAM_API_URL"] = fake.url
        began, started = time.monotonic(), datetime.now(UTC)
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "bot", "broadcast", str(path), "--yes"],
                cwd=tmp, env=env, stdout=out, stderr=subprocess.STDOUT)
            deadline = began + 120 + n / 10  # far beyond any sane run: a hung CLI is killed
            try:
                while process.poll() is None and time.monotonic() < deadline:
                    cpu = _cpu_of(process.pid)
                    if cpu is not None:
                        now = time.monotonic()
                        child.append((now, cpu))
                        own.append((now, time.process_time()))
                    time.sleep(SAMPLE_EVERY)
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait()
        wall = time.monotonic() - began
        calls = fake.calls
        rejected = fake.rejected_429
    sends = sorted(c.at for c in calls if c.method == "sendMessage" and c.status == 200)
    per_chat = Counter(str(c.chat_id) for c in calls
                       if c.method == "sendMessage" and c.status == 200)
    found = Send(name, n, process.returncode, wall, log.read_text(errors="replace"), sends,
                 per_chat, rejected, statuses(url))
    if len(sends) > 1:
        found.sender_cpu = _between(child, sends[0], sends[-1])
        found.fake_cpu = _between(own, sends[0], sends[-1])
    commits = scalar(url, "SELECT count(DISTINCT attempted_at) FROM outbox "
                     "WHERE broadcast_id IS NOT NULL")
    if commits:
        found.marks_per_commit = scalar(
            url, "SELECT count(*) FROM outbox WHERE broadcast_id IS NOT NULL "
            "AND attempted_at IS NOT NULL") / commits
    found.claim_index = claim_index(url)
    if url.startswith("postgresql"):
        after = analyzed_after(url, started)
        found.analyzed = "not during the run" if after is None else f"{after:.0f} s after the start"
    check_send(found)
    describe(found)
    return found


def check_send(found: Send) -> None:
    problems = found.problems
    if found.returncode != 0:
        problems.append(f"{found.name}: kolot broadcast exited {found.returncode}")
    wanted = {str(FIRST_ADDRESS + i) for i in range(found.recipients)}
    got = set(found.per_chat)
    if got != wanted:
        problems.append(f"{found.name}: {len(wanted - got):,} recipients got nothing, "
                        f"{len(got - wanted):,} strangers got a message")
    twice = sum(1 for n in found.per_chat.values() if n > 1)
    if twice:
        problems.append(f"{found.name}: {twice:,} recipients got it more than once")
    if found.rejected_429:
        problems.append(f"{found.name}: {found.rejected_429:,} answers 429")
    if found.statuses != {"sent": found.recipients}:
        problems.append(f"{found.name}: outbox rows {found.statuses}, expected "
                        f"{{'sent': {found.recipients}}}")
    if problems and found.returncode != 0:
        print(f"--- {found.name}'s log ends:\n{found.log[-3000:]}", file=sys.stderr)


def describe(found: Send) -> None:
    print(f"  {found.name}: {len(found.sends):,} of {found.recipients:,} sent in "
          f"{found.span:.2f} s, {found.rate:,.1f} messages/s (after the first second "
          f"{found.rate_after(1.0)}; busiest second {found.busiest_second()}); "
          f"429s {found.rejected_429}; the CLI wrote the outbox in {found.written_in()}, "
          f"ran {found.wall:.1f} s", flush=True)
    if found.sender_cpu is not None and found.fake_cpu is not None and found.span > 0:
        per_message = found.sender_cpu / max(1, len(found.sends) - 1)
        alone = f"{1 / per_message:,.0f}" if per_message > 0 else "-"
        print(f"    CPU, first to last send: sender {found.sender_cpu / found.span:.0%} of a "
              f"core ({per_message * 1000:.2f} ms a message, so {alone}/s on a core of its "
              f"own), fake Bot API {found.fake_cpu / found.span:.0%} of a core; marks per "
              f"commit {_marks(found)}", flush=True)
    if found.claim_index is not None:
        print(f"    SQLite's plan for the claim looks for a person's earlier unsent row by "
              f"{found.claim_index}", flush=True)
        if found.claim_index == SLOW_INDEX:
            print("    (that index holds every row in flight: the claim reads them again for "
                  "each due row; SQLite has no statistics here, and its choice follows the "
                  "order the migrations happened to create the outbox's indexes in)",
                  flush=True)
    if found.analyzed is not None:
        print(f"    PostgreSQL analyzed the outbox table {found.analyzed} (until then the "
              "planner works from the row counts of an empty table)", flush=True)


def _marks(found: Send | None) -> str:
    if found is None or found.marks_per_commit is None:
        return "-"
    return f"{found.marks_per_commit:.1f}"


# -- the run -------------------------------------------------------------------------------------

@dataclass
class Results:
    enqueue: dict[str, Enqueue] = field(default_factory=dict)
    capped: Send | None = None
    lifted: dict[str, Send] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


LIFTED = {"KOLOT_TELEGRAM_RATE": "100000/second", "KOLOT_TELEGRAM_CHAT_RATE": "1000/second"}


def bench(args: argparse.Namespace, tmp: Path) -> Results:
    results = Results()
    databases: list[tuple[str, Callable[[str], AbstractContextManager[str]]]] = [
        ("SQLite", lambda tag: sqlite_file(tmp, tag))]
    if not args.no_postgres:
        databases.append(("PostgreSQL", postgres_schema))
    print(f"1. enqueue {args.recipients:,} recipients", flush=True)
    for database, made in databases:
        with made("enqueue") as url:
            found = measure_enqueue(url, database, args.recipients)
        results.enqueue[database] = found
        if found.rows != args.recipients:
            results.problems.append(f"enqueue {database}: {found.rows:,} outbox rows, "
                                    f"expected {args.recipients:,}")
    print(f"2. at the cap: {args.capped:,} recipients, default caps, the fake's limits on",
          flush=True)
    with sqlite_file(tmp, "capped") as url:
        results.capped = run_broadcast("capped SQLite", url, args.capped, tmp, limits=True,
                                       rates={}, concurrency=args.concurrency)
    results.problems += results.capped.problems
    print(f"3. cap lifted: {args.lifted:,} recipients, the fake's limits off", flush=True)
    for database, made in databases:
        with made("lifted") as url:
            sent = run_broadcast(f"lifted {database}", url, args.lifted, tmp, limits=False,
                                 rates=LIFTED, concurrency=args.concurrency)
        results.lifted[database] = sent
        results.problems += sent.problems
    return results


def report(results: Results, args: argparse.Namespace) -> list[str]:
    sqlite = results.enqueue["SQLite"]
    pg = results.enqueue.get("PostgreSQL")
    capped = results.capped
    assert capped is not None
    share = capped.rate / FAKE_CAP
    lifted = results.lifted["SQLite"]
    lifted_pg = results.lifted.get("PostgreSQL")
    print(f"enqueue {args.recipients:,}: SQLite {sqlite.seconds:.2f} s (target < "
          f"{TARGET_ENQUEUE_S:.0f})" + (f", PostgreSQL {pg.seconds:.2f} s" if pg else ""))
    print(f"at the cap: {capped.rate:.2f} messages/s, {share:.1%} of the fake's "
          f"{FAKE_CAP:.0f}/s (target >= {TARGET_CAP_SHARE:.0%}), {capped.rejected_429} "
          "answers 429 (target 0)")
    print(f"cap lifted: SQLite {lifted.rate:,.0f} messages/s" +
          (f", PostgreSQL {lifted_pg.rate:,.0f}" if lifted_pg else "") +
          f" (target >= {TARGET_LIFTED:,.0f})")
    missed = []
    if sqlite.seconds >= TARGET_ENQUEUE_S:
        missed.append(f"enqueue SQLite {sqlite.seconds:.2f} s >= {TARGET_ENQUEUE_S:.0f}")
    if share < TARGET_CAP_SHARE:
        missed.append(f"at the cap {share:.1%} < {TARGET_CAP_SHARE:.0%}")
    if capped.rejected_429:
        missed.append(f"{capped.rejected_429} answers 429")
    for name, found in results.lifted.items():
        if found.rate < TARGET_LIFTED:
            missed.append(f"cap lifted {name} {found.rate:,.0f}/s < {TARGET_LIFTED:,.0f}")
    busy = [f"{f.name} {f.fake_cpu / f.span:.0%}" for f in results.lifted.values()
            if f.fake_cpu is not None and f.span > 0 and f.fake_cpu / f.span > 0.85]
    if busy:
        print("note: the fake Bot API kept a core busy (" + ", ".join(busy) + "): it may be "
              "what limits the lifted rate, not the sender")
    print("targets: " + ("all met" if not missed else "MISSED: " + "; ".join(missed)))
    print("checks: " + ("all passed" if not results.problems else
                        "FAILED: " + "; ".join(results.problems)))

    def cpu(found: Send | None) -> str:
        if found is None or found.sender_cpu is None or found.fake_cpu is None \
                or found.span <= 0:
            return "-"
        return f"{found.sender_cpu / found.span:.0%} / {found.fake_cpu / found.span:.0%}"

    return [
        f"{args.recipients:,}",
        f"{sqlite.seconds:.2f} (plan {sqlite.plan_seconds:.2f})",
        f"{pg.seconds:.2f} (plan {pg.plan_seconds:.2f})" if pg else "-",
        f"{args.capped:,}",
        f"{capped.rate:.2f}",
        f"{share:.1%}",
        f"{capped.rejected_429}",
        f"{args.lifted:,}",
        f"{lifted.rate:,.0f}",
        _marks(lifted),
        cpu(lifted),
        f"`{lifted.claim_index}`" if lifted.claim_index else "-",
        f"{lifted_pg.rate:,.0f}" if lifted_pg else "-",
        _marks(lifted_pg),
        cpu(lifted_pg),
        "passed" if not results.problems else "; ".join(results.problems),
    ]


SECTION = """## bench/broadcast.py

A broadcast of the neighbourhood-park example to everyone (consented participants written
in bulk by `tests/crowd.py`, languages he, ar, en in turn, Telegram chat ids). Enqueue:
creating the broadcast row and `bot.broadcast.audience.enqueue` (the audience plan, one
bulk insert of the outbox rows) up to the commit, in the benchmark's process; plan is
`plan` alone, run again afterwards. At the cap: `kolot broadcast FILE --yes` as a
subprocess on SQLite with Telegram's default caps (29/second overall), against the fake
Bot API (`tests/fakes/telegram_api.py`, in the benchmark's process) with its limits on
(30 a second overall; a request over it gets 429); the rate is the fake's, accepted
sendMessage calls from the first to the last, and its share of the fake's 30/s. Cap
lifted: the same with `KOLOT_TELEGRAM_RATE=100000/second` against the fake with its
limits off: what the sender alone moves. CPU is sender / fake Bot API, each in cores,
between the first and the last send (2 cores: the two share the machine). Marks per
commit: how many broadcast rows' attempts shared one commit before their calls
(`bot/outbox/attempts.py`, counted by their distinct `attempted_at`). The claim's index
is the one SQLite's plan for the sender's claim uses to look for an earlier unsent row of
the same person: `ix_outbox_participant_id_status`, or
`ix_outbox_status_channel_next_attempt_at`, with which each claim reads every row in
flight again for each due row. SQLite has no statistics here, and its choice follows the
order the migrations created the indexes in, which varies from one migration to the next
(Alembic's batch mode re-creates the table and its indexes). Every run checks that the
outbox holds one row per recipient, that each recipient got exactly one message, and that
every row ended `sent`.

"""
COLUMNS = [
    "date", "machine", "recipients enqueued", "enqueue s SQLite (target < 5)",
    "enqueue s PostgreSQL", "at the cap: recipients", "messages/s",
    "% of 30/s (target >= 95%)", "429s (target 0)", "cap lifted: recipients",
    "SQLite messages/s (target >= 1,000)", "marks per commit", "CPU sender / fake",
    "SQLite claim's index for earlier rows",
    "PostgreSQL messages/s", "marks per commit", "CPU sender / fake", "checks",
]
SECTION += f"| {' | '.join(COLUMNS)} |\n|{'---|' * len(COLUMNS)}\n"


def engine_module() -> Any:
    """bench/engine.py (its ``machine()``), loaded by path."""
    spec = importlib.util.spec_from_file_location("bench_engine", ROOT / "bench" / "engine.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def record(cells: Sequence[str]) -> None:
    """Add a row to this script's table, writing the section first if it is missing."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from record import add_rows  # bench/record.py, beside this file
    finally:
        sys.path.remove(str(ROOT / "bench"))
    add_rows(SECTION, [f"| {datetime.now(UTC):%Y-%m-%d} | {engine_module().machine()} | "
                       f"{' | '.join(cells)} |\n"])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipients", type=int, default=100_000,
                        help="recipients to enqueue")
    parser.add_argument("--capped", type=int, default=900,
                        help="recipients sent at the cap (about 30 a second)")
    parser.add_argument("--lifted", type=int, default=20_000,
                        help="recipients sent with the cap lifted")
    parser.add_argument("--concurrency", type=int, default=None,
                        help="KOLOT_SENDER_CONCURRENCY (default: the sender's own, 64)")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args(argv)
    # The project first (tests/ has folders named like its packages), then the test helpers.
    sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
    with tempfile.TemporaryDirectory() as name:
        results = bench(args, Path(name))
    cells = report(results, args)
    if not args.no_record:
        record(cells)
    if results.problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
