"""The flood guard itself (``bot.abuse.Guard``): who is never held back, where the windows
live (several web processes share one Redis, as ``KOLOT_RATE_LIMIT_URL`` says), what the
keys hold (no address), a rate store that fails (inputs go through, the log says so
without the address), and ``KOLOT_FLOOD_RATE``."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis
from databases import require_redis
from limits.storage import RedisStorage

from bot.abuse import FLOOD_RATE, Guard, LocalWindows, flood_storage
from bot.channels.base import Inbound
from bot.settings import Settings, SettingsError

REDIS = "redis://127.0.0.1:6379/8"


def said(address: str, n: int, channel: str = "telegram", **fields: object) -> Inbound:
    return Inbound(channel, address, f"{address}-{n}", **fields)  # type: ignore[arg-type]


def admitted(guard: Guard, address: str, times: int, **fields: object) -> int:
    return sum(guard.admits(said(address, n, **fields)) for n in range(times))


def test_twenty_in_the_window_then_held_back_and_told_once() -> None:
    guard = Guard()
    assert admitted(guard, "1001", 25) == 20
    assert guard.first_held(said("1001", 99))
    assert not guard.first_held(said("1001", 100))
    assert admitted(guard, "1002", 5) == 5  # another chat has its own window


def test_stop_delete_and_admins_are_never_held_back() -> None:
    guard = Guard(exempt={("telegram", "1003")})
    assert admitted(guard, "1004", 25) == 20
    assert admitted(guard, "1004", 3, command="stop") == 3
    assert admitted(guard, "1004", 3, command="delete") == 3
    assert admitted(guard, "1004", 3, command="mydata") == 0
    assert admitted(guard, "1003", 50) == 50


def test_no_rate_no_flood_limit() -> None:
    assert admitted(Guard(rate=None), "1005", 100) == 100


def test_the_console_is_not_screened() -> None:
    guard = Guard()
    console = Inbound("console", "dana", "c-1", text="x" * 10_000)
    assert guard.screen(None, console, 1, "en", None) == (console, [])  # type: ignore[arg-type]


def test_the_store_follows_the_rate_limit_url() -> None:
    """Without Redis, the windows are this process's own (``LocalWindows``)."""
    assert flood_storage(None) is None
    assert flood_storage("async+memory://") is None
    assert isinstance(flood_storage("async+redis://127.0.0.1:6379/8"), RedisStorage)


@pytest.fixture
def shared_redis() -> Iterator[str]:
    require_redis(REDIS)
    yield REDIS
    redis.Redis.from_url(REDIS).flushdb()


def test_two_web_processes_count_one_participant_together(shared_redis: str) -> None:
    one = Guard(flood_storage("async+" + shared_redis))
    two = Guard(flood_storage("async+" + shared_redis))
    address = f"whatsapp:+9725{uuid.uuid4().int % 10**8:08d}"
    assert admitted(one, address, 12, channel="whatsapp") == 12
    assert admitted(two, address, 12, channel="whatsapp") == 8
    assert not one.admits(said(address, 99, channel="whatsapp"))
    assert one.first_held(said(address, 99, channel="whatsapp"))
    assert not two.first_held(said(address, 100, channel="whatsapp"))
    alone = Guard()  # a process with its own memory store counts on its own
    assert alone.admits(said(address, 101, channel="whatsapp"))
    keys = [k.decode() for k in redis.Redis.from_url(shared_redis).keys("*")]
    assert keys and not any(address.removeprefix("whatsapp:+") in k for k in keys)


def test_a_failing_store_lets_inputs_through_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    guard = Guard(flood_storage("redis://127.0.0.1:1/0"))  # nothing listens there
    address = "whatsapp:+972501234567"
    with caplog.at_level(logging.WARNING, logger="bot.abuse"):
        assert admitted(guard, address, 25, channel="whatsapp") == 25
    assert "rate store failed" in caplog.text
    assert "972501234567" not in caplog.text


def test_flood_rate_from_the_environment() -> None:
    base = {"KOLOT_DATABASE_URL": "sqlite:///x.db"}
    assert Settings.from_env(base).flood_rate == FLOOD_RATE
    assert Settings.from_env({**base, "KOLOT_FLOOD_RATE": "5 per 10 seconds"}).flood_rate \
        == "5 per 10 seconds"
    assert Settings.from_env({**base, "KOLOT_FLOOD_RATE": "off"}).flood_rate is None
    with pytest.raises(SettingsError, match="KOLOT_FLOOD_RATE"):
        Settings.from_env({**base, "KOLOT_FLOOD_RATE": "lots"})


def test_local_windows_move_with_the_clock_given() -> None:
    """The windows in memory count on the time the service gives: a held-back participant
    is served again once ten seconds have passed on that clock, not on the wall's."""
    guard = Guard()
    start = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    assert sum(guard.admits(said("1006", n), start) for n in range(25)) == 20
    assert not guard.admits(said("1006", 30), start + timedelta(seconds=9))
    assert guard.admits(said("1006", 31), start + timedelta(seconds=10.5))


def test_quiet_keys_are_dropped_from_memory() -> None:
    windows = LocalWindows()
    for n in range(5000):  # a sweep happens within these hits
        windows.hit(f"person-{n}", 20, 10.0, float(n))
    assert len(windows._windows) < 5000
