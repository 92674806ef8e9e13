"""Channel-neutral messages that cross the edge between a platform and the service.

An :class:`Inbound` is what a channel made of a platform event; an :class:`Outbound` is
an outbox row's payload, which each channel renders its own way (buttons, lists, numbered
text). Both are frozen and round-trip through JSON, so the outbox can store them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from bot.engine import Button, Say

__all__ = ["DOCUMENT_NAME", "Action", "CommandName", "Inbound", "Outbound", "Tap", "UnreadableKind"]

CommandName = Literal["start", "back", "skip", "restart", "help", "stop", "mydata", "delete"]
DOCUMENT_NAME = "kolot-data.json"
"""What a participant's data file (``/mydata``) is called where the platform names files."""
UnreadableKind = Literal["media", "edit"]
Action = Literal["send", "edit", "select", "answer"]
"""What an outbox row asks of the channel: ``send`` a message; ``edit`` a message sent
before (a question, to show the answer tapped); ``select`` redraw a multiple choice's
buttons with the options picked so far; ``answer`` acknowledge a tap."""


@dataclass(frozen=True, slots=True)
class Tap:
    """Buttons tapped under one of our messages.

    ``row`` is the outbox row the message was sent from (``None``: the platform names the
    message by its own id, ``message_ref``, or not at all, meaning the newest buttons) and
    ``picks`` the positions of the buttons in it (several for a multiple choice).
    ``final`` is false while a multiple choice is still being picked (the buttons toggle;
    nothing is answered yet).
    ``message_ref`` is the platform's id of the tapped message, so it can be edited, and
    ``callback`` the platform's id of the tap, so it can be acknowledged.
    """

    row: int | None
    picks: tuple[int, ...]
    final: bool = True
    message_ref: str | None = None
    callback: str | None = None
    edits: bool = True
    """The platform can edit the tapped message to show the answer (Telegram can; WhatsApp
    can't, and its replies name the message by ``message_ref`` instead of ``row``)."""


@dataclass(frozen=True, slots=True)
class Inbound:
    """One participant input. ``platform_id`` is the platform's unique id of the event,
    stored so a redelivered event is applied once. Exactly one of ``text``, ``payload`` (a
    button's payload), ``tap`` (buttons of a message we sent), ``command`` or
    ``unreadable`` (a sticker, a photo, an edit: no answer, but worth a polite word) is
    set. ``start_payload`` is what a ``start`` command carried (an invite code)."""

    channel: str
    address: str
    platform_id: str
    text: str | None = None
    payload: str | None = None
    command: CommandName | None = None
    start_payload: str | None = None
    language_hint: str | None = None
    tap: Tap | None = None
    unreadable: UnreadableKind | None = None


@dataclass(frozen=True, slots=True)
class Outbound:
    text: str
    buttons: tuple[Button, ...] = ()
    hint: str | None = None
    kind: str = "info"
    step_id: str | None = None
    multiple: bool = False
    language: str | None = None
    """The participant's language, for what the channel itself labels (a Done button)."""
    image: str | None = None
    """A picture to send with ``text`` as its caption: a file path or an https URL."""
    action: Action = "send"
    target_ref: str | None = None
    """``edit`` / ``select``: the platform's id of the message to change."""
    selected: tuple[int, ...] = ()
    """``select``: positions of the options picked so far."""
    origin: int | None = None
    """``select``: the outbox row the buttons were first sent with (taps name it)."""
    callback: str | None = None
    """``answer``: the platform's id of the tap to acknowledge."""
    despite_stop: bool = False
    """Sent even to someone who asked for no more messages: the answer to that request,
    or to their own message."""
    document: str | None = None
    """A file to send with ``text`` as its caption: the participant's own data, as JSON
    (``/mydata``), kept in the row itself so it goes with the row when they are erased."""
    document_token: str | None = None
    """``document``: the secret in the address a platform that fetches files by URL
    (WhatsApp) is given for it; nobody else can guess the address."""
    purpose: str | None = None
    """Why we write unasked (``reminder``, ``announcement``, ``results``, ``broadcast``);
    ``None`` for a reply. Outside WhatsApp's 24-hour window only a template configured for
    the purpose may be sent."""

    @classmethod
    def from_say(cls, say: Say, language: str | None = None) -> Outbound:
        return cls(say.text, say.buttons, say.hint, say.kind, say.step_id, say.multiple,
                   language)

    def to_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "text": self.text,
            "buttons": [{"payload": b.payload, "label": b.label} for b in self.buttons],
            "hint": self.hint,
            "kind": self.kind,
            "step_id": self.step_id,
            "multiple": self.multiple,
        }
        optional = {
            "language": self.language,
            "image": self.image,
            "action": None if self.action == "send" else self.action,
            "target_ref": self.target_ref,
            "selected": list(self.selected) if self.selected else None,
            "origin": self.origin,
            "callback": self.callback,
            "despite_stop": self.despite_stop or None,
            "purpose": self.purpose,
            "document": self.document,
            "document_token": self.document_token,
        }
        payload.update({key: value for key, value in optional.items() if value is not None})
        return payload

    @classmethod
    def from_payload(cls, data: Mapping[str, Any]) -> Outbound:
        return cls(
            text=str(data.get("text", "")),
            buttons=tuple(
                Button(str(b["payload"]), str(b["label"])) for b in data.get("buttons", [])
            ),
            hint=data.get("hint"),
            kind=str(data.get("kind", "info")),
            step_id=data.get("step_id"),
            multiple=bool(data.get("multiple", False)),
            language=data.get("language"),
            image=data.get("image"),
            action=data.get("action") or "send",
            target_ref=data.get("target_ref"),
            selected=tuple(int(n) for n in data.get("selected") or ()),
            origin=data.get("origin"),
            callback=data.get("callback"),
            despite_stop=bool(data.get("despite_stop", False)),
            purpose=data.get("purpose"),
            document=data.get("document"),
            document_token=data.get("document_token"),
        )
