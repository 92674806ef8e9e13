"""One admin input being answered, and the admin's own outbox rows read back.

The admin commands keep no memory of their own: what a conversation is waiting for lives
in the payloads of the messages it sent the admin, under the key :data:`STATE` (an outbox
row's payload is JSON the senders ignore beyond the message). A tap names its row (the
row id in Telegram's callback data; on WhatsApp the message's sid, stored on the row once
sent), so the tapped message says what the buttons mean, whichever process sent it and
whichever process takes the tap. Typed input (the text of a broadcast, a number for a
button where WhatsApp shows numbered text) answers the newest message we wrote to the
admin, if it is one of these and not older than :data:`FRESH`.

What an admin does is recorded in the admins' audit trail with :meth:`Turn.audit`, in the
same transaction as the action.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import select

from bot.channels.base import Inbound, Outbound, Tap
from bot.engine import Button, Translator
from bot.engine.bidi import fill
from storage import UnitOfWork
from storage.models import OutboxMessage, Participant

__all__ = ["FRESH", "STATE", "Said", "Turn", "admin_actor", "newest_said", "tapped"]

STATE = "admin"
"""The payload key of an admin message's conversation state."""
FRESH = timedelta(hours=1)
"""How long a question of the broadcast conversation waits for its answer."""
_LOOK_BACK = 8
"""Rows read back when looking for the newest message we wrote (acknowledgements of taps
and messages we wrote unasked are passed over)."""


class Said(NamedTuple):
    """A message we wrote to the admin, as stored."""

    id: int
    payload: dict[str, Any]
    created_at: datetime

    @property
    def state(self) -> dict[str, Any]:
        found = self.payload.get(STATE)
        return found if isinstance(found, dict) else {}

    @property
    def message(self) -> Outbound:
        return Outbound.from_payload(self.payload)


def _rows(participant_id: int, channel: str) -> Any:
    return (select(OutboxMessage.id, OutboxMessage.payload, OutboxMessage.created_at)
            .where(OutboxMessage.participant_id == participant_id,
                   OutboxMessage.channel == channel))


def tapped(uow: UnitOfWork, participant_id: int, channel: str, tap: Tap) -> Said | None:
    """The admin message whose buttons were tapped: by our row id, by the platform's id
    of the message, or (where the platform names neither) the newest one we wrote."""
    if tap.row is None and tap.message_ref is None:
        return newest_said(uow, participant_id, channel)
    query = _rows(participant_id, channel)
    if tap.row is not None:
        query = query.where(OutboxMessage.id == tap.row)
    else:
        query = query.where(OutboxMessage.platform_message_id == tap.message_ref)
    row = uow.session.execute(query.order_by(OutboxMessage.id.desc()).limit(1)).first()
    if row is None:
        return None
    said = Said(int(row.id), dict(row.payload), row.created_at)
    return said if said.state else None


def newest_said(uow: UnitOfWork, participant_id: int, channel: str) -> Said | None:
    """The newest message we wrote to the admin in answer to them, if it is an admin
    message. A tap's acknowledgement and messages written unasked (reminders,
    broadcasts, results) don't count; an edit does, and closes what it edited."""
    query = _rows(participant_id, channel).order_by(OutboxMessage.id.desc()).limit(_LOOK_BACK)
    for row in uow.session.execute(query):
        payload = dict(row.payload)
        if payload.get("action") == "answer" or payload.get("purpose"):
            continue
        said = Said(int(row.id), payload, row.created_at)
        return said if said.state and not payload.get("action") else None
    return None


class Turn:
    """An admin's input being answered: replies go to the outbox in the input's
    transaction, in the admin's language, even after a ``/stop`` (they asked)."""

    def __init__(self, uow: UnitOfWork, inbound: Inbound, admin: Participant, now: datetime,
                 tr: Translator, language: str | None) -> None:
        self.uow, self.inbound, self.admin, self.now = uow, inbound, admin, now
        self.tr, self.language = tr, language
        self.messages: list[Outbound] = []
        tap = inbound.tap
        if tap is not None and tap.callback:
            self._write(Outbound("", action="answer", callback=tap.callback,
                                 despite_stop=True), None)

    def text(self, message: str, **values: Any) -> str:
        """``message`` translated, with ``values`` filled in (isolated where directions
        mix: a Hebrew idea in an English sentence)."""
        return fill(self.tr.gettext(message), **values)

    def reply(self, text: str, buttons: Sequence[Button] = (),
              state: dict[str, Any] | None = None) -> int:
        """Write a message to the admin; ``state``: what its buttons (or the next message
        typed) mean. Returns its row id."""
        message = Outbound(text, tuple(buttons), kind="question" if buttons else "info",
                           language=self.language, despite_stop=True)
        return self._write(message, state)

    def settle(self, text: str) -> None:
        """Answer a tap: the tapped message is edited to say what came of it (its buttons
        go), or, where the platform can't edit, a new message says so."""
        tap = self.inbound.tap
        if tap is not None and tap.message_ref and tap.edits:
            self._write(Outbound(text, action="edit", target_ref=tap.message_ref,
                                 language=self.language, despite_stop=True), None)
        else:
            self.reply(text)

    def _write(self, message: Outbound, state: dict[str, Any] | None) -> int:
        payload = message.to_payload()
        if state is not None:
            payload[STATE] = state
        self.messages.append(message)
        return self.uow.outbox.enqueue(self.admin.id, self.inbound.channel,
                                       self.inbound.address, payload, now=self.now)

    def fresh(self, said: Said) -> bool:
        return self.now - said.created_at <= FRESH

    @property
    def actor(self) -> str:
        """Who acts, for the audit trail: the admin as ``KOLOT_ADMINS`` names them
        (``telegram:123456``, ``whatsapp:+972501234567``)."""
        return admin_actor(self.inbound.channel, self.inbound.address)

    def audit(self, action: str, subject: str | None = None, **detail: Any) -> None:
        """Record this admin's action in the audit trail, in the input's transaction (the
        action and its record commit together). ``subject``: what it acted on
        (``flow:square``, ``idea:12``, ``broadcast:3``); ``detail``: a few ids and counts,
        never a participant's address or words."""
        self.uow.audit.record(self.actor, action, now=self.now, subject=subject,
                              detail=detail or None)


def admin_actor(channel: str, address: str) -> str:
    """``channel:address``, written the way ``KOLOT_ADMINS`` writes it (a WhatsApp address
    already starts with ``whatsapp:``)."""
    return address if address.startswith(f"{channel}:") else f"{channel}:{address}"
