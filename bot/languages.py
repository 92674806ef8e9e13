"""Which language to talk in: the participant's explicit choice, else a channel's hint,
else the flow's default (PRINCIPLES.md: people answer in their own language).

Hints are only hints: a Telegram client's ``language_code`` is the interface language the
person picked, a phone number's country says little more than where the SIM was bought.
Either counts only when the flow speaks that language. Locale data comes from Babel (CLDR),
phone numbering plans from ``phonenumbers``; nothing here is a hand-kept table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import phonenumbers
from babel import Locale, UnknownLocaleError
from babel.languages import get_official_languages

__all__ = ["autonym", "hints_from_phone", "is_rtl_language", "language_of", "resolve"]


def language_of(tag: str | None) -> str | None:
    """The language part of a locale tag as clients send it (``he-IL``, ``iw``, ``ar_SA``)."""
    if not tag or not tag.strip():
        return None
    try:
        return Locale.parse(tag.strip().replace("-", "_")).language
    except (UnknownLocaleError, ValueError):
        return None


def is_rtl_language(language: str | None) -> bool:
    """Whether ``language`` (``he``, ``ar``, ``fa_IR``...) is written right to left."""
    if not language:
        return False
    try:
        return bool(Locale.parse(language.replace("-", "_")).character_order == "right-to-left")
    except (UnknownLocaleError, ValueError):
        return False


def hints_from_phone(number: str) -> tuple[str, ...]:
    """Languages a phone number's country suggests, most used first (``+972`` gives he, ar).

    Accepts ``whatsapp:+E164`` addresses as Twilio sends them. No country, no hint.
    """
    raw = number.removeprefix("whatsapp:").strip()
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(raw, None))
    except phonenumbers.NumberParseException:
        return ()
    if not region or region == "ZZ":
        return ()
    return tuple(get_official_languages(region, de_facto=True))


def resolve(
    languages: Sequence[str],
    default: str,
    *,
    chosen: str | None = None,
    hints: Iterable[str | None] = (),
) -> str:
    """The language of a conversation in a flow that speaks ``languages``.

    An explicit choice wins, then the first hint the flow speaks, then the default.
    """
    spoken = set(languages)
    for candidate in (chosen, *hints):
        language = language_of(candidate)
        if language in spoken:
            return language
    return default


def autonym(language: str) -> str:
    """A language's name in itself ("עברית", "العربية"), for menus; the code if unknown."""
    try:
        name = Locale.parse(language).get_display_name(language)
    except (UnknownLocaleError, ValueError):
        return language
    return name[:1].upper() + name[1:] if name else language
