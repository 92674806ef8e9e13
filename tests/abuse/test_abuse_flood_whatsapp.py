"""A flood through the real Twilio webhook, as on Telegram: 25 messages from one number in
7.5 seconds of the injected clock; 20 applied, one notice in the number's language (Arabic
for Jordan, Hebrew for Israel), the rest recorded and answering nothing; another number
at the same time unaffected; served again once the window has passed. And Twilio's post is
bounded: a form over ``max_body_bytes`` is refused with 413 and stores nothing, whether
its length is declared or it just keeps coming. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
from abuse_harness import YES, counts, seen
from fakes.twilio_api import inbound
from two_channels import SENDER, Process

from bot.channels import texts
from bot.i18n import translator
from bot.web import WHATSAPP_WEBHOOK, create_app

FLOOD = 25
APPLIED = 20
PHONES = {"ar": "+962791000101", "he": "+972501000102", "en": "+447700900103"}


def notice(language: str) -> str:
    return translator(language).gettext(texts.FLOODING)


async def test_a_flooding_number_is_slowed_down_with_one_notice_in_its_language(
    process: Process,
) -> None:
    for language, phone in PHONES.items():
        await process.whatsapp_says(phone, "hello")
        await process.whatsapp_says(phone, YES[language])
    await process.settled()

    start = process.clock.now = process.clock.now + timedelta(minutes=1)
    for k in range(FLOOD):
        process.clock.now = start + timedelta(seconds=0.3 * k)
        await process.whatsapp_says(PHONES["ar"], f"إجابة {k + 1}")
        await process.whatsapp_says(PHONES["he"], f"תשובה {k + 1}")
        if k % 5 == 0:
            await process.whatsapp_says(PHONES["en"], f"answer {k // 5 + 1}")
    await process.settled()

    for language, word in (("ar", "إجابة"), ("he", "תשובה")):
        address = f"whatsapp:{PHONES[language]}"
        now = seen(process.runtime, "whatsapp", address)
        assert now.answers == {f"q{n:02d}": f"{word} {n}" for n in range(1, APPLIED + 1)}
        assert now.step == f"q{APPLIED + 1:02d}"
        assert now.inputs == 2 + FLOOD
        shown = process.twilio.seen(address)
        assert shown.count(notice(language)) == 1
        assert shown[-1] == notice(language)
    calm = f"whatsapp:{PHONES['en']}"
    assert seen(process.runtime, "whatsapp", calm).answers == {
        f"q{n:02d}": f"answer {n}" for n in range(1, 6)}
    assert notice("en") not in process.twilio.seen(calm)

    process.clock.now = start + timedelta(seconds=0.3 * (APPLIED - 1) + 10.5)
    await process.whatsapp_says(PHONES["ar"], "بعد الانتظار")
    await process.settled()
    address = f"whatsapp:{PHONES['ar']}"
    after = seen(process.runtime, "whatsapp", address)
    assert after.answers[f"q{APPLIED + 1:02d}"] == "بعد الانتظار"
    assert after.step == f"q{APPLIED + 2:02d}"
    assert process.twilio.seen(address)[-1].startswith(f"Question {APPLIED + 2}?")


async def test_a_twilio_post_over_the_body_limit_is_refused_and_stores_nothing(
    process: Process,
) -> None:
    await process.whatsapp_says(PHONES["en"], "hello")
    await process.settled()
    limit = process.runtime.settings.max_body_bytes
    params = inbound(process.twilio, frm=f"whatsapp:{PHONES['en']}", to=SENDER,
                     body="x" * (limit + 1))
    signature = process.twilio.sign(process.url + WHATSAPP_WEBHOOK, params)
    before = counts(process.runtime)

    declared = await process.client.post(WHATSAPP_WEBHOOK, data=params,
                                         headers={"X-Twilio-Signature": signature})
    assert declared.status_code == 413

    # No Content-Length: the body is counted as it arrives, and refused once over.
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(limit // 50_000 + 2):
            yield b"Body=" + b"x" * 50_000 + b"&"

    app = httpx.ASGITransport(app=create_app(process.runtime))
    async with httpx.AsyncClient(transport=app, base_url=process.url) as client:
        streamed = await client.post(WHATSAPP_WEBHOOK, content=chunks(), headers={
            "X-Twilio-Signature": signature,
            "content-type": "application/x-www-form-urlencoded"})
    assert streamed.status_code == 413
    assert "content-length" not in {k.lower() for k in streamed.request.headers}

    assert counts(process.runtime) == before
