"""Closing the loop end to end: a process of 30 people on Telegram and WhatsApp, in Hebrew,
Arabic and English, moved through its phases by the injected clock; when voting closes,
each voter gets the results in their language with the chart, authors hear where their
idea came, and nobody who did not take part or opted out is written to.

One real server (``kolot serve``'s app, both channels), real webhook payloads, the real
senders through python-telegram-bot and the Twilio SDK to the fake platforms, on SQLite
and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fakes.telegram_api import FakeTelegram
from fakes.twilio_api import FakeTwilio, inbound
from sqlalchemy import func, select
from telegram_harness import FAST_RETRIES, SECRET, TOKEN
from telegram_updates import Person

from bot.closing import FIGURES, FUTURE, OWN_IDEA, RESULTS_HEAD, THANKS
from bot.engine.bidi import fill
from bot.i18n import translator
from bot.outbox.pace import Caps
from bot.results import ranking
from bot.server import Runtime
from bot.settings import TELEGRAM_CAPS, Settings
from bot.web import SECRET_HEADER, TELEGRAM_WEBHOOK, WHATSAPP_WEBHOOK, create_app
from storage import UnitOfWork
from storage.models import Consent, OutboxMessage

SENDER = "whatsapp:+14155238886"
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


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = at("2026-03-02 08:00")

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Process:
    runtime: Runtime
    url: str
    telegram: FakeTelegram
    twilio: FakeTwilio
    client: httpx.AsyncClient
    clock: Clock

    async def telegram_says(self, person: Person, text: str) -> None:
        response = await self.client.post(TELEGRAM_WEBHOOK, json=person.text(text),
                                          headers={SECRET_HEADER: SECRET})
        assert response.status_code == 200, response.text

    async def whatsapp_says(self, phone: str, text: str) -> None:
        params = inbound(self.twilio, frm=f"whatsapp:{phone}", to=SENDER, body=text)
        signature = self.twilio.sign(self.url + WHATSAPP_WEBHOOK, params)
        response = await self.client.post(WHATSAPP_WEBHOOK, data=params,
                                          headers={"X-Twilio-Signature": signature})
        assert response.status_code == 200, response.text

    async def tick(self, when: str) -> Any:
        self.clock.now = at(when)
        report = await self.runtime.run_db(lambda: self.runtime.ticker.tick(self.clock.now))
        await self.settled()
        return report

    async def settled(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while await self.runtime.run_db(self._unsent):
            assert time.monotonic() < deadline, "the outbox did not drain in time"
            await asyncio.sleep(0.05)
        await asyncio.to_thread(self.twilio.settle)

    def _unsent(self) -> int:
        with self.runtime.session_factory() as session:
            return int(session.scalar(
                select(func.count()).select_from(OutboxMessage)
                .where(OutboxMessage.status.in_(("pending", "sending")))) or 0)


@pytest.fixture
async def process(fresh_database: str, fake: FakeTelegram,
                  tmp_path: Path) -> AsyncIterator[Process]:
    flow = tmp_path / "square.yaml"
    flow.write_text(SQUARE, encoding="utf-8")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    clock = Clock()
    with FakeTwilio() as twilio:
        settings = replace(
            Settings(database_url=fresh_database), flows=(flow,), public_url=url,
            media=tmp_path / "media",
            telegram_token=TOKEN, telegram_secret=SECRET, telegram_api_url=fake.url,
            telegram_caps=Caps(TELEGRAM_CAPS.overall, "100/second", TELEGRAM_CAPS.group),
            twilio_account_sid=twilio.account_sid, twilio_auth_token=twilio.auth_token,
            twilio_from=SENDER, twilio_api_url=twilio.url, tick_seconds=3600)
        runtime = Runtime(settings, clock=clock, retry_delays=FAST_RETRIES, sender_idle=0.05)
        server = uvicorn.Server(uvicorn.Config(create_app(runtime), log_level="warning",
                                               lifespan="on"))
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            yield Process(runtime, url, fake, twilio, client, clock)
        server.should_exit = True
        await asyncio.wait_for(task, timeout=15)


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
