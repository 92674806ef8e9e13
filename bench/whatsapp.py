"""Benchmark: Twilio's WhatsApp webhook under load, every request's signature validated.

Run: ``.venv/bin/python bench/whatsapp.py [--participants 250] [--rounds 3] [--concurrency 32]
[--no-record]``. Prints the figures and adds a row, with the machine and date, to the
``bench/whatsapp.py`` table of docs/benchmarks.md.

``kolot serve --role web`` runs as its own process on SQLite (the sender is not running:
this is the webhook's cost). Each synthetic participant is one WhatsApp number typing the
civil-service-women questionnaire (8 messages) as Twilio posts it: a form with Twilio's
parameters, signed with ``X-Twilio-Signature`` over the public URL (HMAC-SHA1, computed
here with the SDK's ``RequestValidator``), which the server checks before anything else.
Each number's next message is posted when the last was answered; the connections
interleave their numbers. Also measured in this process: what one ``validate`` costs.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FLOW = ROOT / "flows" / "examples" / "civil-service-women.yaml"
WALK = ["hi", "yes", "1", "1,3", "5", "12", "no", "Too few mentors"]
ACCOUNT, TOKEN = "AC" + "0" * 32, "f" * 32
SENDER = "whatsapp:+14155238886"
PATH = "/twilio/whatsapp"
TARGET_RATE = 1_000

SECTION = """## bench/whatsapp.py

Twilio's WhatsApp webhook: `kolot serve --role web` as its own process on loopback, SQLite,
fed the forms Twilio posts for incoming WhatsApp messages, each signed with
`X-Twilio-Signature` over the public URL as Twilio signs it and checked by the server
with the SDK's `RequestValidator` before anything else. Each synthetic number types the
civil-service-women questionnaire (8 messages); its next message is posted when the last
was answered, over keep-alive connections that interleave the numbers. The server answers
only after the input's transaction committed (the replies then wait in the outbox; no
sender runs here). Stored is bench/engine.py's console path in the same run, for the
machine's speed that day; validate is one `RequestValidator.validate` in this process.

