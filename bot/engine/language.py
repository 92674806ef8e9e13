"""Changing the conversation's language at any time with ``/lang``.

``/lang`` shows the flow's languages, each named in itself; ``/lang ar`` (or a code or name
the flow speaks) switches at once. Switching keeps every answer and asks the open question
again in the new language. The engine stays pure: what a language means for this flow (its
texts, the engine's sentences, the names of the languages) comes from a :class:`Localiser`
that the caller builds from catalogs it has already loaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.engine.events import Button, Say
from bot.engine.flow import Flow
from bot.engine.inputs import Input, Press, Text
from bot.engine.texts import Translator, words

__all__ = [
    "LANG_ONLY_ONE",
    "LANG_PROMPT",
    "LANG_SORRY",
    "LANG_WORDS",
    "Localiser",
    "asked_for",
    "chosen",
    "menu",
]


def _(message: str) -> str:
    return message


LANG_WORDS = _("/lang|/language")
LANG_PROMPT = _("Which language would you like? You can change it at any time with /lang.")
LANG_SORRY = _("Please choose one of these languages.")
LANG_ONLY_ONE = _("This conversation is available in this language only.")

PAYLOAD_PREFIX = "lang:"


class Localiser(Protocol):
    """One flow in each language it speaks."""

    def languages(self) -> Sequence[tuple[str, str]]:
        """``(code, name in that language)`` for each language, the default first."""
        ...

    def flow(self, language: str) -> Flow:
        """The flow with its texts in ``language`` (the default text where untranslated)."""
        ...

    def translator(self, language: str) -> Translator: ...


def asked_for(given: Input, tr: Translator) -> tuple[bool, str | None]:
    """Whether the input is ``/lang`` and, if it names one, the language asked for."""
    if not isinstance(given, Text):
        return False, None
    first, _space, rest = given.text.strip().partition(" ")
    if first.casefold() not in words(tr, LANG_WORDS):
        return False, None
    return True, rest.strip() or None


def chosen(given: Input | str, localiser: Localiser) -> str | None:
    """The language picked: a button, its number in the menu, its code or its name."""
    if isinstance(given, Press):
        picked = given.payload.removeprefix(PAYLOAD_PREFIX)
    elif isinstance(given, Text):
        picked = given.text
    elif isinstance(given, str):
        picked = given
    else:
        return None
    picked = picked.strip().casefold()
    offered = localiser.languages()
    if picked.isdecimal() and len(picked) <= 3 and 1 <= int(picked) <= len(offered):
        return offered[int(picked) - 1][0]
    for code, name in offered:
        if picked in (code.casefold(), name.casefold()):
            return code
    return None


def menu(localiser: Localiser, tr: Translator, *, sorry: bool = False) -> Say:
    buttons = tuple(Button(f"{PAYLOAD_PREFIX}{code}", name) for code, name in localiser.languages())
    text = tr.gettext(LANG_SORRY if sorry else LANG_PROMPT)
    return Say(text, buttons=buttons, kind="reprompt" if sorry else "question")

