"""Draining the outbox: claim due messages, hand them to a channel, record the outcome."""

from bot.outbox.drain import drain

__all__ = ["drain"]
