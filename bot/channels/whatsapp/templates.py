"""Approved WhatsApp templates per purpose and language: what may be sent outside the
24-hour window.

WhatsApp lets a business write freely only within 24 hours of the participant's last
message; after that only a template Meta approved may start the conversation again. The
organiser names one per purpose (``reminder``, ``announcement``, ``results``,
``broadcast``) and language in a YAML file (``KOLOT_WHATSAPP_TEMPLATES``)::

    reminder:
      he: HXb5b62575e6e4ff6129ad7c8efe1f983e
      ar: HX...
      "*": HX...          # any other language
    results:
      en: HX...

Each is a Twilio Content sid; its variable ``{{1}}`` receives the text Kolot would have
sent. A message with no template for its purpose and language is held, never sent to fail.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml import YAML

__all__ = ["PURPOSES", "Templates"]

PURPOSES = ("reminder", "announcement", "results", "broadcast")


@dataclass(frozen=True)
class Templates:
    by_purpose: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path | None) -> Templates:
        if path is None:
            return cls()
        data = YAML(typ="safe").load(Path(path).read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected purposes (reminder, results...) at the top")
        found: dict[str, dict[str, str]] = {}
        for purpose, languages in data.items():
            if purpose not in PURPOSES:
                raise ValueError(f"{path}: unknown purpose {purpose!r}; use one of "
                                 + ", ".join(PURPOSES))
            if not isinstance(languages, dict) or not all(
                isinstance(sid, str) and sid.startswith("HX") for sid in languages.values()
            ):
                raise ValueError(f"{path}: {purpose}: give a Content sid (HX...) per language")
            found[purpose] = {str(code): sid for code, sid in languages.items()}
        return cls(found)

    def find(self, purpose: str | None, language: str | None) -> str | None:
        languages = self.by_purpose.get(purpose or "", {})
        return languages.get(language or "") or languages.get("*")
