"""Telegram updates as Kolot inputs: what a webhook or ``getUpdates`` delivered, read once.

Only private chats are conversations; updates from groups and channels, and kinds Kolot
does not use, read as ``None`` (acknowledged, nothing stored). The update's ``update_id``
is the input's key, so a redelivered update changes nothing; ids are unique but can jump,
so they are never compared with a maximum.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from telegram import Bot, ChatMember, Message, Update

from bot.channels.base import CommandName, Inbound, Tap
from bot.channels.telegram.render import parse_callback

__all__ = ["CHANNEL", "Membership", "Read", "read_update"]

CHANNEL = "telegram"
_COMMANDS: dict[str, CommandName] = {
    "start": "start",
    "help": "help",
    "back": "back",
    "skip": "skip",
    "restart": "restart",
    "stop": "stop",
    "mydata": "mydata",
    "delete": "delete",
}
_COMMAND = re.compile(r"/([A-Za-z0-9_]{1,32})(?:@[A-Za-z0-9_]{1,64})?(?:\s+(.*))?", re.DOTALL)
_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""What Telegram allows in a deep link's ``start`` parameter."""


@dataclass(frozen=True, slots=True)
class Membership:
    """The participant blocked the bot (``reachable=False``) or unblocked it."""

    address: str
    platform_id: str
    reachable: bool


Read = Inbound | Membership | None


def read_update(data: Mapping[str, Any], bot: Bot | None = None) -> Read:
    """What one update means for Kolot. Raises ``ValueError`` for JSON that is no update."""
    try:
        update = Update.de_json(dict(data), bot)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise ValueError(f"not a Telegram update: {type(exc).__name__}") from exc
    if not isinstance(update.update_id, int) or isinstance(update.update_id, bool):
        raise ValueError("not a Telegram update: update_id is not an integer")
    try:
        return _meaning(update)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        # de_json builds objects without checking their required fields or their types:
        # a chat-less message or a list where text goes surfaces only when read.
        raise ValueError(f"not a Telegram update: {type(exc).__name__}") from exc


def _meaning(update: Update) -> Read:
    key = str(update.update_id)
    if update.message is not None:
        return _message(update.message, key)
    if update.edited_message is not None:
        chat = update.edited_message.chat
        return Inbound(CHANNEL, str(chat.id), key, unreadable="edit") if chat.type == "private" \
            else None
    if update.callback_query is not None:
        query = update.callback_query
        if query.from_user is None:
            raise ValueError("a callback query without its sender")
        chat_id = query.message.chat.id if query.message is not None else query.from_user.id
        if query.message is not None and query.message.chat.type != "private":
            return None
        tap = parse_callback(query.data) or Tap(0, ())  # data we never made: a stale tap
        message_ref = str(query.message.message_id) if query.message is not None else None
        return Inbound(
            CHANNEL,
            str(chat_id),
            key,
            tap=Tap(tap.row, tap.picks, tap.final, message_ref, _string(query.id)),
            language_hint=_hint(query.from_user),
        )
    if update.my_chat_member is not None:
        change = update.my_chat_member
        if change.chat.type != "private":
            return None
        status = change.new_chat_member.status
        if status in (ChatMember.BANNED, ChatMember.LEFT):
            return Membership(str(change.chat.id), key, reachable=False)
        if status == ChatMember.MEMBER:
            return Membership(str(change.chat.id), key, reachable=True)
    return None


def _message(message: Message, key: str) -> Inbound | None:
    if message.chat.type != "private":
        return None
    address = str(message.chat.id)
    hint = _hint(message.from_user)
    text = message.text
    if text is None:
        if _carries_media(message):
            return Inbound(CHANNEL, address, key, unreadable="media", language_hint=hint)
        return None  # a service message (pinned, chat photo changed): nothing to answer
    command = _COMMAND.fullmatch(text.strip())
    if command is not None:
        name = _COMMANDS.get(command.group(1).lower())
        argument = (command.group(2) or "").strip()
        if name == "start":
            payload = argument if _PAYLOAD.fullmatch(argument) else None
            return Inbound(CHANNEL, address, key, command="start", start_payload=payload,
                           language_hint=hint)
        if name is not None:
            return Inbound(CHANNEL, address, key, command=name, language_hint=hint)
    return Inbound(CHANNEL, address, key, text=text, language_hint=hint)


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"a {type(value).__name__} where Telegram sends a string")
    return value


def _hint(user: Any) -> str | None:
    """The client's interface language, when it is one (a hint: junk is no hint)."""
    code = getattr(user, "language_code", None) if user is not None else None
    return code if isinstance(code, str) else None


def _carries_media(message: Message) -> bool:
    return bool(
        message.effective_attachment
        or message.sticker
        or message.caption
        or message.dice
        or message.poll
        or message.location
        or message.contact
    )
