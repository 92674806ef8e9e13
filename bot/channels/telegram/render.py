"""An outbox row's message as Telegram Bot API calls: pure, so it is tested without a network.

* Choices become an inline keyboard. ``callback_data`` names only the outbox row and the
  button's position (``k<row>.<n>``), never the label: it must fit in 64 bytes, and a
  Hebrew label is two bytes a letter. The service checks a tap against the row (a tap on
  an older question is no answer).
* A multiple choice toggles: each tap redraws the buttons with a check mark (the data of
  every button already says what the selection becomes), and a Done button sends the
  selection (``k<row>.t<mask>`` and ``k<row>.d<mask>``, the mask in hex).
* Texts go without ``parse_mode``: participants' ideas are shown as written and can't
  break the formatting. Over 4,096 characters a text is split on paragraphs (then lines,
  then words); the buttons go under the last part.
* The typing hint is left out where buttons are shown: "reply with the number" would only
  confuse under buttons that carry no numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.channels import texts
from bot.channels.base import DOCUMENT_NAME, Outbound, Tap
from bot.channels.splitting import split, utf16_length
from bot.engine import Button, Translator

__all__ = [
    "CAPTION_LIMIT",
    "TEXT_LIMIT",
    "Call",
    "Upload",
    "keyboard",
    "parse_callback",
    "render",
]

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
_SHORT = 3
"""Labels this short (a scale's numbers, A and B) share a row of buttons, up to five."""
_PER_ROW = 5
_MAX_MULTI = 64
_CALLBACK = re.compile(r"k(\d{1,19})\.(?:(\d{1,3})|([td])([0-9a-f]{1,16}))")


@dataclass(frozen=True, slots=True)
class Upload:
    """A file made here to upload with the call (``/mydata``'s JSON)."""

    name: str
    content: str


@dataclass(frozen=True, slots=True)
class Call:
    """One Bot API call: the API's method name and its parameters. ``paced`` calls count
    against the rate caps (messages and edits; acknowledging a tap does not)."""

    method: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    paced: bool = True


def render(row: int, chat_id: str, message: Outbound, tr: Translator) -> list[Call]:
    if message.action == "answer":
        return [Call("answerCallbackQuery", {"callback_query_id": message.callback},
                     paced=False)]
    if message.action == "edit":
        text = _fit(message.text)
        return [Call("editMessageText", {"chat_id": chat_id,
                                           "message_id": int(message.target_ref or 0),
                                           "text": text})]
    if message.action == "select":
        markup = keyboard(message.origin or row, message, tr, selected=message.selected)
        return [Call("editMessageReplyMarkup", {"chat_id": chat_id,
                                                   "message_id": int(message.target_ref or 0),
                                                   "reply_markup": markup})]
    markup = keyboard(row, message, tr) if message.buttons else None
    text = message.text
    if message.hint and markup is None:
        text = f"{text}\n\n{message.hint}" if text else message.hint
    calls: list[Call] = []
    if message.document is not None:
        caption = text if utf16_length(text) <= CAPTION_LIMIT else ""
        document: dict[str, Any] = {"chat_id": chat_id,
                                    "document": Upload(DOCUMENT_NAME, message.document)}
        if caption:
            document["caption"] = caption
        calls.append(Call("sendDocument", document))
        if caption:
            return calls
    if message.image:
        caption = text if utf16_length(text) <= CAPTION_LIMIT else ""
        photo: dict[str, Any] = {"chat_id": chat_id, "photo": message.image}
        if caption:
            photo["caption"] = caption
        if markup is not None and caption:
            photo["reply_markup"] = markup
        calls.append(Call("sendPhoto", photo))
        if caption:
            return calls
    parts = split(text, TEXT_LIMIT) if text else []
    for n, part in enumerate(parts):
        kwargs: dict[str, Any] = {"chat_id": chat_id, "text": part}
        if markup is not None and n == len(parts) - 1:
            kwargs["reply_markup"] = markup
        calls.append(Call("sendMessage", kwargs))
    return calls


def keyboard(
    row: int, message: Outbound, tr: Translator, *, selected: Sequence[int] = ()
) -> InlineKeyboardMarkup | None:
    if message.multiple and len(message.buttons) <= _MAX_MULTI:
        mask = sum(1 << n for n in selected)
        rows = [
            [InlineKeyboardButton(("✓ " if mask >> n & 1 else "") + button.label,
                                  callback_data=f"k{row}.t{mask ^ (1 << n):x}")]
            for n, button in enumerate(message.buttons)
        ]
        rows.append([InlineKeyboardButton(tr.gettext(texts.DONE),
                                          callback_data=f"k{row}.d{mask:x}")])
        return InlineKeyboardMarkup(rows)
    if message.multiple:
        return None  # too many to toggle: typed numbers, as the hint says
    return InlineKeyboardMarkup(list(_rows(row, message.buttons)))


def _rows(row: int, buttons: Sequence[Button]) -> Iterator[list[InlineKeyboardButton]]:
    pending: list[InlineKeyboardButton] = []
    for n, button in enumerate(buttons):
        made = InlineKeyboardButton(button.label, callback_data=f"k{row}.{n}")
        if len(button.label) <= _SHORT and len(pending) < _PER_ROW:
            pending.append(made)
            continue
        if pending:
            yield pending
            pending = []
        if len(button.label) <= _SHORT:
            pending.append(made)
        else:
            yield [made]
    if pending:
        yield pending


def parse_callback(data: str | None) -> Tap | None:
    """A tap from a button's ``callback_data``; ``None`` for data we never made."""
    matched = _CALLBACK.fullmatch(data or "")
    if matched is None:
        return None
    row = int(matched.group(1))
    if matched.group(2) is not None:
        return Tap(row, (int(matched.group(2)),))
    mask = int(matched.group(4), 16)
    picks = tuple(n for n in range(_MAX_MULTI) if mask >> n & 1)
    return Tap(row, picks, final=matched.group(3) == "d")


def _fit(text: str) -> str:
    parts = split(text, TEXT_LIMIT)
    return parts[0] if parts else text


