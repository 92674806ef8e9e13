"""Delivering outbox rows through the Bot API with python-telegram-bot's ``Bot``.

Telegram's answers become outcomes the sender acts on (:mod:`bot.outbox.outcomes`):

* 429 ``retry_after``: pause the whole bot that long (Telegram's flood control is per bot),
  the row goes back unsent.
* Network errors and 5xx: retried with backoff, up to a cap on attempts. A request that
  went out but got no answer (a read timeout, a dropped connection) may have arrived:
  a conversation's message is retried, a broadcast's is not (it becomes unconfirmed).
* 403 (blocked by the user, deactivated, never started the bot) and 400 "chat not found":
  the participant is unreachable; nothing more is sent to them until they unblock.
* Any other 400: this message can't go as it is; it fails with Telegram's description and
  the person's later messages still go. An edit that changes nothing, or of a message
  that is gone, is as good as done.
* 401/404 (a wrong token): nothing can be sent; the channel pauses and says so loudly,
  and rows wait for the fix instead of failing.

Logs name the outbox row and the error's kind, never a chat id or a text.
"""

from __future__ import annotations

import logging
import warnings
from contextlib import nullcontext
from datetime import timedelta
from pathlib import Path
from typing import Any

from telegram import Bot, InputFile
from telegram.error import (
    BadRequest,
    ChatMigrated,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.warnings import PTBDeprecationWarning

from bot.channels.base import Outbound
from bot.channels.telegram.render import Call, Upload, render
from bot.channels.telegram.transport import Unanswered
from bot.i18n import translator
from bot.outbox.outcomes import (
    Doubt,
    Failed,
    Gate,
    Outcome,
    Pause,
    Retry,
    Sent,
    Superseded,
    Unreachable,
)
from bot.outbox.pace import Pace
from storage.repositories.outbox import Claimed

__all__ = ["TelegramChannel", "retry_after"]

log = logging.getLogger(__name__)

_GONE = ("chat not found", "user not found", "peer_id_invalid")
_DONE_ANYWAY = ("message is not modified", "message to edit not found",
                "message can't be edited", "query is too old")
_BAD_TOKEN_PAUSE = 60.0


class TelegramChannel:
    name = "telegram"

    def __init__(self, bot: Bot, pace: Pace) -> None:
        self.bot = bot
        self.pace = pace

    async def deliver(self, row: Claimed, message: Outbound, *,
                      gate: Gate | None = None) -> Outcome:
        last: str | None = None
        group = row.address.startswith("-")
        for call in render(row.id, row.address, message, translator(message.language)):
            paced = self.pace.slot(str(row.participant_id), group=group) if call.paced \
                else nullcontext()
            try:
                async with paced:
                    if gate is not None and not await gate():
                        return Superseded()
                    gate = None  # asked before the first call only
                    result = await self._call(call)
            except TelegramError as error:
                return _outcome(row, call, error)
            if isinstance(result, dict) and "message_id" in result:
                last = str(result["message_id"])
        return Sent(last)

    async def _call(self, call: Call) -> Any:
        """One API call through ``Bot.do_api_request``: the Bot's request machinery and
        errors, without building a ``Message`` from every answer (an eighth of a busy
        sender's time, measured). The method is named in lower case, as the Bot API
        allows (its methods are case-insensitive), because the Bot warns when a generic
        request names a method it has a helper for."""
        kwargs = dict(call.kwargs)
        photo = kwargs.get("photo")
        if isinstance(photo, str) and not photo.startswith(("http://", "https://")):
            kwargs["photo"] = InputFile(Path(photo).read_bytes(), filename=Path(photo).name)
        document = kwargs.get("document")
        if isinstance(document, Upload):
            kwargs["document"] = InputFile(document.content.encode("utf-8"),
                                           filename=document.name)
        return await self.bot.do_api_request(call.method.lower(), api_kwargs=kwargs)


def retry_after(error: RetryAfter) -> float:
    """Seconds to wait, read without python-telegram-bot's int-or-timedelta warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _outcome(row: Claimed, call: Call, error: TelegramError) -> Outcome:
    reason = f"{type(error).__name__}: {error.message}"
    description = error.message.lower()
    if isinstance(error, RetryAfter):
        return Pause(retry_after(error), reason)
    if isinstance(error, (InvalidToken, EndPointNotFound)):  # 401/404: the token is wrong
        log.error("telegram refused the bot token (%s); sending is paused", type(error).__name__)
        return Pause(_BAD_TOKEN_PAUSE, reason)
    if isinstance(error, Forbidden):
        return Unreachable(reason)
    if isinstance(error, ChatMigrated):
        return Failed(f"{reason} (the group moved to a new id)")
    if isinstance(error, BadRequest):
        if any(gone in description for gone in _GONE):
            return Unreachable(reason)
        if call.method != "sendMessage" and any(ok in description for ok in _DONE_ANYWAY):
            return Sent()
        return Failed(reason)
    if isinstance(error, Unanswered):  # it went out; did it arrive?
        return Doubt(reason)
    if isinstance(error, NetworkError):  # 5xx, no connection, timeouts before sending
        return Retry(reason)
    return Retry(reason)
