"""Rate caps on one channel's sends, held across every sender process that shares a store.

Platforms cap how fast a bot may send: Telegram about 30 messages a second overall, one a
second in a private chat (short bursts tolerated), 20 a minute in a group; Twilio 80 a
second per sender. Each cap is a moving window (the ``limits`` library's
``MovingWindowRateLimiter``): at most N sends in any window of T seconds, the way the
platforms count. The windows live in a ``limits`` storage: in memory for one process (the
default, right for SQLite), or Redis (``KOLOT_RATE_LIMIT_URL=async+redis://host:6379``)
so several sender processes on one PostgreSQL share one budget.

A send takes its slot just before it goes out: the chat's window is tested first (without
taking), then the overall slot is taken in arrival order (one waiter at a time per
process, so waiters don't stampede the store), then the chat's. Taking slots early and
sending late would let the platform see more in a window than we counted.

``pause`` is the platform's own "retry after": every send of this process waits it out.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

__all__ = ["Caps", "Pace", "rate_storage"]


@dataclass(frozen=True, slots=True)
class Caps:
    """A channel's caps as ``limits`` strings ("30/second", "3 per 3 seconds")."""

    overall: str
    chat: str
    group: str | None = None


def rate_storage(url: str | None) -> Storage:
    """The shared store of send windows: ``async+memory://`` (default) or Redis."""
    storage = storage_from_string(url or "async+memory://")
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

    async def slot(self, chat_key: str, *, group: bool = False) -> None:
        """Wait until one more send to ``chat_key`` fits every cap, and take it."""
        began = time.monotonic()
        chat = self._group if group and self._group is not None else self._chat
        key = f"kolot:{self.channel}:{'group' if group else 'chat'}:{chat_key}"
        overall = f"kolot:{self.channel}:all"
        while True:
            while self.paused:
                await asyncio.sleep(self.paused)
            await self._until(chat, key, take=False)
            async with self._turn:
                await self._until(self._overall, overall, take=True)
            if await self._limiter.hit(chat, key):
                break  # another process took the chat's last slot in between: go again
        self.waited += time.monotonic() - began

    async def _until(self, item: RateLimitItem, key: str, *, take: bool) -> None:
        while not await (self._limiter.hit(item, key) if take else self._limiter.test(item, key)):
            stats = await self._limiter.get_window_stats(item, key)
            await asyncio.sleep(min(max(stats.reset_time - time.time(), 0.001), 1.0))
