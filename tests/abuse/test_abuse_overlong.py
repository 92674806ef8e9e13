"""Overlong text through the real webhooks: 10,000 characters are cut to what the limit
keeps (on a word boundary), the participant is told so in their language before anything
else, and the step's own rules then apply to the cut text: a step that takes 6,000 stores
it, a step of the default 2,000 asks for a shorter answer, counting the cut text. In
Hebrew, Arabic and English on Telegram, and on WhatsApp; on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from abuse_harness import YES, seen, words
from telegram_updates import Person
from two_channels import Process

from bot.abuse import TEXT_LIMIT
from bot.channels import texts
from bot.engine import texts as engine_texts
from bot.engine.bidi import fill
from bot.engine.texts import plural
from bot.i18n import translator

LONG = 10_000


def cut_notice(language: str, kept: int) -> str:
    return fill(plural(translator(language), texts.CUT_TO, kept), length=kept)


def too_long(language: str, length: int) -> str:
    return fill(translator(language).gettext(engine_texts.SORRY_TOO_LONG), length=length,
                max=2000)


def expected_cut(text: str) -> str:
    """At the last space before the limit: these texts are words and spaces."""
    return text[:TEXT_LIMIT + 1].rsplit(" ", 1)[0].rstrip()


@pytest.mark.parametrize("language", ["he", "ar", "en"])
async def test_an_overlong_telegram_text_is_cut_with_a_notice(
    long_process: Process, language: str
) -> None:
    process = long_process
    person = Person({"he": 720001, "ar": 720002, "en": 720003}[language], language)
    await process.telegram_says(person, "/start")
    await process.telegram_says(person, YES[language])
    await process.settled()

    story = words(language, LONG)
    kept = expected_cut(story)
    assert len(kept) <= TEXT_LIMIT and len(story) == LONG
    process.clock.now += timedelta(seconds=1)
    await process.telegram_says(person, story)
    await process.settled()
    now = seen(process.runtime, "telegram", str(person.chat_id))
    assert now.answers["story"] == kept  # the step takes 6,000: the cut text is stored
    shown = process.telegram.texts(person.chat_id)
    assert shown[-2] == cut_notice(language, len(kept))  # told first, then the next question
    assert shown[-1].startswith("And in a few words?")

    short = words(language, LONG)[1:]  # another 10,000-odd, cut elsewhere
    kept_short = expected_cut(short)
    process.clock.now += timedelta(seconds=1)
    await process.telegram_says(person, short)
    await process.settled()
    now = seen(process.runtime, "telegram", str(person.chat_id))
    assert "short" not in now.answers and now.step == "short"
    shown = process.telegram.texts(person.chat_id)
    assert shown[-2] == cut_notice(language, len(kept_short))
    assert shown[-1] == too_long(language, len(kept_short))  # the cut text's length


async def test_an_overlong_whatsapp_text_is_cut_with_a_notice(long_process: Process) -> None:
    process = long_process
    phone = "+962791000201"  # Jordan: Arabic
    address = f"whatsapp:{phone}"
    await process.whatsapp_says(phone, "hello")
    await process.whatsapp_says(phone, YES["ar"])
    await process.settled()
    story = words("ar", LONG)
    await process.whatsapp_says(phone, story)
    await process.settled()
    kept = expected_cut(story)
    assert seen(process.runtime, "whatsapp", address).answers["story"] == kept
    shown = process.twilio.seen(address)
    assert shown[-2] == cut_notice("ar", len(kept))
    assert shown[-1].startswith("And in a few words?")


async def test_text_within_the_limit_is_taken_whole(long_process: Process) -> None:
    process = long_process
    person = Person(720010, "en")
    await process.telegram_says(person, "/start")
    await process.telegram_says(person, "yes")
    story = words("en", TEXT_LIMIT).strip()
    await process.telegram_says(person, story)
    await process.settled()
    assert seen(process.runtime, "telegram", str(person.chat_id)).answers["story"] == story
    assert not any("too long" in t for t in process.telegram.texts(person.chat_id))
