"""Abuse limits on what participants send: a flood is slowed down, an overlong text is cut.

Both are decided in the service, inside the input's transaction, after the input is
recorded as processed and before anything else looks at it (see ``Service.limit_abuse``),
so a notice is an outbox row written with that record, and a redelivered input changes
nothing, whether it was applied, cut or held back.

* **Floods.** One participant (channel and address) gets at most :data:`FLOOD_RATE`
  inputs applied in any moving window (the ``limits`` library's
  ``MovingWindowRateLimiter``, as the senders' caps in :mod:`bot.outbox.pace`). An input
  over it is recorded but not applied: it answers nothing and moves no run. The first
  one held back in a window gets :data:`bot.channels.texts.FLOODING` (at most one notice
  per :data:`NOTICE_RATE`, so a flood gets one notice, not one per message); once the
  window has moved on, the next input answers the question the participant is at. The
  windows live where the senders' do (``KOLOT_RATE_LIMIT_URL``): in Redis, so every web
  process counts the same participant together, or, without it, in this process's memory
  (:class:`LocalWindows`, on the service's clock).
  ``/stop`` and ``/delete`` are never held back, nor is an admin (``KOLOT_ADMINS``: they
  try flows out at speed, and are few and known). Only the platform channels are
  limited; the console is the organiser's own terminal.
* **Overlong text.** A text over :data:`TEXT_LIMIT` characters is cut to it (on a word
  boundary where there is one near, never inside a character or a grapheme's marks) and
  the participant is told how much was kept, before the flow's own answer. The step's own
  ``max_length`` still applies to what is left.

A rate store that fails (Redis gone) lets inputs through and says so in the log: the
limit protects the bot, it must not stop it. Keys hold a hash of the address, never the
address itself; nothing here logs an address.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import unicodedata
from collections import deque
from collections.abc import Collection
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from bot.channels import texts
from bot.channels.base import Inbound, Outbound
from bot.engine.bidi import fill
from bot.engine.texts import plural
from bot.i18n import translator

if TYPE_CHECKING:
    from storage import UnitOfWork

__all__ = ["FLOOD_RATE", "LIMITED_CHANNELS", "NOTICE_RATE", "TEXT_LIMIT", "Guard", "LocalWindows",
           "cut", "flood_storage"]

log = logging.getLogger(__name__)

FLOOD_RATE = "20 per 10 seconds"
"""The most inputs one participant has applied in any 10 seconds (``KOLOT_FLOOD_RATE``).
People tapping and typing as fast as they can stay well under it (a run of quick taps is
a handful a second, for a moment); a script or a stuck key goes over it at once."""
NOTICE_RATE = "1 per 10 seconds"
"""The flood notice: once per flood window, however many inputs are held back in it."""
TEXT_LIMIT = 4096
"""The longest text taken, in characters: the longest message Telegram delivers (4,096)
and the longest WhatsApp text. Twilio's 1,600 bounds only what we send. A real message is
never cut, so a long answer meets its step's own ``max_length`` (the default is 2,000),
which asks for a shorter one rather than losing the rest; what is cut is what no client
sends (a forged or relayed update, a pasted file through a bridge)."""
LIMITED_CHANNELS = frozenset({"telegram", "whatsapp"})
"""The channels whose inputs are held to these limits."""

_NEVER_HELD = frozenset({"stop", "delete"})
"""Commands a flood never holds back: asking for no more messages, or to be erased."""
_SWEEP_EVERY = 4096
"""Hits between two sweeps of the keys gone quiet in :class:`LocalWindows`."""
_WORD_SLACK = 80
"""How far back from the limit a cut looks for a space to cut at, in characters."""
_JOINERS = frozenset({"\u200d", "\u034f"})  # zero-width joiner, combining grapheme joiner


class LocalWindows:
    """Moving windows in this process's memory, counted on the time the caller gives (the
    service's clock, so tests move it).

    Not ``limits``' ``MemoryStorage``: its timer thread sweeps every key a hundred times a
    second, which with 750 participants took 15% of a busy webhook's time
    (bench/telegram.py, ``KOLOT_FLOOD_RATE=off`` against the default, 2026-12-01). Here a
    key is trimmed when it is hit, and keys gone quiet are dropped every
    :data:`_SWEEP_EVERY` hits.
    """

    def __init__(self) -> None:
        self._windows: dict[str, tuple[float, deque[float]]] = {}
        self._lock = threading.Lock()  # the service runs on several database threads
        self._hits = 0

    def hit(self, key: str, limit: int, seconds: float, now: float) -> bool:
        """Count one hit at ``now`` if fewer than ``limit`` fell in the last ``seconds``."""
        with self._lock:
            self._hits += 1
            if self._hits % _SWEEP_EVERY == 0:
                self._windows = {k: (length, times) for k, (length, times)
                                 in self._windows.items() if times and times[-1] > now - length}
            times = self._windows.setdefault(key, (seconds, deque()))[1]
            while times and times[0] <= now - seconds:
                times.popleft()
            if len(times) >= limit:
                return False
            times.append(now)
            return True


def flood_storage(url: str | None) -> Storage | None:
    """The shared store of flood windows for ``KOLOT_RATE_LIMIT_URL``, read synchronously
    (the service runs on the database threads): ``async+redis://host`` is
    ``redis://host`` here. ``None`` without one (or with ``memory://``): this process
    counts on its own, in :class:`LocalWindows`."""
    sync = (url or "memory://").removeprefix("async+")
    if sync.startswith("memory://"):
        return None
    # An input waits for the store with its participant locked: a store that does not
    # answer must fail soon (and the input go through), not hold them all.
    options = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5} \
        if sync.startswith(("redis", "rediss", "valkey")) else {}
    storage = storage_from_string(sync, wrap_exceptions=True, **options)
    if not isinstance(storage, Storage):  # pragma: no cover - the asyncio stores
        raise ValueError(f"{url!r} is not a rate-limit store for the flood limit")
    return storage


class Guard:
    """The limits, for one service; ``storage`` is shared by every process that should
    count a participant's inputs together. ``rate=None``: floods are not limited (text is
    still cut)."""

    def __init__(
        self,
        storage: Storage | None = None,
        *,
        exempt: Collection[tuple[str, str]] = (),
        rate: str | None = FLOOD_RATE,
        text_limit: int = TEXT_LIMIT,
        channels: Collection[str] = LIMITED_CHANNELS,
    ) -> None:
        self.storage = storage
        self._limiter = MovingWindowRateLimiter(storage) if storage is not None else None
        self._local = LocalWindows()
        self._rate = parse(rate) if rate else None
        self._notice = parse(NOTICE_RATE)
        self.exempt = frozenset(exempt)
        self.text_limit = text_limit
        self.channels = frozenset(channels)

    def screen(
        self,
        uow: UnitOfWork,
        inbound: Inbound,
        participant_id: int,
        language: str | None,
        now: datetime,
    ) -> tuple[Inbound | None, list[Outbound]]:
        """The input to apply (``None``: held back, a flood) and the notices queued for it,
        in the caller's transaction."""
        if inbound.channel not in self.channels:
            return inbound, []
        language = language or inbound.language_hint
        if not self.admits(inbound, now):
            if not self.first_held(inbound, now):
                return None, []
            notice = Outbound(translator(language).gettext(texts.FLOODING), language=language,
                              despite_stop=True)  # an answer to what they sent
            self._say(uow, inbound, participant_id, notice, now)
            return None, [notice]
        if inbound.text is None or len(inbound.text) <= self.text_limit:
            return inbound, []
        kept = cut(inbound.text, self.text_limit)
        template = plural(translator(language), texts.CUT_TO, len(kept))
        notice = Outbound(fill(template, length=len(kept)), language=language)
        self._say(uow, inbound, participant_id, notice, now)
        return replace(inbound, text=kept), [notice]

    def admits(self, inbound: Inbound, now: datetime | None = None) -> bool:
        """Whether the input is within its participant's rate (and counts it if so);
        ``now`` for the windows in this process's memory (default: the time of day)."""
        if (self._rate is None or inbound.command in _NEVER_HELD
                or (inbound.channel, inbound.address) in self.exempt):
            return True
        return self._hit(self._rate, "flood", inbound, now)

    def first_held(self, inbound: Inbound, now: datetime | None = None) -> bool:
        """Whether this is the first input of a flood held back: the one that is told."""
        return self._hit(self._notice, "flood-notice", inbound, now)

    def _hit(self, item: RateLimitItem, kind: str, inbound: Inbound,
             now: datetime | None) -> bool:
        who = hashlib.blake2b(f"{inbound.channel}:{inbound.address}".encode(),
                              digest_size=12).hexdigest()
        if self._limiter is None:
            at = now.timestamp() if now is not None else time.time()
            return self._local.hit(f"{kind}/{inbound.channel}/{who}", item.amount,
                                   item.get_expiry(), at)
        try:
            return self._limiter.hit(item, "kolot", kind, inbound.channel, who)
        except StorageError as exc:
            log.warning("flood limit not checked: the rate store failed (%s)",
                        type(exc.storage_error).__name__)
            return True

    @staticmethod
    def _say(uow: UnitOfWork, inbound: Inbound, participant_id: int, notice: Outbound,
             now: datetime) -> None:
        uow.outbox.enqueue(participant_id, inbound.channel, inbound.address,
                           notice.to_payload(), now=now)


