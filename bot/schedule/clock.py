"""The clock: APScheduler ticking the scheduler pass (:mod:`bot.schedule.tick`) in the
running server. It holds no schedule of its own (every due thing is in the database), so
any number of processes may tick, and a restart loses nothing: the next pass finds what
is due and not yet done."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import Clock
from bot.outbox.sender import Sender
from bot.schedule.tick import Report, Ticker

__all__ = ["Ticking"]

log = logging.getLogger(__name__)


class Ticking:
    def __init__(self, ticker: Ticker, run_db: Callable[[Callable[[], Any]], Awaitable[Any]],
                 clock: Clock, senders: Sequence[Sender], *, every: float = 30.0) -> None:
        self.ticker = ticker
        self.run_db = run_db
        self.clock = clock
        self.senders = senders
        self.every = every
        self.passes = 0
        self._scheduler: AsyncIOScheduler | None = None

    def start(self) -> None:
        """Inside the running loop: the first pass at once, then every ``every`` seconds;
        a pass still running when the next is due is not doubled, and missed ones merge."""
        scheduler = AsyncIOScheduler()
        scheduler.add_job(self.tick, "interval", seconds=self.every, max_instances=1,
                          coalesce=True, next_run_time=self.clock())
        scheduler.start()
        self._scheduler = scheduler

    def stop(self) -> None:
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    async def tick(self) -> Report:
        now = self.clock()
        try:
            report: Report = await self.run_db(lambda: self.ticker.tick(now))
        except Exception:  # the next pass tries again: nothing is marked done on failure
            log.exception("the scheduler pass failed")
            return Report()
        self.passes += 1
        if report.total:
            log.info("scheduler: %s announced, %s asked, %s invited, %s reminded, %s nudged",
                     report.announced, report.asked, report.invited, report.reminded,
                     report.nudged)
            for sender in self.senders:
                sender.wake()
        return report
