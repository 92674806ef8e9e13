"""Closing the loop end to end: a process of 30 people on Telegram and WhatsApp, in Hebrew,
Arabic and English, moved through its phases by the injected clock; when voting closes,
each voter gets the results in their language with the chart, authors hear where their
idea came, and nobody who did not take part or opted out is written to.

One real server (``kolot serve``'s app, both channels), real webhook payloads, the real
senders through python-telegram-bot and the Twilio SDK to the fake platforms, on SQLite
and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fakes.telegram_api import FakeTelegram
from sqlalchemy import func, select
from telegram_updates import Person
from two_channels import Process, serve_both

from bot.closing import FIGURES, FUTURE, OWN_IDEA, RESULTS_HEAD, THANKS
from bot.engine.bidi import fill
from bot.i18n import translator
from bot.results import ranking
from storage import UnitOfWork
from storage.models import Consent

SQUARE = """\
id: square
version: 1
title: The town square
default_language: en
languages: [he, ar, en]
timezone: Asia/Jerusalem
quiet_hours: {from: "00:00", to: "00:00"}
phases:
  - {id: ideas, starts: "2026-03-01 09:00", ends: "2026-03-10 21:00"}
  - {id: voting, starts: "2026-03-11 09:00", ends: "2026-03-20 21:00"}
results:
  after: voting
  top: 3
  publish: [bench]
  next: The council decides in April which ideas to build first.
steps:
  - {id: consent, type: consent, text: Do you agree?}
  - {id: bench, type: yes_no, text: More benches?}
  - {id: idea, type: idea, text: Your idea for the square?, max_ideas: 1, phase: ideas}
  - {id: rank, type: vote, pool: idea, text: Which is better?, votes: 2, phase: voting}
  - {id: bye, type: end, text: Thanks!}
