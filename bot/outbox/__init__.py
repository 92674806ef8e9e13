"""Draining the outbox: claim due messages, hand them to a channel, record the outcome."""

from bot.outbox.drain import drain, release

__all__ = ["drain", "release"]