| date | machine | participants x messages x rounds, connections | stored inputs/s \
| webhook updates/s | p50 / p99 ms | validate us | checks |
|---|---|---|---|---|---|---|---|
"""


def _telegram_bench() -> Any:
    """bench/telegram.py (its keep-alive client, server handle and record), by path: its
    file name is also python-telegram-bot's package name."""
    spec = importlib.util.spec_from_file_location("bench_telegram", ROOT / "bench" / "telegram.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def signed_post(validator: Any, port: int, public: str, params: dict[str, str]) -> bytes:
    body = urllib.parse.urlencode(params).encode()
    signature = validator.compute_signature(public + PATH, params)
    head = (f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"X-Twilio-Signature: {signature}\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


def walks(validator: Any, port: int, public: str, first: int, n: int) -> list[list[bytes]]:
    made = []
    for number in range(first, first + n):
        phone = f"whatsapp:+9725{number:08d}"
        made.append([
            signed_post(validator, port, public, {
                "MessageSid": (sid := f"SM{number:012d}{step:020d}"), "SmsSid": sid,
                "AccountSid": ACCOUNT, "From": phone, "To": SENDER, "Body": text,
                "NumMedia": "0", "NumSegments": "1", "SmsStatus": "received",
                "ApiVersion": "2010-04-01", "ProfileName": "P", "WaId": phone[10:],
            })
            for step, text in enumerate(WALK)
        ])
    return made


def validate_cost(validator: Any) -> float:
    params = {"MessageSid": "SM" + "1" * 32, "From": "whatsapp:+972500000000", "Body": "yes",
              "To": SENDER, "AccountSid": ACCOUNT, "NumMedia": "0"}
    signature = validator.compute_signature("https://kolot.example.org" + PATH, params)
    runs = 20_000
    began = time.perf_counter()
    for _ in range(runs):
        assert validator.validate("https://kolot.example.org" + PATH, params, signature)
    return (time.perf_counter() - began) / runs * 1e6


def count_answers(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM answers")).scalar() or 0)
    finally:
        engine.dispose()


async def run(args: argparse.Namespace, tmp: Path) -> list[str]:
    from twilio.request_validator import RequestValidator

    tb = _telegram_bench()
    engine = tb.engine_module()
    validator = RequestValidator(TOKEN)
    port = tb.free_port()
    public = f"http://127.0.0.1:{port}"
    database = f"sqlite:///{tmp}/whatsapp.db"
    env = dict(os.environ, KOLOT_DATABASE_URL=database, KOLOT_FLOWS=str(FLOW),
               KOLOT_TWILIO_ACCOUNT_SID=ACCOUNT, KOLOT_TWILIO_AUTH_TOKEN=TOKEN,
               KOLOT_TWILIO_FROM=SENDER, KOLOT_PUBLIC_URL=public,
               KOLOT_PSEUDONYM_KEY="bench-" + "k" * 32)
    log = tmp / "kolot.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "kolot"), "serve", "--role", "web", "--host",
             "127.0.0.1", "--port", str(port)], cwd=ROOT, env=env, stdout=out,
            stderr=subprocess.STDOUT)
    server = tb.Server("Kolot web WhatsApp", port, PATH, process, log, e2e=False,
                       database=database)
    rates: list[float] = []
    latencies: list[float] = []
    stored: list[float] = []
    walked = 0
    try:
        server.ready("/healthz")
        first = 0
        warm = walks(validator, port, public, first, args.concurrency)
        await tb.drive(server, warm, args.concurrency)
        first += args.concurrency
        walked += args.concurrency
        with engine.stored_rounds() as stored_round:
            stored_round(0.2)
            for _ in range(args.rounds):
                stored.append(stored_round(1.0))
                made = walks(validator, port, public, first, args.participants)
                first += args.participants
                phase = await tb.drive(server, made, args.concurrency)
                walked += args.participants
                rates.append(phase.rate)
                latencies.extend(phase.latencies)
                print(f"  round: {phase.rate:,.0f} messages/s", flush=True)
    finally:
        server.stop()
    cost = validate_cost(validator)
    answers = count_answers(database)
    expected = 6 * walked
    rate = statistics.median(rates)
    every = sorted(latencies)
    p50 = every[len(every) // 2] * 1000
    p99 = every[min(len(every) - 1, int(0.99 * len(every)))] * 1000
    check = "passed" if answers == expected else f"{answers:,} of {expected:,} answers stored"
    print(f"webhook: {rate:,.0f} messages/s (rounds {', '.join(f'{r:,.0f}' for r in rates)}), "
          f"p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    print(f"one RequestValidator.validate: {cost:.1f} us; stored console path "
          f"{statistics.median(stored):,.0f} inputs/s; answers {answers:,} (expected "
          f"{expected:,})")
    return [f"{args.participants} x {len(WALK)} x {args.rounds}, {args.concurrency}",
            f"{statistics.median(stored):,.0f}", f"{rate:,.0f}", f"{p50:.0f} / {p99:.0f}",
            f"{cost:.0f}", check]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--participants", type=int, default=250)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
    with tempfile.TemporaryDirectory() as name:
        cells = asyncio.run(run(args, Path(name)))
    if not args.no_record:
        sys.path.insert(0, str(ROOT / "bench"))  # bench/telegram.py takes it off on import
        from record import add_rows  # bench/record.py, beside this file

        tb = _telegram_bench()
        add_rows(SECTION, [f"| {datetime.now(UTC):%Y-%m-%d} | {tb.engine_module().machine()} "
                           f"| {' | '.join(cells)} |\n"])
    if cells[-1] != "passed":
        sys.exit(1)


if __name__ == "__main__":
    main()
