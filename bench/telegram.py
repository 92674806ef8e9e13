"""Benchmark: the Telegram webhook under load, and Kolot against a hand-written PTB bot.

Run: ``.venv/bin/python bench/telegram.py [--participants 250] [--rounds 3]
[--concurrency 32] [--no-postgres] [--ptb-uvloop] [--no-record]`` (PostgreSQL from
``$KOLOT_TEST_POSTGRES_URL``, default local trust auth, database ``test``; the run makes
its own schema and drops it). Prints the figures and adds a row, with the machine and
date, to the ``bench/telegram.py`` table of docs/benchmarks.md; exits 1 if a check failed.

What it measures, every server a real subprocess on loopback (so it has a core of its own)
and the load generator plus the fake Bot API (``tests/fakes/telegram_api.py``, limits off)
in this process:

* (a) ``kolot serve --role web`` on SQLite and on PostgreSQL: webhook updates/s and the
  p50/p99 latency of the webhook request, which Kolot answers only after the input's
  transaction committed. Targets: >= 1,000 updates/s on SQLite, p99 < 50 ms.
* ``kolot serve --role all`` on SQLite: the same while its sender sends, then end to end:
  updates / (first post until the fake Bot API received the last reply).
* (b) a minimal python-telegram-bot ``ConversationHandler`` bot with ``PicklePersistence``
  for the same questionnaire, fed through a Starlette webhook as PTB's
  ``examples/customwebhookbot/starlettebot.py`` does (this file, started as
  ``bench/telegram.py --baseline-server PORT ...``): end-to-end updates/s on the same
  synthetic updates, and Kolot/PTB. Target: >= 1.
* For scale, bench/engine.py's stored console path (the service transaction without
  HTTP) in this process, one second a round: web/stored is what the webhook costs on top.

Each participant is one private chat typing the civil-service-women questionnaire (8
updates: /start, consent, sector, topics, importance, years, mentor, barrier; 9 replies);
each chat's next update is posted after the answer to its previous one; ``--concurrency``
keep-alive connections each interleave their share of the chats. Every configuration runs
``--rounds`` times, interleaved with the others (a noisy neighbour slows all alike);
throughput is the median round, latencies are over every round. The run checks itself:
the databases hold every answer and outbox row, both bots sent every reply, and every
chat got its replies in the order of a reference walk (one chat, one update at a time).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder comes first on sys.path, and this file's name would
# shadow python-telegram-bot's ``telegram`` package: take the folder out.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

FLOW = ROOT / "flows" / "examples" / "civil-service-women.yaml"
TOKEN = "123456:TEST-token"
SECRET = "bench-secret_0123456789"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
KOLOT_WEBHOOK = "/telegram/webhook"
PTB_WEBHOOK = "/telegram"
PG_URL = os.environ.get(
    "KOLOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
# A full typed walk: consent, sector public, two topics, importance 5 (so the branch goes
# to the barrier question), years, mentor, the barrier text.
WALK = ["/start", "yes", "1", "1,3", "5", "12", "no", "Too few mentors"]
ANSWERS_PER_WALK = 6  # sector, topics, importance, years, mentor, barrier (consent apart)
THANKS = "Thank you for taking part!"
TARGET_RATE = 1_000
TARGET_P99_MS = 50.0


# -- the baseline: a python-telegram-bot ConversationHandler bot -------------------------------

CONSENT, SECTOR, TOPICS, IMPORTANCE, YEARS, MENTOR, BARRIER = range(7)
Q_WELCOME = "Hello! The Civil Service Commission is asking how to promote women to senior roles."
Q_CONSENT = ("Your answers are used only for this consultation and published only in "
             "aggregate. Do you agree?")
Q_SECTOR = "Where do you work?\n\n1. Public sector\n2. Business\n3. Civil society"
Q_TOPICS = ("Which topics matter most? Choose up to two.\n\n1. Childcare\n2. Mentoring\n"
            "3. Flexible hours")
Q_IMPORTANCE = "How important is this issue to you?\n\nReply with a number from 1 to 5."
Q_YEARS = ("How many years have you worked?\n\nReply with a number from 0 to 60. You can skip "
           "this question: send skip.")
Q_MENTOR = "Have you ever had a mentor at work?"
Q_BARRIER = "What is the biggest barrier you have seen?\n\nWrite your answer in one message."
SECTORS = {"1": "public", "2": "business", "3": "civil"}
TOPIC_IDS = {"1": "childcare", "2": "mentoring", "3": "flexible"}
YES, NO = {"yes", "y"}, {"no", "n"}


def baseline_server(port: int, api_url: str, pickle_file: str, use_uvloop: bool) -> None:
    """What people write by hand today: states in a ``ConversationHandler``, answers in
    ``context.user_data``, both kept by ``PicklePersistence``; updates taken by a custom
    Starlette webhook as in PTB's ``examples/customwebhookbot/starlettebot.py``. Library
    defaults otherwise (``asyncio.run``, one update at a time)."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import Route
    from telegram import Update
    from telegram.ext import (
        Application,
        CommandHandler,
        ContextTypes,
        ConversationHandler,
        MessageHandler,
        PicklePersistence,
        filters,
    )

    async def say(update: Update, reply: str) -> None:
        assert update.message is not None
        await update.message.reply_text(reply)

    def said(update: Update) -> str:
        assert update.message is not None and update.message.text is not None
        text: str = update.message.text
        return text.strip().lower()

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        await say(update, Q_WELCOME)
        await say(update, Q_CONSENT)
        return CONSENT

    async def consent(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        answer = said(update)
        if answer not in YES | NO:
            await say(update, Q_CONSENT)
            return CONSENT
        assert context.user_data is not None
        context.user_data["consent"] = answer in YES
        if answer in NO:
            await say(update, THANKS)
            return ConversationHandler.END
        await say(update, Q_SECTOR)
        return SECTOR

    async def sector(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        answer = said(update)
        if answer not in SECTORS:
            await say(update, Q_SECTOR)
            return SECTOR
        assert context.user_data is not None
        context.user_data["sector"] = SECTORS[answer]
        await say(update, Q_TOPICS)
        return TOPICS

    async def topics(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        picked = [p.strip() for p in said(update).split(",") if p.strip()]
        if not 1 <= len(set(picked)) <= 2 or any(p not in TOPIC_IDS for p in picked):
            await say(update, Q_TOPICS)
            return TOPICS
        assert context.user_data is not None
        context.user_data["topics"] = sorted({TOPIC_IDS[p] for p in picked})
        await say(update, Q_IMPORTANCE)
        return IMPORTANCE

    async def importance(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        answer = said(update)
        if not answer.isdigit() or not 1 <= int(answer) <= 5:
            await say(update, Q_IMPORTANCE)
            return IMPORTANCE
        assert context.user_data is not None
        context.user_data["importance"] = int(answer)
        await say(update, Q_YEARS)
        return YEARS

    async def years(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        answer = said(update)
        if answer != "skip" and (not answer.isdigit() or not 0 <= int(answer) <= 60):
            await say(update, Q_YEARS)
            return YEARS
        assert context.user_data is not None
        context.user_data["years"] = None if answer == "skip" else int(answer)
        await say(update, Q_MENTOR)
        return MENTOR

    async def mentor(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        answer = said(update)
        if answer not in YES | NO:
            await say(update, Q_MENTOR)
            return MENTOR
        data = context.user_data
        assert data is not None
        data["mentor"] = answer in YES
        if data.get("importance", 0) >= 4 and data.get("sector") == "public":
            await say(update, Q_BARRIER)
            return BARRIER
        await say(update, THANKS)
        return ConversationHandler.END

    async def barrier(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        assert update.message is not None and context.user_data is not None
        answer = (update.message.text or "").strip()
        if not answer or len(answer) > 500:
            await say(update, Q_BARRIER)
            return BARRIER
        context.user_data["barrier"] = answer
        await say(update, THANKS)
        return ConversationHandler.END

    typed = filters.TEXT & ~filters.COMMAND
    conversation = ConversationHandler(
        entry_points=[CommandHandler("start", start)],
        states={
            CONSENT: [MessageHandler(typed, consent)],
            SECTOR: [MessageHandler(typed, sector)],
            TOPICS: [MessageHandler(typed, topics)],
            IMPORTANCE: [MessageHandler(typed, importance)],
            YEARS: [MessageHandler(typed, years)],
            MENTOR: [MessageHandler(typed, mentor)],
            BARRIER: [MessageHandler(typed, barrier)],
        },
        fallbacks=[],
        name="civil-service-women",
        persistent=True,
    )
    application = (
        Application.builder().token(TOKEN).base_url(f"{api_url}/bot").updater(None)
        .persistence(PicklePersistence(filepath=pickle_file)).build()
    )
    application.add_handler(conversation)

    async def telegram(request: Request) -> Response:
        await application.update_queue.put(
            Update.de_json(data=await request.json(), bot=application.bot)
        )
        return Response()

    async def health(_: Request) -> PlainTextResponse:
        return PlainTextResponse("The bot is still running fine :)")

    app = Starlette(routes=[Route(PTB_WEBHOOK, telegram, methods=["POST"]),
                            Route("/healthcheck", health, methods=["GET"])])
    # As the example, but without uvicorn's access log (Kolot runs without one too).
    webserver = uvicorn.Server(uvicorn.Config(app=app, port=port, use_colors=False,
                                              host="127.0.0.1", access_log=False,
                                              log_level="warning"))

    async def main() -> None:
        async with application:
            await application.start()
            await webserver.serve()
            await application.stop()

    if use_uvloop:
        import uvloop

        uvloop.run(main())
    else:
        asyncio.run(main())


# -- servers as subprocesses ------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    name: str
    port: int
    path: str  # the webhook's path
    process: subprocess.Popen[bytes]
    log: Path
    e2e: bool  # replies reach the fake Bot API
    database: str | None = None

    def ready(self, health: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            url = f"http://127.0.0.1:{self.port}{health}"
            with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=1) as answer:
                if answer.status == 200:
                    return
            time.sleep(0.05)
        tail = self.log.read_text(errors="replace")[-3000:]
        self.stop()
        raise RuntimeError(f"{self.name} did not start; its log ends:\n{tail}")

    def cpu(self) -> float:
        """Seconds of CPU (user + system, all threads) the process used so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_kolot(name: str, role: str, database: str, api_url: str, tmp: Path) -> Server:
    env = dict(os.environ,
               KOLOT_TELEGRAM_TOKEN=TOKEN, KOLOT_TELEGRAM_SECRET=SECRET,
               KOLOT_TELEGRAM_API_URL=api_url, KOLOT_DATABASE_URL=database,
               KOLOT_FLOWS=str(FLOW), KOLOT_PSEUDONYM_KEY="bench-" + "k" * 32,
               KOLOT_TELEGRAM_RATE="100000/second", KOLOT_TELEGRAM_CHAT_RATE="1000/second")
    port = free_port()
    log = tmp / f"{name.replace(' ', '-')}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "kolot"), "serve", "--role", role,
             "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    return Server(name, port, KOLOT_WEBHOOK, process, log, e2e=role == "all",
                  database=database)


def start_baseline(api_url: str, tmp: Path, use_uvloop: bool) -> Server:
    port = free_port()
    log = tmp / "ptb.log"
    command = [sys.executable, str(Path(__file__).resolve()), "--baseline-server", str(port),
               "--api-url", api_url, "--pickle", str(tmp / "ptb.pickle")]
    if use_uvloop:
        command.append("--ptb-uvloop")
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    return Server("PTB ConversationHandler", port, PTB_WEBHOOK, process, log, e2e=True)


@contextlib.contextmanager
def postgres_schema() -> Iterator[str]:
    schema = f"kolot_bench_tg_{os.getpid()}"
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


def count_rows(url: str, table: str) -> int:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()


# -- the load generator ------------------------------------------------------------------------

_LENGTH = re.compile(rb"\r\ncontent-length: *(\d+)", re.IGNORECASE)


class Connection:
    """One keep-alive HTTP/1.1 connection posting prebuilt requests: a few microseconds of
    Python per request, so the client is far faster than the servers it measures."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(reader, writer)

    async def post(self, request: bytes) -> int:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        found = _LENGTH.search(head)
        if found is None:
            raise RuntimeError(f"an answer without Content-Length: {head[:200]!r}")
        length = int(found.group(1))
        if length:
            await self.reader.readexactly(length)
        return int(head[9:12])

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


def request(port: int, path: str, update: dict[str, Any]) -> bytes:
    body = json.dumps(update, separators=(",", ":")).encode()
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/json\r\n{SECRET_HEADER}: {SECRET}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


class Chats:
    """Synthetic participants: one private chat each, never reused."""

    def __init__(self) -> None:
        from telegram_updates import Person  # tests/telegram/telegram_updates.py

        self._person = Person
        self._next = 10_000

    def walks(self, server: Server, n: int) -> tuple[list[int], list[list[bytes]]]:
        ids = list(range(self._next, self._next + n))
        self._next += n
        walks = []
        for chat in ids:
            person = self._person(chat, "en", name=f"P{chat}")
            walks.append([request(server.port, server.path, person.text(t)) for t in WALK])
        return ids, walks


@dataclass
class Phase:
    server: str
    updates: int
    began: float  # time.monotonic() of the first post
    ended: float  # of the last answer
    latencies: list[float]
    cpu: float = 0.0  # server CPU seconds during the phase
    delivered_at: float | None = None  # when the fake received the last reply
    replies: int = 0
    out_of_order: int = 0  # chats whose replies did not come as in the reference walk

    @property
    def rate(self) -> float:
        return self.updates / (self.ended - self.began)

    @property
    def e2e_rate(self) -> float:
        assert self.delivered_at is not None
        return self.updates / (self.delivered_at - self.began)


async def drive(server: Server, walks: list[list[bytes]], concurrency: int) -> Phase:
    """Post every walk, each chat's updates in order, over ``concurrency`` connections."""
    connections = [await Connection.open(server.port) for _ in range(min(concurrency, len(walks)))]
    shares = [walks[i::len(connections)] for i in range(len(connections))]
    latencies: list[float] = []
    failures: list[int] = []
    clock = time.perf_counter

    async def worker(connection: Connection, mine: list[list[bytes]]) -> None:
        took = latencies.append
        for step in range(len(WALK)):
            for walk in mine:
                sent = clock()
                status = await connection.post(walk[step])
                took(clock() - sent)
                if status != 200:
                    failures.append(status)

    began = time.monotonic()
    await asyncio.gather(*(worker(c, s) for c, s in zip(connections, shares, strict=True)))
    ended = time.monotonic()
    for connection in connections:
        await connection.close()
    if failures:
        raise RuntimeError(f"{server.name}: {len(failures)} webhook answers were not 200 "
                           f"(e.g. {failures[0]})")
    return Phase(server.name, sum(len(w) for w in walks), began, ended, latencies)


async def drive_paced(server: Server, walks: list[list[bytes]], rate: float,
                      connections: int) -> Phase:
    """Post at a steady ``rate`` (updates a second, open loop), each chat's next update once
    its previous was answered, over a pool of ``connections``: the latency a bot carrying
    that load sees, rather than at saturation, where it is connections / throughput."""
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    opened = [await Connection.open(server.port) for _ in range(connections)]
    for connection in opened:
        pool.put_nowait(connection)
    ready: deque[tuple[list[bytes], int]] = deque((walk, 0) for walk in walks)
    latencies: list[float] = []
    failures: list[int] = []
    running: set[asyncio.Task[None]] = set()
    clock = time.perf_counter

    async def one(walk: list[bytes], step: int) -> None:
        connection = await pool.get()
        sent = clock()
        status = await connection.post(walk[step])
        latencies.append(clock() - sent)
        pool.put_nowait(connection)
        if status != 200:
            failures.append(status)
        if step + 1 < len(walk):
            ready.append((walk, step + 1))

    began = time.monotonic()
    due = clock()
    while ready or running:
        if not ready:
            await asyncio.sleep(0.0005)
            continue
        walk, step = ready.popleft()
        task = asyncio.create_task(one(walk, step))
        running.add(task)
        task.add_done_callback(running.discard)
        due += 1 / rate
        wait = due - clock()
        if wait > 0:
            await asyncio.sleep(wait)
    ended = time.monotonic()
    for connection in opened:
        await connection.close()
    if failures:
        raise RuntimeError(f"{server.name}: {len(failures)} paced answers were not 200")
    return Phase(server.name, sum(len(w) for w in walks), began, ended, latencies)


async def settle(fake: Any, expected: int, timeout: float) -> list[Any]:
    """The fake's calls once it holds ``expected`` of them (or the timeout passed). The
    fake is reset before each phase that sends, so they are all this phase's."""
    deadline = time.monotonic() + timeout
    while len(fake.calls) < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)  # anything beyond the expected would show now
    calls: list[Any] = fake.calls
    return calls


def replies_by_chat(calls: Sequence[Any]) -> dict[str, list[str]]:
    texts: dict[str, list[str]] = {}
    for call in calls:
        if call.method == "sendMessage" and call.status == 200 and call.chat_id is not None:
            texts.setdefault(call.chat_id, []).append(call.params.get("text", ""))
    return texts


async def run_phase(server: Server, fake: Any, chats: Chats, participants: int,
                    concurrency: int, reference: Sequence[str]) -> Phase:
    ids, walks = chats.walks(server, participants)
    if server.e2e:
        fake.reset()
    cpu = server.cpu()
    phase = await drive(server, walks, concurrency)
    if server.e2e:
        calls = await settle(fake, len(reference) * participants, timeout=120)
        got = replies_by_chat(calls)
        wanted = [got.get(str(chat), []) for chat in ids]
        phase.replies = sum(len(texts) for texts in wanted)
        phase.out_of_order = sum(texts != list(reference) for texts in wanted)
        phase.delivered_at = max(c.at for c in calls if c.method == "sendMessage")
    phase.cpu = server.cpu() - cpu
    return phase


async def reference_walk(server: Server, fake: Any, chats: Chats) -> list[str]:
    """One participant, one update at a time: the replies one walk gets (e2e servers)."""
    ids, [walk] = chats.walks(server, 1)
    fake.reset()
    connection = await Connection.open(server.port)
    try:
        for update in walk:
            status = await connection.post(update)
            if status != 200:
                raise RuntimeError(f"{server.name}: the reference walk got {status}")
    finally:
        await connection.close()
    if not server.e2e:
        return []
    seen, quiet = -1, 0
    while quiet < 30:  # 0.3 s without a new call
        now = len(fake.calls)
        quiet = quiet + 1 if now == seen else 0
        seen = now
        await asyncio.sleep(0.01)
    return replies_by_chat(fake.calls).get(str(ids[0]), [])


# -- the run --------------------------------------------------------------------------------------

WEB_SQLITE, WEB_PG, ALL_SQLITE, PTB = ("Kolot web SQLite", "Kolot web PostgreSQL",
                                       "Kolot all SQLite", "PTB ConversationHandler")


@dataclass
class Results:
    phases: dict[str, list[Phase]] = field(default_factory=dict)
    stored: list[float] = field(default_factory=list)  # bench/engine.py's stored inputs/s
    problems: list[str] = field(default_factory=list)  # checks that failed
    paced: Phase | None = None  # web SQLite at a steady offered rate

    def paced_latency(self, q: float) -> float:
        assert self.paced is not None
        every = sorted(self.paced.latencies)
        return every[min(len(every) - 1, int(q * len(every)))] * 1000

    def add(self, phase: Phase) -> None:
        self.phases.setdefault(phase.server, []).append(phase)

    def rate(self, name: str) -> float:
        return statistics.median(p.rate for p in self.phases[name])

    def e2e(self, name: str) -> float:
        return statistics.median(p.e2e_rate for p in self.phases[name])

    def latency(self, name: str, q: float) -> float:
        """The q-quantile of the webhook request's latency over every round, in ms."""
        every = sorted(x for p in self.phases[name] for x in p.latencies)
        return every[min(len(every) - 1, int(q * len(every)))] * 1000

    def cpu(self, name: str) -> float:
        """Server CPU per wall second over the phases (1.0 = one core busy throughout)."""
        phases = self.phases[name]
        wall = sum((p.delivered_at or p.ended) - p.began for p in phases)
        return sum(p.cpu for p in phases) / wall


def engine_module() -> Any:
    """bench/engine.py (its ``machine()`` and stored-path rounds), loaded by path."""
    spec = importlib.util.spec_from_file_location("bench_engine", ROOT / "bench" / "engine.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


async def bench(args: argparse.Namespace, tmp: Path, pg_url: str | None) -> Results:
    from fakes.telegram_api import FakeTelegram  # tests/fakes/telegram_api.py

    results = Results()
    fake = FakeTelegram(TOKEN, limits_enabled=False).start()
    servers: list[Server] = []
    walked: dict[str, int] = {}
    try:
        servers.append(start_kolot(WEB_SQLITE, "web", f"sqlite:///{tmp}/web.db", fake.url, tmp))
        if pg_url is not None:
            servers.append(start_kolot(WEB_PG, "web", pg_url, fake.url, tmp))
        servers.append(start_kolot(ALL_SQLITE, "all", f"sqlite:///{tmp}/all.db", fake.url, tmp))
        servers.append(start_baseline(fake.url, tmp, args.ptb_uvloop))
        for server in servers:
            server.ready("/healthcheck" if server.path == PTB_WEBHOOK else "/healthz")
        print("servers: " + ", ".join(f"{s.name} pid {s.process.pid}" for s in servers),
              flush=True)
        chats = Chats()
        reference = {s.name: await reference_walk(s, fake, chats) for s in servers}
        if reference[ALL_SQLITE][-1:] != [THANKS] or reference[PTB][-1:] != [THANKS] \
                or len(reference[PTB]) != len(reference[ALL_SQLITE]):
            raise RuntimeError(f"the reference walks differ: {reference[ALL_SQLITE]} "
                               f"vs {reference[PTB]}")
        per_walk = len(reference[ALL_SQLITE])
        for server in servers:  # warm up: compiled statements, pools, first pages
            await run_phase(server, fake, chats, args.concurrency, args.concurrency,
                            reference[server.name])
            walked[server.name] = 1 + args.concurrency
        pair = [s for s in servers if s.name in (ALL_SQLITE, PTB)]
        others = [s for s in servers if s not in pair]
        with engine_module().stored_rounds() as stored_round:
            stored_round(0.2)
            for round_ in range(args.rounds):
                results.stored.append(stored_round(1.0))
                for server in others + (pair if round_ % 2 == 0 else pair[::-1]):
                    phase = await run_phase(server, fake, chats, args.participants,
                                            args.concurrency, reference[server.name])
                    walked[server.name] += args.participants
                    results.add(phase)
                    extra = f", end to end {phase.e2e_rate:,.0f}/s" if server.e2e else ""
                    print(f"  round {round_ + 1} {server.name}: {phase.rate:,.0f} updates/s"
                          f"{extra}", flush=True)
        web = next(s for s in servers if s.name == WEB_SQLITE)
        _ids, walks = chats.walks(web, args.participants)
        paced = await drive_paced(web, walks, args.paced_rate, connections=64)
        walked[WEB_SQLITE] += args.participants
        results.paced = paced
        print(f"  paced {WEB_SQLITE} at {args.paced_rate:,.0f}/s offered: "
              f"{paced.rate:,.0f} updates/s", flush=True)
    except BaseException:
        for server in servers:
            server.stop()
            log = server.log.read_text(errors="replace")
            if "Traceback" in log or " ERROR " in log:
                print(f"--- {server.name}'s log ends:\n{log[-4000:]}", file=sys.stderr)
        raise
    finally:
        for server in servers:
            server.stop()
        fake.stop()
    check(results, servers, walked, per_walk)
    return results


def check(results: Results, servers: Sequence[Server], walked: dict[str, int],
          per_walk: int) -> None:
    """Every answer stored, every reply sent, in order; failures go to ``problems``."""
    for server in servers:
        if server.database is None:
            continue
        answers = count_rows(server.database, "answers")
        outbox = count_rows(server.database, "outbox")
        walks = walked[server.name]
        print(f"check {server.name}: {answers:,} answers stored (expected "
              f"{ANSWERS_PER_WALK * walks:,}), {outbox:,} outbox rows (expected "
              f"{per_walk * walks:,})")
        if answers != ANSWERS_PER_WALK * walks or outbox != per_walk * walks:
            results.problems.append(f"{server.name} lost answers or replies")
    replies = {name: sum(p.replies for p in results.phases[name]) for name in (ALL_SQLITE, PTB)}
    expected = per_walk * sum(p.updates for p in results.phases[PTB]) // len(WALK)
    print(f"check replies: Kolot {replies[ALL_SQLITE]:,}, PTB {replies[PTB]:,} "
          f"(expected {expected:,})")
    for name in (ALL_SQLITE, PTB):
        if replies[name] != expected:
            results.problems.append(f"{name} sent {replies[name]:,} of {expected:,} replies")
        wrong = sum(p.out_of_order for p in results.phases[name])
        chats = sum(p.updates for p in results.phases[name]) // len(WALK)
        print(f"check order {name}: {wrong:,} of {chats:,} chats got their replies out of "
              "order")
        if wrong:
            results.problems.append(f"{name}: {wrong:,} of {chats:,} chats out of order")


def report(results: Results, args: argparse.Namespace) -> list[str]:
    """Print the figures and the checks; returns the table cells for the record."""
    for name, phases in results.phases.items():
        rounds = ", ".join(f"{p.rate:,.0f}" for p in phases)
        line = (f"{name}: webhook {results.rate(name):,.0f} updates/s (rounds {rounds}), "
                f"p50 {results.latency(name, 0.5):.1f} ms, p99 {results.latency(name, 0.99):.1f}"
                f" ms, server CPU {results.cpu(name):.0%} of a core")
        if phases[0].delivered_at is not None:
            e2e = ", ".join(f"{p.e2e_rate:,.0f}" for p in phases)
            line += f"; end to end {results.e2e(name):,.0f} updates/s (rounds {e2e})"
        print(line)
    stored = statistics.median(results.stored)
    web = results.rate(WEB_SQLITE)
    p99 = results.paced_latency(0.99)
    print(f"{WEB_SQLITE} at {args.paced_rate:,.0f} updates/s offered, 64 connections: "
          f"p50 {results.paced_latency(0.5):.1f} ms, p99 {p99:.1f} ms")
    kolot, ptb = results.e2e(ALL_SQLITE), results.e2e(PTB)
    print(f"reference, bench/engine.py's stored console path in this process: {stored:,.0f} "
          f"inputs/s (rounds {', '.join(f'{r:,.0f}' for r in results.stored)}); "
          f"web SQLite / stored: {web / stored:.2f}")
    per_round = [k.e2e_rate / p.e2e_rate
                 for k, p in zip(results.phases[ALL_SQLITE], results.phases[PTB], strict=True)]
    print(f"ratio Kolot/PTB end to end: {kolot / ptb:.2f} "
          f"(rounds {', '.join(f'{r:.2f}' for r in per_round)}; target >= 1)")
    missed = []
    if web < TARGET_RATE:
        missed.append(f"web SQLite {web:,.0f} updates/s < {TARGET_RATE:,}")
    if p99 >= TARGET_P99_MS:
        missed.append(f"web SQLite p99 {p99:.1f} ms >= {TARGET_P99_MS:.0f} at "
                      f"{args.paced_rate:,.0f}/s offered")
    if kolot < ptb:
        missed.append("Kolot slower end to end than the PTB bot")
    print("targets: " + ("all met" if not missed else "MISSED: " + "; ".join(missed)))
    print("checks: " + ("all passed" if not results.problems else
                        "FAILED: " + "; ".join(results.problems)))

    def web_cells(name: str) -> list[str]:
        if name not in results.phases:
            return ["-", "-"]
        return [f"{results.rate(name):,.0f}",
                f"{results.latency(name, 0.5):.0f} / {results.latency(name, 0.99):.0f}"]

    return [
        f"{args.participants} x {len(WALK)} x {args.rounds}, {args.concurrency}",
        f"{stored:,.0f}",
        *web_cells(WEB_SQLITE),
        f"{results.paced_latency(0.5):.0f} / {p99:.0f}",
        f"{web / stored:.2f}",
        *web_cells(WEB_PG),
        f"{results.rate(ALL_SQLITE):,.0f} / {kolot:,.0f}",
        f"{ptb:,.0f}" + (" (uvloop)" if args.ptb_uvloop else ""),
        f"{kolot / ptb:.2f}",
        "passed" if not results.problems else "; ".join(results.problems),
    ]


SECTION = """## bench/telegram.py

Webhook: `kolot serve` as its own process on loopback, fed real Telegram Update JSON
(private chats, one per synthetic participant, each typing the civil-service-women
questionnaire: /start, consent, sector public, two topics, importance 5 so the branch asks
the barrier question, years, mentor, barrier: 8 updates, 9 replies, 6 answers). Each
chat's next update is posted when the previous one was answered; each keep-alive
connection interleaves its share of the chats. Kolot answers a webhook only after the
input's transaction committed (the replies are then in the outbox), so the latency is the
webhook request's, commit included; with a fixed number of connections, p50 is about
connections / throughput. `web` is `--role web` (the replies stay in the outbox); `all`
is `--role all`, its sender delivering the replies to the fake Bot API
(`tests/fakes/telegram_api.py`, no rate limits, in the load generator's process): the
webhook's updates/s, then end to end, updates / (first post until the fake received the
last reply). Stored is bench/engine.py's stored console path (the same service
transaction without HTTP) in the load generator's process, in the same run, so
web/stored says what the webhook costs on top of the service whatever the machine's
speed that day. PTB is what people write by hand today: a python-telegram-bot 22.8
`ConversationHandler` (persistent) with `PicklePersistence`, answers in `user_data`,
each handler replying with `reply_text`, fed through a Starlette webhook as in PTB's
`examples/customwebhookbot/starlettebot.py` (library defaults: `asyncio.run`, one update
at a time), on the same updates, end to end. PTB's webhook answers before the update is
handled, and its answers reach the disk when PicklePersistence next writes (every 60 s by
default): a crash loses what was answered since, and Telegram does not redeliver what
was answered 200. Kolot's figures include a commit per update (SQLite in WAL mode with
synchronous=NORMAL, which survives a crash of the process but may lose the last commits
in a power cut; PostgreSQL with synchronous_commit on). `kolot serve` runs on uvloop, the
PTB bot on asyncio's loop as in the example (`--ptb-uvloop` puts it on uvloop: no
difference beyond the noise on 2026-12-01). Each configuration runs in rounds interleaved
with the others; throughput is the median round, latencies are over every round. The
run checks that the databases hold every answer and outbox row, that both bots sent every
reply, and that each chat got its replies in the order of a reference walk (one chat, one
update at a time).

Latency is measured twice. Saturated, with 32 connections each posting as fast as it is
answered, the latency is about connections / throughput, whatever the server. At a steady
offered load (500 updates/s, open loop, a pool of 64 connections, each chat's next update
posted once the last was answered) it is what a bot carrying that load sees: the p99
target is read there.

"""
COLUMNS = [
    "date", "machine", "participants x updates x rounds, connections", "stored inputs/s",
    "web SQLite updates/s (target 1,000)", "p50 / p99 ms, saturated",
    "p50 / p99 ms at 500/s offered (target p99 < 50)", "web/stored",
    "web PostgreSQL updates/s", "p50 / p99 ms", "all SQLite updates/s: webhook / end to end",
    "PTB end to end updates/s", "Kolot/PTB end to end (target >= 1)", "checks",
]
SECTION += f"| {' | '.join(COLUMNS)} |\n|{'---|' * len(COLUMNS)}\n"


def record(cells: list[str]) -> None:
    """Add a row to this script's table, writing the section first if it is missing."""
    sys.path.insert(0, str(ROOT / "bench"))
    from record import add_rows  # bench/record.py, beside this file

    add_rows(SECTION, [f"| {datetime.now(UTC):%Y-%m-%d} | {engine_module().machine()} | "
                       f"{' | '.join(cells)} |\n"])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--participants", type=int, default=250, help="chats a round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32, help="connections")
    parser.add_argument("--paced-rate", type=float, default=500.0,
                        help="offered updates/s for the latency of a bot carrying a load")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-record", action="store_true")
    parser.add_argument("--ptb-uvloop", action="store_true",
                        help="run the PTB bot on uvloop (its example uses asyncio.run)")
    parser.add_argument("--baseline-server", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    parser.add_argument("--pickle", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.baseline_server is not None:
        baseline_server(args.baseline_server, args.api_url, args.pickle, args.ptb_uvloop)
        return
    # The project first (tests/ has folders named like its packages), then the test helpers.
    sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "telegram")]
    sys.setswitchinterval(0.001)  # the fake's thread and the client share this process
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        with (contextlib.nullcontext(None) if args.no_postgres else postgres_schema()) as pg:
            runner = _runner()
            results = runner(bench(args, tmp, pg))
    cells = report(results, args)
    if not args.no_record:
        record(cells)
    if results.problems:
        sys.exit(1)


def _runner() -> Callable[[Any], Results]:
    try:
        import uvloop
    except ImportError:
        return asyncio.run
    return uvloop.run


if __name__ == "__main__":
    main()
