"""Deployment settings, read from the environment: secrets never live in files or flags.

Every name is ``KOLOT_*`` and documented in ``docs/deploy.md``. Reading them in one place
means a missing or malformed value is reported once, at start, with the variable's name.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from limits import parse

from bot.abuse import FLOOD_RATE
from bot.outbox.pace import Caps
from bot.pseudonyms import KEY_VARIABLE, MAKE_KEY, MIN_KEY_LENGTH
from storage.database import database_url

__all__ = ["TELEGRAM_API", "TELEGRAM_CAPS", "TWILIO_CAPS", "Settings", "SettingsError",
           "parse_admins", "pseudonym_key"]

TELEGRAM_API = "https://api.telegram.org"
TELEGRAM_CAPS = Caps(overall="29/second", chat="3 per 3 seconds", group="20/minute")
"""Telegram's limits: about 30 messages a second overall (we keep one under it: Telegram
counts arrivals, and the network bunches them), one a second in one chat with short bursts
tolerated (modelled as 3 in any 3 seconds), 20 a minute in a group."""
PAID_BROADCAST = "1000/second"
TWILIO_CAPS = Caps(overall="80/second", chat="6 per 3 seconds")
"""Twilio's default of 80 messages a second per WhatsApp sender; a reply of a few messages
to one person goes at once."""
"""Telegram's paid broadcasts (Telegram Stars) lift the overall cap to 1,000 a second."""


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    flows: tuple[Path, ...] = (Path("flows"),)
    default_flow: str | None = None
    public_url: str | None = None
    telegram_token: str | None = field(default=None, repr=False)
    telegram_secret: str | None = field(default=None, repr=False)
    telegram_api_url: str = TELEGRAM_API
    telegram_caps: Caps = TELEGRAM_CAPS
    rate_limit_url: str | None = None
    flood_rate: str | None = FLOOD_RATE
    """The most inputs one participant has applied in a moving window (see
    :mod:`bot.abuse`); ``None`` (``KOLOT_FLOOD_RATE=off``): no limit."""
    sender_concurrency: int = 64
    telegram_timeout: float = 10.0
    """Seconds to wait for the Bot API's answer before counting it a timeout (retried)."""
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = field(default=None, repr=False)
    twilio_from: str | None = None
    """The WhatsApp sender, ``whatsapp:+<E.164>``."""
    twilio_api_url: str | None = None
    twilio_caps: Caps = TWILIO_CAPS
    whatsapp_templates: Path | None = None
    whatsapp_interactive: bool = True
    tick_seconds: float = 30.0
    """How often the scheduler looks for phases, reminders and deadlines that came due."""
    media: Path = Path("media")
    """Where pictures made for participants (results charts) are kept, and served from
    ``/media/`` for WhatsApp, which fetches pictures by their public address."""
    max_body_bytes: int = 1_000_000
    admins: frozenset[tuple[str, str]] = frozenset()
    """Who may use the admin commands in the chat: ``(channel, address)`` as the channel
    stores the address (see :func:`parse_admins`)."""
    broadcasts: Path = Path("broadcasts")
    """The folder of prepared broadcast files an admin's ``/broadcast`` offers."""
    pseudonym_key: str | None = field(default=None, repr=False)
    """``KOLOT_PSEUDONYM_KEY``: the secret of the participants' pseudonyms (see
    :mod:`bot.pseudonyms`); ``kolot serve`` refuses to start without it."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        overall = get("KOLOT_TELEGRAM_RATE") or (
            PAID_BROADCAST if _flag(get("KOLOT_TELEGRAM_PAID_BROADCAST")) else
            TELEGRAM_CAPS.overall
        )
        caps = Caps(
            overall=_rate("KOLOT_TELEGRAM_RATE", overall),
            chat=_rate("KOLOT_TELEGRAM_CHAT_RATE", get("KOLOT_TELEGRAM_CHAT_RATE")
                       or TELEGRAM_CAPS.chat),
            group=_rate("KOLOT_TELEGRAM_GROUP_RATE", get("KOLOT_TELEGRAM_GROUP_RATE")
                        or TELEGRAM_CAPS.group or ""),
        )
        flows = get("KOLOT_FLOWS")
        return cls(
            database_url=database_url(get("KOLOT_DATABASE_URL")),
            flows=tuple(Path(p) for p in flows.split(os.pathsep)) if flows else (Path("flows"),),
            default_flow=get("KOLOT_DEFAULT_FLOW"),
            public_url=(get("KOLOT_PUBLIC_URL") or "").rstrip("/") or None,
            telegram_token=get("KOLOT_TELEGRAM_TOKEN"),
            telegram_secret=get("KOLOT_TELEGRAM_SECRET"),
            telegram_api_url=(get("KOLOT_TELEGRAM_API_URL") or TELEGRAM_API).rstrip("/"),
            telegram_caps=caps,
            rate_limit_url=get("KOLOT_RATE_LIMIT_URL"),
            flood_rate=None if _off(get("KOLOT_FLOOD_RATE")) else
            _rate("KOLOT_FLOOD_RATE", get("KOLOT_FLOOD_RATE") or FLOOD_RATE),
            sender_concurrency=_int("KOLOT_SENDER_CONCURRENCY",
                                    get("KOLOT_SENDER_CONCURRENCY"), 64),
            telegram_timeout=float(_int("KOLOT_TELEGRAM_TIMEOUT",
                                        get("KOLOT_TELEGRAM_TIMEOUT"), 10)),
            twilio_account_sid=get("KOLOT_TWILIO_ACCOUNT_SID"),
            twilio_auth_token=get("KOLOT_TWILIO_AUTH_TOKEN"),
            twilio_from=_whatsapp_sender(get("KOLOT_TWILIO_FROM")),
            twilio_api_url=(get("KOLOT_TWILIO_API_URL") or "").rstrip("/") or None,
            twilio_caps=Caps(
                overall=_rate("KOLOT_TWILIO_RATE", get("KOLOT_TWILIO_RATE")
                              or TWILIO_CAPS.overall),
                chat=TWILIO_CAPS.chat,
            ),
            whatsapp_templates=_file("KOLOT_WHATSAPP_TEMPLATES",
                                     get("KOLOT_WHATSAPP_TEMPLATES")),
            whatsapp_interactive=not _off(get("KOLOT_WHATSAPP_INTERACTIVE")),
            tick_seconds=float(_int("KOLOT_TICK_SECONDS", get("KOLOT_TICK_SECONDS"), 30)),
            media=Path(get("KOLOT_MEDIA_DIR") or "media"),
            admins=parse_admins(get("KOLOT_ADMINS")),
            broadcasts=_folder("KOLOT_BROADCASTS", get("KOLOT_BROADCASTS"), Path("broadcasts")),
            pseudonym_key=pseudonym_key(env),
        )


def pseudonym_key(env: Mapping[str, str] | None = None) -> str | None:
    """``KOLOT_PSEUDONYM_KEY``, checked (``None`` when it is not set): at least
    :data:`bot.pseudonyms.MIN_KEY_LENGTH` characters. Read on its own too, by ``kolot
    chat``, which needs no other setting. The message never shows the key."""
    env = os.environ if env is None else env
    value = env.get(KEY_VARIABLE, "").strip()
    if not value:
        return None
    if len(value.encode("utf-8")) < MIN_KEY_LENGTH:
        raise SettingsError(f"{KEY_VARIABLE} is too short ({len(value)} characters): use at "
                            f"least {MIN_KEY_LENGTH} random ones, such as what `{MAKE_KEY}` "
                            "prints")
    return value


_ADMIN_CHANNELS = ("telegram", "whatsapp")
_TELEGRAM_CHAT = re.compile(r"[1-9][0-9]{0,19}")
_PHONE = re.compile(r"\+[1-9][0-9]{6,14}")
_PHONE_NOISE = re.compile(r"[\s().-]")


def parse_admins(value: str | None) -> frozenset[tuple[str, str]]:
    """``KOLOT_ADMINS``: comma-separated ``channel:address``, each address written the way
    its channel stores it: a Telegram private chat's id (``telegram:123456``), a WhatsApp
    number as Twilio sends it, ``whatsapp:+<E.164>`` (``whatsapp:+972501234567``; spaces,
    dashes and brackets in the number are dropped, and a missing ``+`` is added)."""
    found: set[tuple[str, str]] = set()
    for entry in (value or "").split(","):
        entry = entry.strip()
        if not entry:
            continue
        channel, _colon, address = entry.partition(":")
        channel, address = channel.strip().lower(), address.strip()
        if channel == "telegram" and _TELEGRAM_CHAT.fullmatch(address):
            found.add((channel, address))
            continue
        if channel == "whatsapp":
            number = _PHONE_NOISE.sub("", address.removeprefix("whatsapp:"))
            number = number if number.startswith("+") else f"+{number}"
            if _PHONE.fullmatch(number):
                found.add((channel, f"whatsapp:{number}"))
                continue
        raise SettingsError(
            f"KOLOT_ADMINS: {entry!r} is not channel:address (channels: "
            f"{', '.join(_ADMIN_CHANNELS)}), such as telegram:123456 (the chat id) or "
            "whatsapp:+972501234567")
    return frozenset(found)


def _folder(name: str, value: str | None, default: Path) -> Path:
    """A folder that must exist when it is named (the default may be missing: nothing
    prepared)."""
    if value is None:
        return default
    if not Path(value).is_dir():
        raise SettingsError(f"{name}={value!r}: no such folder")
    return Path(value)


def _whatsapp_sender(value: str | None) -> str | None:
    if value is None:
        return None
    sender = value if value.startswith("whatsapp:") else f"whatsapp:{value}"
    if not sender.removeprefix("whatsapp:").startswith("+"):
        raise SettingsError("KOLOT_TWILIO_FROM must be a WhatsApp sender, whatsapp:+<number>")
    return sender


def _file(name: str, value: str | None) -> Path | None:
    if value is None:
        return None
    if not Path(value).is_file():
        raise SettingsError(f"{name}={value!r}: no such file")
    return Path(value)


def _off(value: str | None) -> bool:
    return (value or "").lower() in ("0", "false", "no", "off")


def _flag(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes", "on")


def _rate(name: str, value: str) -> str:
    try:
        parse(value)
    except ValueError as exc:
        raise SettingsError(f"{name}={value!r} is not a rate such as '30/second' or "
                            "'3 per 3 seconds'") from exc
    return value


def _int(name: str, value: str | None, default: int) -> int:
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError as exc:
        raise SettingsError(f"{name}={value!r} is not a whole number") from exc
    if number < 1:
        raise SettingsError(f"{name} must be at least 1")
    return number