def cut(text: str, limit: int = TEXT_LIMIT) -> str:
    """``text`` cut to at most ``limit`` characters: at the last space in the last
    :data:`_WORD_SLACK` characters if there is one, else where a grapheme ends (a letter
    keeps its marks, an emoji its joiners, modifiers and selectors, a flag both its
    halves), and never between the halves of a surrogate pair. A "grapheme" longer than
    the slack (thousands of stacked marks) is cut at the limit itself."""
    if len(text) <= limit:
        return text
    end = limit
    while end > limit - _WORD_SLACK and end > 1 and _splits(text, end):
        end -= 1
    if _splits(text, end):
        end = limit - 1 if _high_surrogate(text[limit - 1]) else limit
    elif not (text[end].isspace() or text[end - 1].isspace()):
        space = next((n for n in range(end - 1, max(end - _WORD_SLACK, 0), -1)
                      if text[n].isspace()), None)
        if space is not None:
            end = space
    return text[:end].rstrip() or text[:end]


def _splits(text: str, end: int) -> bool:
    """Whether cutting ``text`` before index ``end`` would split a character or grapheme."""
    before, after = text[end - 1], text[end]
    if _high_surrogate(before):  # half of a pair (a str holds one only if decoded so)
        return True
    if before in _JOINERS or _extends(after):
        return True
    if _regional(before) and _regional(after):  # flags: pairs of regional indicators
        run = 0
        while end - 1 - run >= 0 and _regional(text[end - 1 - run]):
            run += 1
        return run % 2 == 1
    return False


def _extends(char: str) -> bool:
    """Belongs to the grapheme before it: a combining mark, a joiner, a variation
    selector, an emoji skin-tone modifier or tag, a low surrogate."""
    code = ord(char)
    return (
        unicodedata.category(char) in ("Mn", "Mc", "Me")
        or char in _JOINERS
        or 0xFE00 <= code <= 0xFE0F
        or 0x1F3FB <= code <= 0x1F3FF
        or 0xE0020 <= code <= 0xE007F
        or 0xE0100 <= code <= 0xE01EF
        or 0xDC00 <= code <= 0xDFFF
    )


def _high_surrogate(char: str) -> bool:
    return 0xD800 <= ord(char) <= 0xDBFF


def _regional(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF
