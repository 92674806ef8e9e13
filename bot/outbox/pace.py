"""Rate caps on one channel's sends, held across every sender process that shares a store.

Platforms cap how fast a bot may send: Telegram about 30 messages a second overall, one a
second in a private chat (short bursts tolerated), 20 a minute in a group; Twilio 80 a
second per sender. Each cap is a moving window (the ``limits`` library's
``MovingWindowRateLimiter``): at most N sends in any window of T seconds, the way the
platforms count. The windows live in a ``limits`` storage: in memory for one process (the
default, right for SQLite), or Redis (``KOLOT_RATE_LIMIT_URL=async+redis://host:6379``)
so several sender processes on one PostgreSQL share one budget.

The platform counts a message when it *arrives*, and arrivals jitter: thirty requests
fired at once reach the platform spread over tens of milliseconds, and a send delayed
that way lets the next window look fuller there than it did here. Two habits keep us
under the platform's count, not just our own:

* sends are spread evenly (aiolimiter's leaky bucket, in slices of 1/30 s), never fired
  as a burst of a whole second's budget, so few are in flight at once;
* a chat's send is counted when its answer is back, which is after the platform counted
  it (one chat's messages go one at a time, so nothing of that chat is uncounted in
  flight); the overall slot, shared by many sends in flight, is taken before sending.

``pause`` is the platform's own "retry after": every send of this process waits it out.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiolimiter import AsyncLimiter
from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

__all__ = ["Caps", "Pace", "rate_storage"]

_SLICE = 1 / 30
"""Sends are spread over slices this long (seconds): at most rate x slice in each."""


class _Grid:
    """One send per ``interval``, on a fixed grid of moments.

    A leaky bucket that holds one send waits ``interval`` from when it woke, and each
    wake-up comes a little late (asyncio rounds waits up to the millisecond), so at 29 a
    second it sent 28.2. Counting the next moment from the last one, not from the
    wake-up, keeps the rate; after an idle spell the grid starts again from now, so no
    burst makes up for lost time.
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._next = 0.0

    async def acquire(self) -> None:
        now = time.monotonic()
        moment = max(self._next, now)
        self._next = moment + self.interval
        if moment > now:
            await asyncio.sleep(moment - now)


@dataclass(frozen=True, slots=True)
class Caps:
    """A channel's caps as ``limits`` strings ("30/second", "3 per 3 seconds")."""

    overall: str
    chat: str
    group: str | None = None


def rate_storage(url: str | None) -> Storage:
    """The shared store of send windows: ``async+memory://`` (default) or Redis."""
    url = url or "async+memory://"
    options = {"implementation": "redispy"} if url.startswith("async+redis") else {}
    storage = storage_from_string(url, **options)  # redis-py, not coredis: one Redis client
    if not isinstance(storage, Storage):
        raise ValueError(f"{url!r} is not an asyncio rate-limit store: use async+memory:// "
                         "or async+redis://HOST:PORT")
    return storage


class Pace:
    def __init__(self, channel: str, caps: Caps, storage: Storage | None = None) -> None:
        self.channel = channel
        self.caps = caps
        self._limiter = MovingWindowRateLimiter(storage or rate_storage(None))
        self._overall = parse(caps.overall)
        self._chat = parse(caps.chat)
        self._group = parse(caps.group) if caps.group else None
        rate = self._overall.amount / self._overall.get_expiry()
        self._even: AsyncLimiter | _Grid = (
            AsyncLimiter(rate * _SLICE, _SLICE) if rate * _SLICE >= 1 else _Grid(1 / rate)
        )
        self._turn = asyncio.Lock()
        self._paused_until = 0.0
        self.waited = 0.0
        """Seconds spent waiting for a slot, summed over sends: how hard the caps bite."""

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    @property
    def paused(self) -> float:
        """Seconds left of a pause the platform asked for."""
        return max(0.0, self._paused_until - time.monotonic())

    @asynccontextmanager
    async def slot(self, chat_key: str, *, group: bool = False) -> AsyncIterator[None]:
        """Wait until one more send to ``chat_key`` fits every cap; send inside the block.

        Only one send per chat may be inside at a time (the sender sends one participant's
        rows in order), which is what lets the chat's count wait for the answer.
        """
        began = time.monotonic()
        chat = self._group if group and self._group is not None else self._chat
        key = f"kolot:{self.channel}:{'group' if group else 'chat'}:{chat_key}"
        await self._until(chat, key, take=False)
        async with self._turn:  # one waiter at a time per process: no stampede on the store
            await self._even.acquire()
            await self._until(self._overall, f"kolot:{self.channel}:all", take=True)
            while self.paused:  # asked while we waited: nobody goes before it is over
                await asyncio.sleep(self.paused)
        self.waited += time.monotonic() - began
        try:
            yield
        finally:
            await self._limiter.hit(chat, key)

    async def _until(self, item: RateLimitItem, key: str, *, take: bool) -> None:
        while not await (self._limiter.hit(item, key) if take else self._limiter.test(item, key)):
            stats = await self._limiter.get_window_stats(item, key)
            await asyncio.sleep(min(max(stats.reset_time - time.time(), 0.001), 1.0))