"""


@pytest.fixture
async def process(fresh_database: str, fake: FakeTelegram,
                  tmp_path: Path) -> AsyncIterator[Process]:
    async with serve_both(fresh_database, fake, tmp_path, SQUARE) as started:
        yield started


LANGUAGES = ("he", "ar", "en")
YES = {"he": "כן", "ar": "نعم", "en": "yes"}
NO = {"he": "לא", "ar": "لا", "en": "no"}
IDEAS = {
    "he": ["עצים גבוהים לצל", "ברזיית מים קרים", "מגרש כדורסל מואר", "ספסלים עם משענת",
           "פינת קריאה שקטה", "שירותים ציבוריים נקיים", "גינה קהילתית לירקות",
           "מתקני כושר לגיל השלישי"],
    "ar": ["نافورة ماء للشرب", "ملعب كرة قدم صغير", "إضاءة ليلية أفضل", "مظلات فوق المقاعد",
           "حديقة ورود ملونة", "مسار للدراجات الهوائية", "طاولات للنزهات العائلية",
           "مكتبة صغيرة مفتوحة"],
    "en": ["a climbing wall", "free public wifi", "a dog run with a fence",
           "an outdoor chess corner", "a small stage for concerts", "recycling bins",
           "a splash pad for children", "a weekly farmers market"],
}
PHONES = {"he": "+97250100000", "ar": "+96279100000", "en": "+44770090000"}
"""By country: Israel (Hebrew first), Jordan (Arabic), the United Kingdom (English)."""


async def test_when_voting_closes_every_voter_gets_the_results_in_their_language(
    process: Process,
) -> None:
    # -- the ideas phase: 24 take part (4 per language on each channel), 6 do not ----------
    voters_tg = {lang: [Person(1000 + 10 * n + i, lang) for i in range(4)]
                 for n, lang in enumerate(LANGUAGES)}
    voters_wa = {lang: [f"{PHONES[lang]}{i}" for i in range(4)] for lang in LANGUAGES}
    ideas: dict[str, str] = {}
    for lang in LANGUAGES:
        for i, person in enumerate(voters_tg[lang]):
            idea = IDEAS[lang][i]
            ideas[str(person.chat_id)] = idea
            for text in ("/start", YES[lang], YES[lang] if i % 2 else NO[lang], idea):
                await process.telegram_says(person, text)
        for i, phone in enumerate(voters_wa[lang]):
            idea = IDEAS[lang][4 + i]
            ideas[f"whatsapp:{phone}"] = idea
            for text in ("hello", YES[lang], YES[lang] if i % 2 else NO[lang], idea):
                await process.whatsapp_says(phone, text)
    never_consented = [Person(2001, "he"), Person(2002, "ar")]
    for person in never_consented:
        await process.telegram_says(person, "/start")
    declined = ["+972501000091", "+962791000092"]
    for phone in declined:
        await process.whatsapp_says(phone, "hello")
        await process.whatsapp_says(phone, "לא" if phone.startswith("+972") else "لا")
    await process.settled()

    # -- voting opens: everyone waiting at the vote is asked; they vote, two then opt out ----
    report = await process.tick("2026-03-20 08:00")  # 10:00 in Jerusalem
    assert report.asked == 24
    for lang in LANGUAGES:
        for person in voters_tg[lang]:
            for text in ("1", "2", NO[lang]):
                await process.telegram_says(person, text)
        for phone in voters_wa[lang]:
            for text in ("1", "2", NO[lang]):
                await process.whatsapp_says(phone, text)
    await process.settled()
    stopped_tg, stopped_wa = voters_tg["he"][3], voters_wa["ar"][3]
    await process.telegram_says(stopped_tg, "/stop")
    await process.whatsapp_says(stopped_wa, "STOP")
    await process.settled()
    with UnitOfWork(process.runtime.session_factory) as uow:
        standings = [r for r in ranking(uow, "square") if r.wins or r.losses]
    assert len(standings) == 24
    place = {r.text: n for n, r in enumerate(standings, start=1)}
    before_tg = {c.chat_id: len(process.telegram.sent(c.chat_id))
                 for c in [*never_consented, stopped_tg]}
    before_wa = {p: len(process.twilio.messages(f"whatsapp:{p}")) for p in [*declined,
                                                                          stopped_wa]}

    # -- voting closes (21:00 in Jerusalem): the results go out once -----------------------
    report = await process.tick("2026-03-20 19:01")
    assert report.results == 22
    again = await process.tick("2026-03-20 19:05")
    assert again.results == 0

    for lang in LANGUAGES:
        tr = translator(lang)
        head = fill(tr.gettext(RESULTS_HEAD), title="The town square")
        if lang != "en":
            assert tr.gettext(RESULTS_HEAD) != RESULTS_HEAD, f"no {lang} translation"
        for person in voters_tg[lang]:
            if person is stopped_tg:
                continue
            photo, text, shares, closing = process.telegram.sent(person.chat_id)[-4:]
            for picture in (photo, shares):
                assert picture.method == "sendPhoto"
                assert bytes(picture.params["photo"])[:8] == b"\x89PNG\r\n\x1a\n"
            assert shares.params["caption"] == "More benches?"
            body = str(text.params["text"])
            assert body.startswith(head), body
            figures = fill(tr.gettext(FIGURES), people="22", ideas="24", votes="48")
            assert figures.replace("\u2068", "").replace("\u2069", "") in \
                body.replace("\u2068", "").replace("\u2069", ""), body
            own = ideas[str(person.chat_id)]
            expected = fill(tr.gettext(OWN_IDEA), idea=own, rank=str(place[own]), count="24")
            assert expected in body, body
            assert tr.gettext(THANKS) in str(closing.params["text"])
            assert closing.params.get("reply_markup"), "the future question has buttons"
        for phone in voters_wa[lang]:
            if phone == stopped_wa:
                continue
            chart, text, shares, closing = process.twilio.messages(f"whatsapp:{phone}")[-4:]
            for picture in (chart, shares):
                assert picture.media_urls and picture.media_urls[0].startswith(
                    f"{process.url}/media/square-results-{lang}-")
                fetched = await process.client.get(
                    picture.media_urls[0].removeprefix(process.url))
                assert fetched.status_code == 200 and fetched.content[:4] == b"\x89PNG"
            own = ideas[f"whatsapp:{phone}"]
            expected = fill(tr.gettext(OWN_IDEA), idea=own, rank=str(place[own]), count="24")
            assert expected in text.text, text.text
            assert text.text.startswith(head)
            assert tr.gettext(THANKS) in closing.text

    # -- nobody who did not take part, or opted out, heard anything -------------------------
    for chat, n in before_tg.items():
        assert len(process.telegram.sent(chat)) == n, chat
    for phone, n in before_wa.items():
        assert len(process.twilio.messages(f"whatsapp:{phone}")) == n, phone

    # -- the question about future consultations: a consent of its own -------------------
    await process.telegram_says(voters_tg["he"][0], "כן")
    await process.whatsapp_says(voters_wa["en"][0], "no")
    await process.settled()
    with process.runtime.session_factory() as session:
        answers = {(c.granted_at is not None and c.revoked_at is None)
                   for c in session.scalars(select(Consent).where(Consent.kind == FUTURE))
                   if c.granted_at is not None or c.revoked_at is not None}
        asked = session.scalar(select(func.count()).select_from(Consent))
    assert asked == 22 and answers == {True, False}
