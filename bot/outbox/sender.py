"""The sender: claims due outbox rows of one channel and delivers them, without end.

Participants are independent, so many are served at once (``concurrency``); one
participant's rows go out one after the other, in order, and stop at the first that
can't go now (its later rows wait for it). The channel paces every platform call under
its caps (:mod:`bot.outbox.pace`). Outcomes are written in batches, so the database
sees one transaction per batch, not per message.

Database work runs through ``run_db`` (an executor: one thread for SQLite's single
writer, a few for PostgreSQL), so the event loop never blocks on it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Protocol, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import Outbound
from bot.clock import Clock, utc_now
from bot.outbox.attempts import Attempts
from bot.outbox.outcomes import Failed, Gate, Held, Outcome, Pause, Sent, Superseded, Unreachable
from bot.outbox.record import RETRY_DELAYS, Released, Result, record
from storage import UnitOfWork
from storage.repositories.outbox import Claim, Claimed

__all__ = ["Deliverer", "RunDb", "Sender"]

log = logging.getLogger(__name__)

T = TypeVar("T")
RunDb = Callable[[Callable[[], T]], Awaitable[T]]


class Deliverer(Protocol):
    """A channel's sending side: deliver one outbox row's message, report the outcome.

    It never raises for a platform's refusal; it reports it as an :class:`Outcome`. A
    broadcast row comes with a ``gate`` to await right before the first platform call
    (:mod:`bot.outbox.attempts`); when it says no, nothing is sent: :class:`Superseded`.
    """

    name: str

    async def deliver(self, row: Claimed, message: Outbound, *,
                      gate: Gate | None = None) -> Outcome: ...


class Sender:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        channel: Deliverer,
        run_db: RunDb[object],
        *,
        clock: Clock = utc_now,
        retry_delays: Sequence[timedelta] = RETRY_DELAYS,
        concurrency: int = 64,
        idle: float = 0.5,
    ) -> None:
        self.session_factory = session_factory
        self.channel = channel
        self.run_db = run_db
        self.clock = clock
        self.retry_delays = tuple(retry_delays)
        self.concurrency = concurrency
        self.idle = idle
        self.attempts = Attempts(session_factory, run_db, clock)
        self._wake = asyncio.Event()
        self._results: list[Result] = []
        self.delivered = 0
        """Rows delivered since start (for ``/healthz`` and benchmarks)."""

    def wake(self) -> None:
        """New rows were committed in this process: look now rather than at the next poll."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Send until ``stop`` is set; then finish what is in flight and write it down."""
        inflight: set[asyncio.Task[None]] = set()
        try:
            while not stop.is_set():
                room = self.concurrency - len(inflight)
                if room * 2 >= self.concurrency:
                    claim = await self._claim(room)
                    for rows in claim.by_participant():
                        inflight.add(asyncio.create_task(self._person(rows, claim)))
                    if not claim.rows and not inflight:
                        await self._flush()
                        await self._sleep(stop)
                        continue
                if inflight:
                    _done, inflight = await asyncio.wait(
                        inflight, timeout=self.idle, return_when=asyncio.FIRST_COMPLETED
                    )
                await self._flush()
        finally:
            if inflight:
                await asyncio.gather(*inflight, return_exceptions=True)
            await self._flush()

    async def drain_once(self) -> int:
        """Claim and deliver what is due now, once; returns how many rows were delivered."""
        before = self.delivered
        claim = await self._claim(self.concurrency)
        await asyncio.gather(*(self._person(rows, claim) for rows in claim.by_participant()))
        await self._flush()
        return self.delivered - before

    async def _sleep(self, stop: asyncio.Event) -> None:
        self._wake.clear()
        waits = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waits, timeout=self.idle, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()

    async def _claim(self, participants: int) -> Claim:
        def claim() -> Claim:
            with UnitOfWork(self.session_factory) as uow:
                taken = uow.outbox.claim(self.channel.name, now=self.clock(), limit=participants)
                uow.commit()
                return taken

        return await self.run_db(claim)  # type: ignore[return-value]

    async def _flush(self) -> None:
        results, self._results = self._results, []
        if results:
            now = self.clock()
            await self.run_db(lambda: record(self.session_factory, results, now=now,
                                             delays=self.retry_delays))

    async def _person(self, rows: list[Claimed], claim: Claim) -> None:
        """One participant's rows, in order, until one can't go now."""
        done = 0
        try:
            for row in rows:
                outcome = await self._one(row, claim)
                done += 1
                if isinstance(outcome, Superseded):
                    break  # its new holder sends it, and the rest after it
                self._results.append(Result(row, outcome))
                if isinstance(outcome, Sent):
                    self.delivered += 1
                elif isinstance(outcome, Unreachable):
                    claim.unreachable.add(row.participant_id)
                elif isinstance(outcome, Pause):
                    pace = getattr(self.channel, "pace", None)
                    if pace is not None:
                        pace.pause(outcome.seconds)
                    log.warning("%s asked to pause %.0f s", self.channel.name, outcome.seconds)
                    break
                elif not isinstance(outcome, (Failed, Held)):
                    break  # a retry, or taken back: the rest wait behind it
        finally:
            self._results.extend(Result(row, Released()) for row in rows[done:])

    def _gate(self, row: Claimed) -> Gate:
        async def gate() -> bool:
            return await self.attempts.mark(row)

        return gate

    async def _one(self, row: Claimed, claim: Claim) -> Outcome:
        message = Outbound.from_payload(row.payload)
        if row.participant_id in claim.unreachable:
            return Unreachable("not sent: the participant can't be reached (blocked the bot)")
        if row.participant_id in claim.stopped and not message.despite_stop:
            return Failed("not sent: the participant asked for no more messages (/stop)")
        try:
            if row.once:
                return await self.channel.deliver(row, message, gate=self._gate(row))
            return await self.channel.deliver(row, message)
        except Exception as exc:  # a bug in rendering must not lose the row or stop the loop
            log.exception("outbox row %s: the channel failed to deliver", row.id)
            return Failed(f"{type(exc).__name__} while delivering")
