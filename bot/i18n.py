"""Translators per language, loaded once from the compiled gettext catalogs in ``locales/``.

The engine receives a translator as an argument (it never loads files itself). A language
without a compiled catalog gets the message ids, which are the English texts.
"""

from __future__ import annotations

import gettext
from functools import lru_cache
from pathlib import Path

from babel.support import Translations

from bot.engine import Translator

__all__ = ["DOMAIN", "LOCALES_DIR", "translator"]

DOMAIN = "kolot"
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"


@lru_cache(maxsize=64)
def translator(language: str | None) -> Translator:
    if not language:
        return gettext.NullTranslations()
    loaded = Translations.load(str(LOCALES_DIR), [language], DOMAIN)
    return loaded if isinstance(loaded, Translations) else gettext.NullTranslations()
