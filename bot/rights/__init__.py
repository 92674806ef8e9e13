"""A participant's rights over their data, in the chat: ``/mydata`` shows everything kept
about them (a readable message and the same as a JSON file), ``/delete`` erases it after
they confirm. Pure: the service gathers and erases (``storage.repositories.personal``);
this module says what the participant reads.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from babel.core import UnknownLocaleError
from babel.dates import format_date

from bot.channels.base import Outbound
from bot.engine import Button, Translator
from bot.engine import texts as engine_texts
from bot.engine.texts import plural
from bot.rights import texts

__all__ = [
    "DOCUMENT_LIFETIME",
    "ERASE_NO",
    "ERASE_YES",
    "FAREWELL",
    "Describe",
    "Question",
    "asks_erasure",
    "data_file",
    "erase_question",
    "readable",
]

DOCUMENT_LIFETIME = timedelta(hours=1)
"""How long a data file can be fetched by its address (WhatsApp fetches it within seconds
of the message going out); ``kolot purge`` then drops it from the outbox row."""
FAREWELL = "farewell"
"""The ``kind`` of the message that ends an erasure: once it has left, the sender deletes
the row that kept the address for it (``bot.outbox.record``)."""
ERASE_YES = "erase:yes"
ERASE_NO = "erase:no"

Question = Callable[[str, Any], tuple[str, Any]]
"""For a step id and its stored answer: the question and the answer as the participant
read them (a choice's labels rather than its ids)."""
Describe = Callable[[Mapping[str, Any]], tuple[str, Question]]
"""For a run of the gathered data: the flow's title and its :data:`Question`, in the
participant's language (the edge reads them from the flow)."""


def erase_question(tr: Translator, language: str | None) -> Outbound:
    return Outbound(
        tr.gettext(texts.DELETE_ASK),
        (Button(ERASE_YES, tr.gettext(texts.DELETE_YES)),
         Button(ERASE_NO, tr.gettext(texts.DELETE_NO))),
        kind="question", language=language, despite_stop=True,
    )


def asks_erasure(payload: Mapping[str, Any]) -> bool:
    """Whether an outbox row's message is the question :func:`erase_question` made."""
    buttons = payload.get("buttons") or []
    return bool(buttons) and buttons[0].get("payload") == ERASE_YES


def data_file(data: Mapping[str, Any], tr: Translator, language: str | None) -> Outbound:
    """The gathered data as a JSON file, with the secret its address carries where the
    platform fetches files by URL."""
    document = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True, default=str)
    return Outbound(tr.gettext(texts.MYDATA_FILE), language=language, despite_stop=True,
                    document=document, document_token=secrets.token_urlsafe(24))


def readable(data: Mapping[str, Any], tr: Translator, language: str | None,
             describe: Describe) -> Outbound:
    """Everything gathered, as one message a person can read: answers beside their
    questions, ideas as written, votes only counted."""
    lines = [tr.gettext(texts.MYDATA_INTRO), "",
             tr.gettext(texts.MYDATA_CHANNEL).format(channel=data.get("channel", ""),
                                                     address=data.get("address", ""))]
    if data.get("language"):
        lines.append(tr.gettext(texts.MYDATA_LANGUAGE).format(language=data["language"]))
    if data.get("first_seen_at"):
        lines.append(tr.gettext(texts.MYDATA_SINCE).format(
            date=_date(data["first_seen_at"], language)))
    profile = data.get("profile") or {}
    if profile:
        fields = ", ".join(f"{key}: {_value(value, tr)}" for key, value in profile.items())
        lines.append(tr.gettext(texts.MYDATA_PROFILE).format(fields=fields))
    for run in data.get("runs") or []:
        title, question = describe(run)
        lines += ["", tr.gettext(texts.MYDATA_FLOW).format(title=title)]
        consent = run.get("consent")
        if consent:
            lines.append(tr.gettext(texts.MYDATA_CONSENT).format(
                date=_date(consent["given_at"], language)))
        answers = run.get("answers") or []
        for answer in answers:
            asked, shown = question(answer["step"], answer["answer"])
            lines.append(f"• {asked}: {_value(shown, tr)}")
        if not answers:
            lines.append(tr.gettext(texts.MYDATA_NO_ANSWERS))
    ideas = data.get("ideas") or []
    if ideas:
        lines += ["", plural(tr, texts.MYDATA_IDEAS, len(ideas)).format(n=len(ideas))]
        lines += [f"• {idea['text']}" for idea in ideas]
    votes = int(data.get("votes") or 0)
    if votes:
        lines += ["", plural(tr, texts.MYDATA_VOTES, votes).format(n=votes)]
    for consent in data.get("consents") or []:
        if consent.get("kind") == "future" and (consent.get("granted_at")
                                                or consent.get("revoked_at")):
            granted = consent.get("granted_at") and not consent.get("revoked_at")
            lines.append(tr.gettext(texts.MYDATA_FUTURE_YES if granted
                                    else texts.MYDATA_FUTURE_NO))
    if data.get("stopped_at"):
        lines.append(tr.gettext(texts.MYDATA_STOPPED).format(
            date=_date(data["stopped_at"], language)))
    if not data.get("runs") and not ideas and not votes and not profile:
        lines += ["", tr.gettext(texts.MYDATA_NOTHING)]
    lines += ["", tr.gettext(texts.MYDATA_END)]
    return Outbound("\n".join(lines), language=language, despite_stop=True)


def _date(iso: str, language: str | None) -> str:
    when = datetime.fromisoformat(iso)
    try:
        return format_date(when, format="medium", locale=language or "en")
    except (UnknownLocaleError, ValueError):
        return when.date().isoformat()


def _value(value: Any, tr: Translator) -> str:
    if value is True:
        return tr.gettext(engine_texts.YES)
    if value is False:
        return tr.gettext(engine_texts.NO)
    if isinstance(value, (list, tuple)):
        return ", ".join(_value(v, tr) for v in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_value(v, tr)}" for k, v in value.items())
    return str(value)
