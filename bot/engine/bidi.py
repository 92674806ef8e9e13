"""Inserting values into sentences so they display in the right order in either direction.

A Hebrew or Arabic sentence that embeds "10:00", "3/5", "-1", a Latin name or a URL is
laid out by the Unicode bidirectional algorithm, which can move the value's punctuation
to the wrong side or pull neighbouring words into it. Each inserted value is therefore
wrapped in FIRST STRONG ISOLATE ... POP DIRECTIONAL ISOLATE (U+2068 ... U+2069): inside, the
value keeps its own direction; outside, it behaves as one neutral character. The same
holds for a right-to-left value (a Hebrew answer) inside an English sentence.

A value is isolated as a whole and otherwise left as it is: Babel's Arabic dates already
carry RLM marks inside, and an isolated value is not wrapped again, so nothing is marked
twice.
"""

from __future__ import annotations

import unicodedata
from typing import Any

__all__ = ["FSI", "PDI", "fill", "has_rtl", "isolate"]

FSI = "\u2068"
PDI = "\u2069"
_OPENERS = ("\u2066", "\u2067", FSI)  # LRI, RLI, FSI


def has_rtl(text: str) -> bool:
    """Whether ``text`` has a strong right-to-left character (Hebrew, Arabic, Syriac...)."""
    return any(unicodedata.bidirectional(c) in ("R", "AL") for c in text)


def isolate(value: str) -> str:
    if not value or (value.startswith(_OPENERS) and value.endswith(PDI)):
        return value
    return f"{FSI}{value}{PDI}"


def fill(template: str, **values: Any) -> str:
    """``template.format(**values)``, each value isolated where direction could mix:
    every value in a right-to-left sentence, a right-to-left value in any sentence."""
    rtl = has_rtl(template)
    shown = {}
    for name, value in values.items():
        text = str(value)
        shown[name] = isolate(text) if rtl or has_rtl(text) else text
    return template.format(**shown)
