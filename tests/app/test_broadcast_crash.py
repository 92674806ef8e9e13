"""A broadcast to 10,000 participants, its process killed half-way (SIGKILL) and run
again: everyone gets it exactly once, as the platform's own record of calls shows.

The kill comes at the worst moment there is: requests the platform has received (and
acted on) while ``kolot broadcast`` still waits for their answers. Those rows' attempts
were committed before their calls, so the second run counts them as unconfirmed and
sends them nothing more; rows claimed but not yet called go again at once, without
waiting out the dead process's lease.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from crowd import PARK, seed
from fakes.telegram_api import FakeTelegram
from sqlalchemy import Engine, func, select

from storage.models import OutboxMessage

PEOPLE = 10_000
NEWS = {"he": "התוצאות פורסמו: תודה שהשתתפתם!", "ar": "تم نشر النتائج: شكرًا لمشاركتكم!",
        "en": "The results are out: thank you for taking part!"}

pytestmark = pytest.mark.storage


def broadcast_file(tmp_path: Path) -> Path:
    path = tmp_path / "results.yaml"
    lines = ["name: park-results", "flow: neighbourhood-park", "messages:"]
    lines += [f"  {language}: \"{text}\"" for language, text in NEWS.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_env(fake: FakeTelegram, url: str) -> dict[str, str]:
    return {**os.environ, "KOLOT_DATABASE_URL": url, "KOLOT_FLOWS": str(PARK),
            "KOLOT_TELEGRAM_TOKEN": fake.token, "KOLOT_TELEGRAM_API_URL": fake.url,
            "KOLOT_TELEGRAM_RATE": "100000/second", "KOLOT_TELEGRAM_CHAT_RATE": "1000/second",
            "KOLOT_SENDER_CONCURRENCY": str(CONCURRENCY), "PYTHONUNBUFFERED": "1"}


def statuses(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {str(status): int(n) for status, n in connection.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))}


def wait_for(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


CONCURRENCY = 32


def kill_half_way(url: str, tmp_path: Path, fake: FakeTelegram, people: int, *,
                  in_flight: bool) -> subprocess.CompletedProcess[str]:
    """Run the broadcast, SIGKILL it once half the people were sent to, run it again.
    ``in_flight``: kill while the platform holds the answers to calls it has taken."""
    path = broadcast_file(tmp_path)
    command = [sys.executable, "-m", "bot", "broadcast", str(path), "--yes"]
    with (tmp_path / "first.log").open("wb") as log:
        first = subprocess.Popen(command, env=run_env(fake, url), cwd=tmp_path, stdout=log,
                                 stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: len(fake.sent()) >= people // 2 or first.poll() is not None,
                     180, "half the broadcast")
            assert first.poll() is None, (tmp_path / "first.log").read_text()
            if in_flight:
                fake.hold()  # calls arrive and take effect; their answers wait
                seen = -1
                while seen != len(fake.calls):  # until the sender has nothing more to call
                    seen = len(fake.calls)
                    time.sleep(0.5)
                assert fake.held > 0
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=30)
        finally:
            if first.poll() is None:
                first.kill()
                first.wait()
            fake.release()
    assert people // 2 <= len({call.chat_id for call in fake.sent()}) < people
    second = subprocess.run(command, env=run_env(fake, url), cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stdout + second.stderr
    return second


def test_a_broadcast_killed_mid_call_reaches_everyone_exactly_once(
    migrated_url: tuple[str, Engine], tmp_path: Path
) -> None:
    url, engine = migrated_url
    seed(engine, PEOPLE, now=datetime.now(UTC), finished_every=3)
    with FakeTelegram(limits_enabled=False) as fake:
        second = kill_half_way(url, tmp_path, fake, PEOPLE, in_flight=True)
        sent, calls = fake.sent(), fake.calls
    received = Counter(call.chat_id for call in sent)
    assert len(received) == PEOPLE, "someone got nothing"
    assert max(received.values()) == 1, "someone got it twice"
    assert all(call.status == 200 for call in calls if call.method == "sendMessage")
    for call in sent[:30]:
        number = int(str(call.chat_id)) - 10_000_000
        assert call.params["text"] == NEWS[("he", "ar", "en")[number % 3]]
    final = statuses(engine)
    # The calls in flight at the kill are unconfirmed (they may have arrived; here they
    # did), at most one per concurrent send; every other row is sent.
    assert final.get("sent", 0) + final.get("unconfirmed", 0) == PEOPLE
    assert 0 < final["unconfirmed"] <= CONCURRENCY
    assert f"unconfirmed {final['unconfirmed']}" in second.stdout, second.stdout


def test_a_broadcast_killed_at_any_moment_never_reaches_anyone_twice(
    migrated_url: tuple[str, Engine], tmp_path: Path
) -> None:
    """Killed wherever it happens to be: nobody gets it twice, and whoever got nothing is
    among the few rows it reports unconfirmed (a call cut off before it left)."""
    url, engine = migrated_url
    people = 2_000
    seed(engine, people, now=datetime.now(UTC))
    with FakeTelegram(limits_enabled=False) as fake:
        kill_half_way(url, tmp_path, fake, people, in_flight=False)
        received = Counter(call.chat_id for call in fake.sent())
    assert max(received.values()) == 1, "someone got it twice"
    with engine.connect() as connection:
        unconfirmed = {int(address) for (address,) in connection.execute(
            select(OutboxMessage.address).where(OutboxMessage.status == "unconfirmed"))}
    missing = {10_000_000 + i for i in range(people)} - {int(str(c)) for c in received}
    assert missing <= unconfirmed
    assert len(unconfirmed) <= CONCURRENCY
    assert statuses(engine).get("sent", 0) + len(unconfirmed) == people
