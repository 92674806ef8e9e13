"""The Telegram channel: updates in (:mod:`.updates`), Bot API calls out (:mod:`.render`,
:mod:`.client`), through python-telegram-bot's types and ``Bot``."""

from bot.channels.telegram.client import TelegramChannel
from bot.channels.telegram.render import parse_callback, render
from bot.channels.telegram.updates import CHANNEL, Membership, read_update

__all__ = ["CHANNEL", "Membership", "TelegramChannel", "parse_callback", "read_update", "render"]
