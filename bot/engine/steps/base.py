"""What every step kind provides, and the parsing helpers that several kinds share."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bot.engine import texts
from bot.engine.events import Button, Say
from bot.engine.flow import Option, Step
from bot.engine.inputs import Press, Text
from bot.engine.texts import Translator

__all__ = ["Accepted", "Kind", "Parsed", "Rejected", "match_option", "question"]


@dataclass(frozen=True, slots=True)
class Accepted:
    value: Any


@dataclass(frozen=True, slots=True)
class Rejected:
    """Why the input was not an answer; the text says what is expected instead."""

    reason: str


Parsed = Accepted | Rejected


class Kind(Protocol):
    """A step kind. ``interactive`` kinds wait for input; ``collects`` kinds store answers,
    so the validator demands consent before them."""

    name: str
    interactive: bool
    collects: bool

    def prompt(self, step: Step, tr: Translator) -> Say: ...

    def parse(self, step: Step, given: Text | Press, tr: Translator) -> Parsed: ...

    def display(self, step: Step, value: Any, tr: Translator) -> str: ...


def question(
    step: Step,
    tr: Translator,
    hint: str | None,
    buttons: Sequence[Button] = (),
    *,
    multiple: bool = False,
) -> Say:
    if step.optional:
        skip = tr.gettext(texts.HINT_OPTIONAL)
        hint = f"{hint} {skip}" if hint else skip
    return Say(
        text=step.text,
        step_id=step.id,
        buttons=tuple(buttons),
        hint=hint,
        kind="question",
        multiple=multiple,
    )


def option_buttons(options: Sequence[Option]) -> tuple[Button, ...]:
    return tuple(Button(o.id, o.label) for o in options)


def match_option(options: Sequence[Option], token: str) -> Option | None:
    """An option by its number in the list ("2"), its label (or an alias: the label in the
    flow's default language) or its id, in any case."""
    token = token.strip()
    if not token:
        return None
    if token.isdecimal():  # not isdigit(): "²" is a digit that int() refuses
        # No list is that long; int() of thousands of digits would raise.
        n = int(token) if len(token) <= 9 else 0
        return options[n - 1] if 1 <= n <= len(options) else None
    folded = token.casefold()
    for option in options:
        if option.label.casefold() == folded or option.id.casefold() == folded:
            return option
        if any(alias.casefold() == folded for alias in option.aliases):
            return option
    return None


_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+")


def as_number(token: str) -> float | None:
    """A number typed by a person: ``12``, ``12.5``, ``12,5``, ``1,000,000``, or in
    Arabic-Indic digits. Nothing Python alone would accept (``1e3``, ``1_000``, ``nan``).

    ``1,000`` is ``None``: a thousand to some, one to others (a decimal comma); see
    :func:`ambiguous_comma`. Guessing would store a wrong number without anyone knowing.
    """
    cleaned = token.strip().replace("\u066b", ".").replace("\u066c", "")
    if _GROUPED.fullmatch(cleaned):
        if cleaned.count(",") == 1:
            return None
        cleaned = cleaned.replace(",", "")
    if not _NUMBER.fullmatch(cleaned):
        return None
    return float(cleaned.replace(",", "."))


def ambiguous_comma(token: str) -> bool:
    """``1,000``: one comma before exactly three digits reads as 1000 or as 1.0."""
    cleaned = token.strip()
    return bool(_GROUPED.fullmatch(cleaned)) and cleaned.count(",") == 1


def plain(number: float) -> int | float:
    """12.0 -> 12, so whole numbers are stored and shown as integers."""
    return int(number) if float(number).is_integer() else number


def fmt(number: float | None) -> str:
    return "" if number is None else str(plain(number))
