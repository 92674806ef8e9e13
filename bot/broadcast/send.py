"""Sending a broadcast from ``kolot broadcast``: the channels' senders, until its rows are
done, with its progress read from the database.

These are the same senders as ``kolot serve``'s (:func:`bot.server.make_senders`), so
the platforms' caps, WhatsApp's window and the retries are the same; they send whatever
is due on their channel, the broadcast's rows and the questions that follow them alike.
Stopping (``Ctrl-C``, ``SIGTERM``) lets the calls in flight finish and writes down what
became of them; a ``SIGKILL`` leaves at most those calls in doubt (``unconfirmed``, see
:mod:`bot.outbox.attempts`). Either way, running the file again sends to the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker
from twilio.http.async_http_client import AsyncTwilioHttpClient

from bot.clock import utc_now
from bot.server import make_senders, telegram_bot, twilio_of
from bot.settings import Settings
from storage import UnitOfWork
from storage.repositories.broadcasts import Progress

__all__ = ["progress_of", "send"]

T = TypeVar("T")


def progress_of(session_factory: sessionmaker[Session], broadcast_id: int) -> Progress:
    with UnitOfWork(session_factory) as uow:
        return uow.broadcasts.progress(broadcast_id)


def waiting_on(progress: Progress, channels: set[str]) -> int:
    return sum(counts.get("pending", 0) + counts.get("sending", 0)
               for channel, counts in progress.by_channel.items() if channel in channels)


async def send(
    settings: Settings,
    session_factory: sessionmaker[Session],
    broadcast_id: int,
    *,
    channels: set[str],
    shown: Callable[[Progress], None],
    every: float = 1.0,
) -> Progress:
    """Send on ``channels`` until none of the broadcast's rows there waits, or a stop
    signal; ``shown`` gets the progress every ``every`` seconds (counting a broadcast's
    rows costs the database more the bigger it is). Returns the last."""
    sqlite = session_factory.kw["bind"].dialect.name == "sqlite"
    executor = ThreadPoolExecutor(max_workers=1 if sqlite else 4,
                                  thread_name_prefix="kolot-db")
    loop = asyncio.get_running_loop()

    async def run_db(work: Callable[[], T]) -> T:
        return await loop.run_in_executor(executor, work)

    bot = telegram_bot(settings) if "telegram" in channels else None
    twilio = twilio_of(settings) if "whatsapp" in channels else None
    senders = [s for s in make_senders(settings, session_factory, run_db, bot=bot,
                                       twilio=twilio, clock=utc_now, idle=0.1) if s]
    stop, halt = asyncio.Event(), asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, halt.set)
    tasks: list[asyncio.Task[Any]] = []
    try:
        if bot is not None:
            await bot.initialize()
        tasks = [asyncio.create_task(sender.run(stop)) for sender in senders]
        while True:
            progress = await run_db(lambda: progress_of(session_factory, broadcast_id))
            shown(progress)
            if not waiting_on(progress, channels) or halt.is_set():
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(halt.wait(), every)
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signum)
        if bot is not None:
            await bot.shutdown()
        if twilio is not None and isinstance(twilio.http_client, AsyncTwilioHttpClient):
            await twilio.http_client.close()
        executor.shutdown(wait=True)
    progress = progress_of(session_factory, broadcast_id)
    shown(progress)
    return progress
