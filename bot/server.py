"""One ``kolot serve`` process: the flows, the database, the channels and the sender.

A process has a role. ``web`` takes webhooks in and writes to the database; ``sender``
drains the outbox to the platforms; ``all`` (the default) does both, which is all a
small deployment needs. More traffic: more ``web`` and ``sender`` processes against one
PostgreSQL (with the rate caps shared through Redis, see :mod:`bot.outbox.pace`).
SQLite has one writer, so on SQLite run one ``all`` process.

Database work runs on a small thread pool (one thread on SQLite, the single writer), so
the event loop never waits on it; a webhook is answered only after its transaction
committed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker
from telegram import Bot, Update
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from bot.admin import Desk
from bot.channels.telegram import CHANNEL as TELEGRAM
from bot.channels.telegram import Membership, TelegramChannel, read_update
from bot.channels.telegram.transport import AiohttpRequest
from bot.channels.whatsapp import (
    WHATSAPP,
    Templates,
    WhatsAppChannel,
    held_reason,
    read_message,
    twilio_client,
)
from bot.clock import Clock, utc_now
from bot.engine import Diagnostic, FlowError
from bot.engine.loader import check_file
from bot.intake import Intake
from bot.outbox.pace import Pace, rate_storage
from bot.outbox.record import RETRY_DELAYS
from bot.outbox.sender import Deliverer, RunDb, Sender
from bot.pseudonyms import Pseudonyms
from bot.registry import FlowRegistry
from bot.routes import MEDIA, TWILIO_STATUS
from bot.schedule.clock import Ticking
from bot.schedule.tick import Ticker
from bot.service import Service
from bot.settings import Settings, SettingsError
from storage.database import make_engine, make_session_factory, upgrade

__all__ = ["ALLOWED_UPDATES", "QUIET_LOGGERS", "Role", "Runtime", "configure_logging",
           "flow_files", "load_flows", "make_senders", "quiet_libraries", "telegram_bot",
           "twilio_of"]

log = logging.getLogger(__name__)

QUIET_LOGGERS = ("httpx", "httpcore", "telegram", "twilio")
"""Libraries whose INFO/DEBUG records carry the bot token (in Telegram's URLs), phone
numbers and message bodies (Twilio's requests): kept at WARNING."""


def quiet_libraries() -> None:
    """Raise :data:`QUIET_LOGGERS` to WARNING, so their request logs never reach a handler."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def configure_logging(level: int = logging.INFO) -> None:
    """``kolot serve``'s logging: one line a record on stderr, the libraries quieted."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    quiet_libraries()

T = TypeVar("T")
Role = Literal["web", "sender", "all"]
FLOW_SUFFIXES = (".yaml", ".yml")
ALLOWED_UPDATES = ("message", "edited_message", "callback_query", "my_chat_member")
_REPORT_TRIES = 30


def flow_files(paths: Sequence[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix in FLOW_SUFFIXES)
        elif path.exists():
            yield path


def load_flows(paths: Sequence[Path], registry: FlowRegistry | None = None) -> FlowRegistry:
    """Every flow file under ``paths``, checked; raises ``FlowError`` with every error of
    every file, so one start shows all there is to fix."""
    registry = registry or FlowRegistry()
    problems: list[Diagnostic] = []
    found = False
    for path in flow_files(paths):
        found = True
        checked = check_file(path)
        if checked.flow is None or checked.errors:
            problems.extend(checked.errors or checked.diagnostics)
            continue
        registry.add_file(path)
    if problems:
        raise FlowError(problems)
    if not found:
        raise SettingsError(f"no flow files (*.yaml) under {', '.join(map(str, paths))}")
    return registry


def telegram_bot(settings: Settings) -> Bot | None:
    """The Bot API client, on aiohttp (see :mod:`bot.channels.telegram.transport`)."""
    if not settings.telegram_token:
        return None
    api = settings.telegram_api_url
    size = max(8, settings.sender_concurrency * 2)
    return Bot(
        str(settings.telegram_token),
        base_url=f"{api}/bot",
        base_file_url=f"{api}/file/bot",
        request=AiohttpRequest(connections=size, read_timeout=settings.telegram_timeout),
        get_updates_request=AiohttpRequest(connections=1, read_timeout=40.0),
    )


def twilio_of(settings: Settings) -> Client | None:
    """Twilio's client, when WhatsApp is configured (all three settings, or none)."""
    wanted = (settings.twilio_account_sid, settings.twilio_auth_token, settings.twilio_from)
    if not any(wanted):
        return None
    if not all(wanted):
        raise SettingsError("WhatsApp needs KOLOT_TWILIO_ACCOUNT_SID, "
                            "KOLOT_TWILIO_AUTH_TOKEN and KOLOT_TWILIO_FROM together")
    return twilio_client(str(settings.twilio_account_sid), str(settings.twilio_auth_token),
                         settings.twilio_api_url)


def make_senders(
    settings: Settings,
    session_factory: sessionmaker[Session],
    run_db: RunDb[Any],
    *,
    bot: Bot | None,
    twilio: Client | None,
    clock: Clock = utc_now,
    retry_delays: Sequence[timedelta] = RETRY_DELAYS,
    idle: float = 0.5,
) -> tuple[Sender | None, Sender | None]:
    """A sender for each configured channel (Telegram, WhatsApp), pacing under the caps
    in the shared rate store."""
    storage = rate_storage(settings.rate_limit_url)

    def sender(channel: Deliverer) -> Sender:
        return Sender(session_factory, channel, run_db, clock=clock, retry_delays=retry_delays,
                      concurrency=settings.sender_concurrency, idle=idle)

    telegram = whatsapp = None
    if bot is not None:
        telegram = sender(TelegramChannel(bot, Pace(TELEGRAM, settings.telegram_caps, storage)))
    if twilio is not None:
        status = f"{settings.public_url}{TWILIO_STATUS}" if settings.public_url else None
        whatsapp = sender(WhatsAppChannel(
            twilio, str(settings.twilio_from), Pace(WHATSAPP, settings.twilio_caps, storage),
            session_factory, run_db, templates=Templates.load(settings.whatsapp_templates),
            status_callback=status, interactive=settings.whatsapp_interactive, clock=clock,
            media=(settings.media, f"{settings.public_url}{MEDIA}") if settings.public_url
            else None))
    return telegram, whatsapp


@dataclass(frozen=True, slots=True)
class Reply:
    """A webhook's answer: the HTTP status and a short reason (never the input's text)."""

    status: int
    reason: str = "ok"


class Runtime:
    def __init__(
        self,
        settings: Settings,
        *,
        role: Role = "all",
        clock: Clock = utc_now,
        retry_delays: Sequence[timedelta] = RETRY_DELAYS,
        sender_idle: float = 0.5,
    ) -> None:
        self.settings = settings
        self.role = role
        self.registry = load_flows(settings.flows)
        self.default_flow = self._default_flow()
        upgrade(settings.database_url)
        self.engine = make_engine(settings.database_url)
        self.session_factory = make_session_factory(self.engine)
        sqlite = self.engine.dialect.name == "sqlite"
        self.executor = ThreadPoolExecutor(max_workers=1 if sqlite else 8,
                                           thread_name_prefix="kolot-db")
        # No KOLOT_PSEUDONYM_KEY (`kolot serve` won't start so; a test may): the process
        # makes a key of its own, see bot.pseudonyms.
        self.service = Service(self.session_factory, self.registry, clock=clock,
                               pseudonyms=Pseudonyms.from_key(settings.pseudonym_key))
        self.service.default_flow = settings.default_flow
        if settings.admins:  # KOLOT_ADMINS: their commands are answered in the chat
            self.service.admin = Desk(self.service, settings.admins,
                                      broadcasts=settings.broadcasts, media=settings.media)
        # A flood slowed down, overlong text cut (bot.abuse); windows shared like the caps.
        self.service.limit_abuse(settings.flood_rate, settings.rate_limit_url,
                                 exempt=settings.admins)
        self.intake = Intake(self.service, self.run_db, parallel=1 if sqlite else 4)
        self.bot = telegram_bot(settings)
        self.twilio = twilio_of(settings)
        sending = role in ("sender", "all")
        self.sender: Sender | None = None
        """Telegram's sender, in this process."""
        self.whatsapp_sender: Sender | None = None
        if sending:
            self.sender, self.whatsapp_sender = make_senders(
                settings, self.session_factory, self.run_db, bot=self.bot, twilio=self.twilio,
                clock=clock, retry_delays=retry_delays, idle=sender_idle)
        self.senders = [s for s in (self.sender, self.whatsapp_sender) if s is not None]
        self.ticker = Ticker(self.session_factory, self.registry, self.service,
                             media=settings.media)
        self.ticking = Ticking(self.ticker, self.run_db, clock, self.senders,
                               every=settings.tick_seconds) if sending else None
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def _default_flow(self) -> str | None:
        """The flow newcomers without an invite start; ``None`` with several flows and
        none named: each input then goes to its participant's flow, and a newcomer picks
        one of the open flows."""
        ids = self.registry.ids()
        wanted = self.settings.default_flow
        if wanted is not None:
            if wanted not in ids:
                raise SettingsError(f"KOLOT_DEFAULT_FLOW={wanted!r} is not among the loaded "
                                    f"flows ({', '.join(ids)})")
            return wanted if len(ids) == 1 else None
        return ids[0] if len(ids) == 1 else None

    async def run_db(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.executor, work)

    def ping(self) -> None:
        """The database answers (for ``/healthz``)."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    async def start(self) -> None:
        if self.bot is not None:
            await self.bot.initialize()  # getMe: a wrong token stops the start here
        for sender in self.senders:
            self._tasks.append(asyncio.create_task(sender.run(self._stop)))
        if self.ticking is not None:
            self.ticking.start()
        log.info("kolot serving as %s: flows %s, default %s", self.role,
                 ", ".join(self.registry.ids()), self.default_flow)

    async def stop(self) -> None:
        self._stop.set()
        if self.ticking is not None:
            self.ticking.stop()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.bot is not None:
            await self.bot.shutdown()
        if self.twilio is not None:
            http = self.twilio.http_client
            if isinstance(http, AsyncTwilioHttpClient):
                await http.close()
        self.executor.shutdown(wait=True)
        self.engine.dispose()

    async def poll(self) -> None:
        """Take updates by long polling instead of a webhook (no public URL needed)."""
        assert self.bot is not None
        await self.bot.delete_webhook()
        offset: int | None = None
        while not self._stop.is_set():
            try:
                updates = await self.bot.get_updates(offset=offset, timeout=25,
                                                     allowed_updates=list(ALLOWED_UPDATES))
            except Exception as exc:  # the network comes and goes; polling goes on
                log.warning("getUpdates failed (%s); trying again", type(exc).__name__)
                await asyncio.sleep(2)
                continue
            for update in updates:
                await self.telegram_update(update)
                offset = update.update_id + 1

    async def telegram_update(self, data: Mapping[str, Any] | Update) -> Reply:
        """Apply one Telegram update; its transaction has committed when this returns."""
        try:
            read = read_update(data.to_dict() if isinstance(data, Update) else data)
        except ValueError as exc:
            return Reply(400, str(exc))
        if read is None:
            return Reply(200, "ignored")
        if isinstance(read, Membership):
            await self.run_db(lambda: self.service.reachable(
                TELEGRAM, read.address, read.platform_id, read.reachable))
            return Reply(200)
        await self.intake.apply(read, self.default_flow)
        if self.sender is not None:
            self.sender.wake()
        return Reply(200)

    async def whatsapp_message(self, params: dict[str, str]) -> None:
        """Apply one incoming WhatsApp message (Twilio's form, its signature checked)."""
        read = read_message(params)
        if read is None:
            return
        await self.intake.apply(read, self.default_flow)
        if self.whatsapp_sender is not None:
            self.whatsapp_sender.wake()

    async def twilio_status(self, params: dict[str, str]) -> None:
        """Record Twilio's delivery report of a message we sent."""
        sid, status = params.get("MessageSid"), params.get("MessageStatus")
        if not sid or not status:
            raise ValueError("not a status report: MessageSid or MessageStatus missing")
        error = params.get("ErrorCode") or None
        held = held_reason(error, self.service.clock())
        # A report can overtake our own record of the message's sid (Twilio answers the
        # send, the sender writes the sid with its next batch): wait a little for it.
        for _ in range(_REPORT_TRIES):
            # Asked before the report is tried: a send recorded in between is then found.
            in_flight = await self.run_db(lambda: self.service.sending("whatsapp"))
            if await self.run_db(lambda: self.service.delivery(sid, status, error, held)):
                return
            if not in_flight:
                break  # no send whose sid is still to be written: not ours (an erased one's)
            await asyncio.sleep(0.1)
        log.info("a delivery report for a message that is not ours (or no longer is)")

    def reload_flows(self) -> list[str]:
        """Load changed flow files (SIGHUP). Runs in progress finish on the definition they
        started on; new runs take the new one. A file with errors keeps its old version."""
        notes: list[str] = []
        for path in flow_files(self.settings.flows):
            checked = check_file(path)
            if checked.flow is None or checked.errors:
                notes.extend(str(d) for d in checked.errors or checked.diagnostics)
                notes.append(f"{path}: kept the version loaded before")
                continue
            try:
                current = self.registry.current(checked.flow.id)
            except LookupError:
                current = None
            if current is None or current.sha256 != checked.flow.sha256:
                self.registry.add_file(path)
                notes.append(f"{path}: loaded {checked.flow.id} v{checked.flow.version}")
        return notes
