"""Webhook inputs applied in batches: group commit, so a busy bot commits once per batch.

Most of what one input costs on SQLite is the transaction around it (a session, BEGIN,
COMMIT), not the handful of statements inside. Requests that arrive while a batch is
being applied wait and go together in the next one, in one transaction
(:meth:`bot.service.Service.handle_many`); each webhook is still answered only after
the commit that holds its input. At low traffic a batch is a single input, so nothing
waits for company.

``parallel`` batches may be in flight at once (one on SQLite, its single writer; a few
on PostgreSQL, where a batch mostly waits for round trips). A participant is in at most
one batch in flight, so their inputs are applied in the order they arrived.
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
Item = tuple[Inbound, str | None, "asyncio.Future[Handled]"]


class Intake:
    def __init__(
        self, service: Service, run_db: RunDb, *, batch: int = 32, parallel: int = 1
    ) -> None:
        self.service = service
        self.run_db = run_db
        self.batch = batch
        self.parallel = parallel
        self._queue: deque[Item] = deque()
        self._busy: set[tuple[str, str]] = set()
        self._drainers = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self.batches = 0
        self.inputs = 0

    async def apply(self, inbound: Inbound, flow_id: str | None) -> Handled:
        """Apply one input; returns once its transaction has committed (or raises)."""
        future: asyncio.Future[Handled] = asyncio.get_running_loop().create_future()
        self._queue.append((inbound, flow_id, future))
        if self._drainers < self.parallel:
            self._start()
        return await future

    def _start(self) -> None:
        self._drainers += 1
        task = asyncio.create_task(self._drain())
        self._tasks.add(task)  # held until done: the loop keeps only weak references
        task.add_done_callback(self._tasks.discard)

    def _take(self) -> list[Item]:
        """The next batch: queued inputs in order, passing over anyone already in a batch
        in flight (and their later inputs), who wait for the next one."""
        taken: list[Item] = []
        left: deque[Item] = deque()
        held: set[tuple[str, str]] = set()
        while self._queue and len(taken) < self.batch:
            item = self._queue.popleft()
            who = (item[0].channel, item[0].address)
            if who in self._busy or who in held:
                held.add(who)
                left.append(item)
            else:
                taken.append(item)
        self._queue.extendleft(reversed(left))
        return taken

    async def _drain(self) -> None:
        try:
            while True:
                taken = self._take()
                if not taken:
                    return
                people = {(i.channel, i.address) for i, _, _ in taken}
                self._busy |= people
                work = [(inbound, flow_id) for inbound, flow_id, _ in taken]
                try:
                    results = await self.run_db(partial(self.service.handle_many, work))
                except Exception as exc:  # the database thread itself failed
                    results = [exc] * len(taken)
                finally:
                    self._busy -= people
                self.batches += 1
                self.inputs += len(taken)
                for (_, _, future), result in zip(taken, results, strict=True):
                    if future.done():
                        continue  # the request went away (the client hung up)
                    if isinstance(result, Exception):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        finally:
            self._drainers -= 1
            if self._queue and self._drainers < self.parallel:  # someone waited on us
                self._start()
