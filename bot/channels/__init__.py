"""Channel adapters: platform events in as :class:`Inbound`, outbox messages out."""

from bot.channels.base import Inbound, Outbound

__all__ = ["Inbound", "Outbound"]
