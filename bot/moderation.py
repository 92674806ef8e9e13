"""The automatic screen every idea passes before anyone else can see it.

It catches what should never be published as it stands: personal details (phone numbers,
e-mail addresses), links, words on the language's block list (``locales/blocklists/``, kept
as data) and ideas already proposed, word for word or nearly (``rapidfuzz``). What it
catches is rejected with a reason category; the author is told the category in their
language, never who decided, and an organiser can still approve it by hand
(:func:`decide`, for ``kolot ideas`` and an admin's buttons alike).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from rapidfuzz import fuzz

from bot.channels.base import Outbound
from bot.engine import Translator
from bot.engine.bidi import fill
from bot.i18n import translator
from storage import UnitOfWork
from storage.models import Idea

__all__ = [
    "IDEA_MERGED",
    "IDEA_REJECTED",
    "REASONS",
    "Screened",
    "decide",
    "merge_notice",
    "rejection_notice",
    "screen",
]

BLOCKLISTS = Path(__file__).resolve().parent.parent / "locales" / "blocklists"
NEAR_DUPLICATE = 90.0


def _(message: str) -> str:
    return message


REASONS = {
    "personal_data": _("it contains personal details such as a phone number or an e-mail "
                       "address"),
    "link": _("it contains a link"),
    "blocked_words": _("it contains words that are not allowed here"),
    "duplicate": _("the same idea has already been proposed"),
    "rules": _("it does not keep to the rules of discourse"),
}
"""Reason categories and what authors are told (translated through the catalogs)."""

IDEA_REJECTED = _("Your idea “{idea}” was not published, because {reason}. You are welcome "
                  "to write it again without that.")


IDEA_MERGED = _("Your idea “{idea}” was merged with a similar one, “{other}”, which others "
                "will vote on.")


def merge_notice(tr: Translator, idea: str, other: str) -> str:
    return fill(tr.gettext(IDEA_MERGED), idea=idea, other=other)


def rejection_notice(tr: Translator, idea: str, reason: str) -> str:
    """What the author of a rejected idea is told, in the catalog's language."""
    return fill(tr.gettext(IDEA_REJECTED), idea=idea, reason=tr.gettext(REASONS[reason]))

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_URL = re.compile(r"(https?://|www\.)\S+|\b[\w-]+\.(com|org|net|il|io|ru|info)\b", re.I)
_PHONE = re.compile(r"(?<!\w)\+?\d[\d\s().-]{6,}\d(?!\w)")


@dataclass(frozen=True)
class Screened:
    reason: str | None = None
    """None: nothing caught; else a key of :data:`REASONS`."""

    @property
    def passed(self) -> bool:
        return self.reason is None


def decide(uow: UnitOfWork, idea: Idea, status: str, reason: str | None, *,
           now: datetime) -> bool:
    """A moderator's decision on ``idea``, inside the caller's transaction: its new status,
    and with a rejection's ``reason`` a notice to its author in the idea's language.
    Returns whether the author was told."""
    uow.ideas.set_status(idea.id, status, now=now, reason=reason)
    author = uow.participants.by_id(idea.participant_id) if idea.participant_id else None
    if reason is None or author is None:
        return False
    notice = rejection_notice(translator(idea.language), idea.text, reason)
    uow.outbox.enqueue(author.id, author.channel, author.address,
                       Outbound(notice, language=idea.language).to_payload(), now=now)
    return True


@lru_cache(maxsize=16)
def _blocklist(language: str) -> re.Pattern[str] | None:
    path = BLOCKLISTS / f"{language}.txt"
    if not path.is_file():
        return None
    words = [
        line.strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not words:
        return None
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def _normal(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


def screen(text: str, language: str, existing: Iterable[str] = ()) -> Screened:
    """What, if anything, keeps ``text`` from being published automatically."""
    if _EMAIL.search(text) or _PHONE.search(text):
        return Screened("personal_data")
    if _URL.search(text):
        return Screened("link")
    blocked = _blocklist(language)
    if blocked is not None and blocked.search(text):
        return Screened("blocked_words")
    mine = _normal(text)
    for other in existing:
        theirs = _normal(other)
        if mine == theirs or fuzz.token_sort_ratio(mine, theirs) >= NEAR_DUPLICATE:
            return Screened("duplicate")
    return Screened()
