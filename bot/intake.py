"""Webhook inputs applied in batches: group commit, so a busy bot commits once per batch.

Most of what one input costs on SQLite is the transaction around it (a session, BEGIN,
COMMIT), not the handful of statements inside. Requests that arrive while a batch is
being applied wait and go together in the next one, in one transaction
(:meth:`bot.service.Service.handle_many`); each webhook is still answered only after
the commit that holds its input. At low traffic a batch is a single input, so nothing
waits for company. One batch is in flight at a time per process, which also keeps one
participant's inputs in the order they arrived.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from functools import partial

from bot.channels.base import Inbound
from bot.service import Handled, Service

__all__ = ["Intake"]

RunDb = Callable[[Callable[[], list[Handled | Exception]]], Awaitable[list[Handled | Exception]]]


class Intake:
    def __init__(self, service: Service, run_db: RunDb, *, batch: int = 32) -> None:
        self.service = service
        self.run_db = run_db
        self.batch = batch
        self._queue: deque[tuple[Inbound, str, asyncio.Future[Handled]]] = deque()
        self._draining: asyncio.Task[None] | None = None
        self.batches = 0
        self.inputs = 0

    async def apply(self, inbound: Inbound, flow_id: str) -> Handled:
        """Apply one input; returns once its transaction has committed (or raises)."""
        future: asyncio.Future[Handled] = asyncio.get_running_loop().create_future()
        self._queue.append((inbound, flow_id, future))
        if self._draining is None or self._draining.done():
            self._draining = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._queue:
            taken = [self._queue.popleft() for _ in range(min(self.batch, len(self._queue)))]
            work = [(inbound, flow_id) for inbound, flow_id, _ in taken]
            try:
                results = await self.run_db(partial(self.service.handle_many, work))
            except Exception as exc:  # the database thread itself failed
                results = [exc] * len(taken)
            self.batches += 1
            self.inputs += len(taken)
            for (_, _, future), result in zip(taken, results, strict=True):
                if future.done():
                    continue  # the request went away (the client hung up)
                if isinstance(result, Exception):
                    future.set_exception(result)
                else:
                    future.set_result(result)
