"""The Telegram channel: updates in (:mod:`.updates`), Bot API calls out (:mod:`.render`,
:mod:`.client`), through python-telegram-bot's types and ``Bot``."""

import os

# python-telegram-bot 22 moves time periods (``RetryAfter.retry_after``) to ``timedelta``
# and warns on every 429 until a program opts in; Kolot reads either, so it opts in.
os.environ.setdefault("PTB_TIMEDELTA", "true")

from bot.channels.telegram.client import TelegramChannel
from bot.channels.telegram.render import parse_callback, render
from bot.channels.telegram.updates import CHANNEL, Membership, read_update

__all__ = ["CHANNEL", "Membership", "TelegramChannel", "parse_callback", "read_update", "render"]
