"""What can reach the engine: channel-neutral inputs, one frozen dataclass each.

Channels turn a platform's update into one of these; commands such as ``/back`` arrive as
:class:`Command` so every channel shares one meaning for them. Future inputs (a timer that
expired, a phase that opened) join this union rather than becoming special calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Command", "Input", "Press", "Start", "Text", "Unreadable"]


@dataclass(frozen=True, slots=True)
class Start:
    """The participant opened the conversation (or came back to it)."""

    payload: str | None = None


@dataclass(frozen=True, slots=True)
class Text:
    """A typed message."""

    text: str


@dataclass(frozen=True, slots=True)
class Press:
    """A tap on a button; ``payload`` is the option id the button was made with."""

    payload: str


@dataclass(frozen=True, slots=True)
class Command:
    name: Literal["back", "skip", "restart", "help"]


@dataclass(frozen=True, slots=True)
class Unreadable:
    """Something that is no answer, which the participant should hear about: a sticker,
    voice note or photo (``media``), an edit of a message already sent (``edit``), or a
    tap on a button of an earlier question (``stale``). It changes nothing."""

    what: Literal["media", "edit", "stale"]


Input = Start | Text | Press | Command | Unreadable
