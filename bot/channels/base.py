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

__all__ = ["Inbound", "Outbound"]

CommandName = Literal["start", "back", "skip", "restart"]


@dataclass(frozen=True, slots=True)
class Inbound:
    """One participant input. ``platform_id`` is the platform's unique message id, stored so
    a redelivered message is applied once. Exactly one of ``text``, ``payload`` (a button)
    or ``command`` is set."""

    channel: str
    address: str
    platform_id: str
    text: str | None = None
    payload: str | None = None
    command: CommandName | None = None
    start_payload: str | None = None
    language_hint: str | None = None


@dataclass(frozen=True, slots=True)
class Outbound:
    text: str
    buttons: tuple[Button, ...] = ()
    hint: str | None = None
    kind: str = "info"
    step_id: str | None = None
    multiple: bool = False

    @classmethod
    def from_say(cls, say: Say) -> Outbound:
        return cls(say.text, say.buttons, say.hint, say.kind, say.step_id, say.multiple)

    def to_payload(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "buttons": [{"payload": b.payload, "label": b.label} for b in self.buttons],
            "hint": self.hint,
            "kind": self.kind,
            "step_id": self.step_id,
            "multiple": self.multiple,
        }

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
        )
