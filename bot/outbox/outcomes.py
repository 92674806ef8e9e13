"""What became of one attempt to deliver an outbox row, as a channel reports it.

The channel knows its platform's errors; the sender only needs to know what to do next:
record it sent, try again later, pause the whole channel, stop sending to that person, or
give up on this one message. Every outcome but ``Sent`` keeps the platform's reason, so a
row that was not delivered says why.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

__all__ = ["Doubt", "Failed", "Gate", "Held", "Outcome", "Pause", "Retry", "Sent",
           "Superseded", "Unreachable"]


@dataclass(frozen=True, slots=True)
class Sent:
    """Delivered; ``platform_id`` is the platform's id of the (last) message, if any."""

    platform_id: str | None = None


@dataclass(frozen=True, slots=True)
class Retry:
    """A passing failure (a timeout, a 5xx): try again after the backoff."""

    reason: str


@dataclass(frozen=True, slots=True)
class Doubt:
    """The request went out but no answer came back (a read timeout, the connection
    dropped): it may have arrived. A conversation's message is tried again, like
    :class:`Retry`; a broadcast's becomes ``unconfirmed`` and is not sent twice."""

    reason: str


@dataclass(frozen=True, slots=True)
class Superseded:
    """Not sent: the row's claim was taken back before its call began (``kolot broadcast``
    resuming), so whoever holds it now sends it. Nothing is recorded."""


Gate = Callable[[], Awaitable[bool]]
"""Asked right before a broadcast row's first platform call: ``True`` once the attempt is
recorded, ``False`` if the row is no longer this sender's (:class:`Superseded`)."""


@dataclass(frozen=True, slots=True)
class Pause:
    """The platform asked us to slow down (429 ``retry_after``): nothing on this channel is
    sent for ``seconds``; the row goes back unsent, its attempt not counted."""

    seconds: float
    reason: str


@dataclass(frozen=True, slots=True)
class Unreachable:
    """The person can't be reached (blocked the bot, deleted their account): this row and
    every later one fail, and the participant is marked so nothing more is queued for
    them in vain."""

    reason: str


@dataclass(frozen=True, slots=True)
class Failed:
    """This message can't be delivered as it is (the platform refused it): it fails, the
    person's later messages still go."""

    reason: str


@dataclass(frozen=True, slots=True)
class Held:
    """It may not be sent as it is now (WhatsApp's 24-hour window closed and no template
    is configured for it): kept as ``held`` with the reason, for an operator to see
    (``kolot outbox status``), never sent to fail. The person's later messages still go."""

    reason: str


Outcome = Sent | Retry | Doubt | Pause | Unreachable | Failed | Held | Superseded
