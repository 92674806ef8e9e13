"""An outbox row's message as WhatsApp messages through Twilio: pure, tested without a network.

WhatsApp's own rules decide the shape of a choice:

* at most 3 options, each title at most 20 characters: quick-reply buttons;
* at most 10, each row at most 24 characters: a list the participant opens with a button;
* otherwise, or with interactive content switched off, or for a multiple choice (WhatsApp
  has no multi-select): numbered text, "1. ...", with the hint on how to reply.

Interactive messages go through Twilio's Content API: a content definition is created
once and sent by its ``HX...`` sid. Each option's id is its position (``"0"``, ``"1"``),
never the label, so the definition is the same for every participant who gets that
question, and Twilio's cache of it stays small. Texts are split under WhatsApp's limit.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from bot.channels import texts
from bot.channels.base import Outbound
from bot.channels.splitting import split
from bot.engine import Translator

__all__ = ["BODY_LIMIT", "Content", "Send", "render"]

BODY_LIMIT = 1600
"""Twilio's limit on a WhatsApp message body."""
CONTENT_BODY_LIMIT = 1024
QUICK_REPLIES, QUICK_TITLE = 3, 20
LIST_ROWS, LIST_ROW, LIST_BUTTON = 10, 24, 20


@dataclass(frozen=True, slots=True)
class Content:
    """A Twilio Content API definition; ``digest`` names it for the cache."""

    definition: dict[str, Any]

    @property
    def digest(self) -> str:
        canonical = json.dumps(self.definition, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Send:
    """One Twilio message: a ``body``, or interactive ``content``, or an approved template
    (``template`` sid with ``variables``), with an optional picture by URL."""

    body: str | None = None
    content: Content | None = None
    template: str | None = None
    variables: dict[str, str] = field(default_factory=dict)
    media_url: str | None = None


def render(message: Outbound, tr: Translator, *, interactive: bool = True) -> list[Send]:
    if message.action != "send":
        return []  # WhatsApp can't edit a message or acknowledge a tap: nothing to do
    media = message.image if message.image and message.image.startswith(("https://", "http://")) \
        else None
    labels = [b.label for b in message.buttons]
    text = message.text
    fits = interactive and not message.multiple and 0 < len(text) <= CONTENT_BODY_LIMIT
    if fits and len(labels) <= QUICK_REPLIES and all(len(x) <= QUICK_TITLE for x in labels) \
            and labels:
        return [Send(content=_quick_replies(text, labels, message.language), media_url=media)]
    if fits and len(labels) <= LIST_ROWS and all(len(x) <= LIST_ROW for x in labels) and labels:
        return [Send(content=_list(text, labels, message.language, tr), media_url=media)]
    parts = [text] if text else []
    if labels:
        parts.append("\n".join(f"{n}. {label}" for n, label in enumerate(labels, start=1)))
    if message.hint:
        parts.append(message.hint)
    bodies = split("\n\n".join(parts), BODY_LIMIT)
    sends = [Send(body=body) for body in bodies]
    if media and sends:
        sends[0] = Send(body=sends[0].body, media_url=media)
    return sends


def _quick_replies(text: str, labels: list[str], language: str | None) -> Content:
    actions = [{"title": label, "id": str(n)} for n, label in enumerate(labels)]
    return Content({"language": language or "en",
                    "types": {"twilio/quick-reply": {"body": text, "actions": actions}}})


def _list(text: str, labels: list[str], language: str | None, tr: Translator) -> Content:
    button = tr.gettext(texts.CHOOSE)[:LIST_BUTTON]
    items = [{"item": label, "id": str(n)} for n, label in enumerate(labels)]
    return Content({"language": language or "en",
                    "types": {"twilio/list-picker": {"body": text, "button": button,
                                                     "items": items}}})
