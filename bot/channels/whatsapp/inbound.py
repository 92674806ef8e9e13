"""Twilio's WhatsApp webhook parameters as Kolot inputs.

Twilio posts a form per incoming message (and adds parameters without notice: unknown
ones are ignored). ``From`` is ``whatsapp:+<E.164>``, kept whole as the participant's
address. ``MessageSid`` is the input's key, so a redelivery changes nothing. A tap on a
quick reply arrives as ``ButtonPayload`` (and ``ButtonText``), a pick in a list as
``ListId`` (and ``ListTitle``); both carry the option's position, and
``OriginalRepliedMessageSid`` names the message tapped. ``NumMedia`` above zero is a
picture, voice note or file: no answer, worth a polite word. STOP, UNSUBSCRIBE and their
equivalents in every catalog's language stop all messages; START resumes. "/mydata" and
"/delete" (and their words in each language) ask for one's data and its erasure.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from bot.channels import texts
from bot.channels.base import Inbound, Tap
from bot.engine.texts import words
from bot.i18n import LOCALES_DIR, translator
from bot.rights import texts as rights_texts

__all__ = ["CHANNEL", "read_message"]

CHANNEL = "whatsapp"


@lru_cache(maxsize=8)
def _every_language(message: str) -> frozenset[str]:
    """A word list in English and in every language Kolot has a catalog for: the word
    decides before we know (or trust) the participant's language."""
    found = set(words(translator(None), message))
    for catalog in LOCALES_DIR.glob("*/LC_MESSAGES/messages.po"):
        found |= words(translator(catalog.parent.parent.name), message)
    return frozenset(found)


def read_message(params: Mapping[str, str]) -> Inbound | None:
    """What one incoming message means. Raises ``ValueError`` for a form that is no
    WhatsApp message; ``None`` for one with nothing to answer."""
    sid = params.get("MessageSid") or params.get("SmsMessageSid")
    sender = params.get("From", "")
    if not sid or not sender.startswith("whatsapp:+"):
        raise ValueError("not a WhatsApp message: MessageSid or From missing")
    body = params.get("Body", "")
    chosen = params.get("ButtonPayload") or params.get("ListId")
    if chosen is not None and chosen.isdigit() and len(chosen) <= 3:
        tap = Tap(None, (int(chosen),), message_ref=params.get("OriginalRepliedMessageSid"),
                  edits=False)
        return Inbound(CHANNEL, sender, sid, tap=tap)
    media = params.get("NumMedia", "0")
    if (media.isdigit() and int(media) > 0) or (not body.strip() and params.get("Latitude")):
        return Inbound(CHANNEL, sender, sid, unreadable="media")
    said = body.strip().casefold()
    if not said:
        return None
    if said in _every_language(texts.STOP_WORDS):
        return Inbound(CHANNEL, sender, sid, command="stop")
    if said in _every_language(texts.START_WORDS):
        return Inbound(CHANNEL, sender, sid, command="start")
    if said in _every_language(rights_texts.MYDATA_WORDS):
        return Inbound(CHANNEL, sender, sid, command="mydata")
    if said in _every_language(rights_texts.DELETE_WORDS):
        return Inbound(CHANNEL, sender, sid, command="delete")
    return Inbound(CHANNEL, sender, sid, text=body)
