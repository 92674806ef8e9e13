"""Broadcast rows are marked, durably, right before their platform call: many at a time.

A broadcast must never reach anyone twice, and a sender can die at any moment (SIGKILL,
a power cut). A conversation's row is sent again when in doubt, but a broadcast's row
is sent only after its attempt is committed (:meth:`OutboxRepository.attempt`), so
after a crash each row is either not marked (certainly not sent: it goes again) or
marked (maybe sent: ``unconfirmed``, never repeated). What is left in doubt is what was
in flight at the crash, at most the sender's concurrency.

A commit per message would cap a sender at what the database commits a second, so the
rows waiting for their mark at the same moment share one commit (group commit): each
send still waits for its own row's mark, and a mark never runs ahead of its send by
more than that commit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from storage import UnitOfWork
from storage.repositories.outbox import Claimed

__all__ = ["Attempts"]

log = logging.getLogger(__name__)


class Attempts:
    def __init__(self, session_factory: sessionmaker[Session],
                 run_db: Callable[[Callable[[], Any]], Awaitable[Any]], clock: Clock) -> None:
        self.session_factory = session_factory
        self.run_db = run_db
        self.clock = clock
        self._waiting: list[tuple[Claimed, asyncio.Future[bool]]] = []
        self._writer: asyncio.Task[None] | None = None
        self.commits = 0
        """How many commits the marks took (for benchmarks: marks per commit)."""

    async def mark(self, row: Claimed) -> bool:
        """``True`` once ``row``'s attempt is committed; ``False`` if it is no longer this
        claim's (taken back, or the mark could not be written: then it is not sent)."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((row, future))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write())
        return await future

    async def _write(self) -> None:
        batch: list[tuple[Claimed, asyncio.Future[bool]]] = []
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                rows = [row for row, _ in batch]
                now = self.clock()
                try:
                    won = await self.run_db(partial(self._commit, rows, now))
                except Exception:  # the row stays claimed and unmarked: sent after the lease
                    log.exception("could not mark %s broadcast rows attempted", len(rows))
                    won = set()
                for row, future in batch:
                    if not future.done():
                        future.set_result(row.id in won)
                batch = []
        finally:
            for _, future in batch + self._waiting:  # cancelled: nobody sends unmarked
                if not future.done():
                    future.set_result(False)
            self._waiting = []
            self._writer = None

    def _commit(self, rows: list[Claimed], now: datetime) -> set[int]:
        with UnitOfWork(self.session_factory) as uow:
            won = uow.outbox.attempt(rows, now=now)
            uow.commit()
        self.commits += 1
        return won
