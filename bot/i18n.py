"""The engine's sentences in each language, read from the gettext catalogs in ``locales/``.

Catalogs are read from the ``.po`` files themselves (compiled in memory, once per
language), so a fresh clone needs no compile step and a stale ``.mo`` can never disagree
with the text a translator wrote. A language without a catalog gets the message ids,
which are the English texts. ``pybabel compile -d locales`` still works for
tools that want ``.mo`` files.
"""

from __future__ import annotations

import gettext
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from bot.engine import Translator

__all__ = ["DOMAIN", "LOCALES_DIR", "catalog_translations", "translator"]

DOMAIN = "messages"  # gettext's default: `pybabel compile -d locales` needs no -D
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"


@lru_cache(maxsize=64)
def translator(language: str | None) -> Translator:
    if not language:
        return gettext.NullTranslations()
    po = LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po.is_file():
        return gettext.NullTranslations()
    return catalog_translations(po, DOMAIN)


def catalog_translations(po: Path, domain: str) -> Translations:
    """A ``.po`` file as gettext translations (fuzzy entries left out, as compiling does)."""
    with po.open("rb") as f:
        catalog = read_po(f)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(fp=compiled, domain=domain)
