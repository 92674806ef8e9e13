"""A flood through the real Telegram webhook: 25 messages from one chat in 7.5 seconds (of
the injected clock). The first 20 are applied, the rest are recorded but answer nothing,
and the chat gets one notice, in its language; a chat writing at the same time at a
person's pace is served as usual; once the window has passed, the flooder is served
again at the question they had reached. A redelivered update held back changes nothing,
and ``/stop`` is never held back. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from abuse_harness import YES, seen
from telegram_harness import SECRET
from telegram_updates import Person
from two_channels import Process

from bot.channels import texts
from bot.i18n import translator
from bot.web import SECRET_HEADER, TELEGRAM_WEBHOOK

FLOOD = 25
APPLIED = 20


def notice(language: str) -> str:
    return translator(language).gettext(texts.FLOODING)


async def post(process: Process, update: dict[str, Any]) -> None:
    response = await process.client.post(TELEGRAM_WEBHOOK, json=update,
                                         headers={SECRET_HEADER: SECRET})
    assert response.status_code == 200, response.text


async def test_a_flooding_chat_is_slowed_down_with_one_notice_in_its_language(
    process: Process,
) -> None:
    he = Person(710001, "he", name="Noa")
    ar = Person(710002, "ar", name="Rami")
    en = Person(710003, "en", name="Ann")  # writes at a person's pace meanwhile
    for person in (he, ar, en):
        await process.telegram_says(person, "/start")
        await process.telegram_says(person, YES[person.language])
    await process.settled()

    start = process.clock.now = process.clock.now + timedelta(minutes=1)
    last: dict[str, Any] = {}
    for k in range(FLOOD):
        process.clock.now = start + timedelta(seconds=0.3 * k)
        last = he.text(f"תשובה {k + 1}")
        await post(process, last)
        await process.telegram_says(ar, f"إجابة {k + 1}")
        if k % 5 == 0:
            await process.telegram_says(en, f"answer {k // 5 + 1}")
    process.clock.now += timedelta(seconds=0.5)
    await post(process, last)  # redelivered, as Telegram does when unsure: held back once
    await process.settled()

    runtime = process.runtime
    for person, word in ((he, "תשובה"), (ar, "إجابة")):
        now = seen(runtime, "telegram", str(person.chat_id))
        assert now.answers == {f"q{n:02d}": f"{word} {n}" for n in range(1, APPLIED + 1)}
        assert now.step == f"q{APPLIED + 1:02d}"  # nothing held back moved the run
        assert now.inputs == 2 + FLOOD  # every one recorded, once
        shown = process.telegram.texts(person.chat_id)
        assert shown.count(notice(person.language)) == 1
        assert shown[-1] == notice(person.language)  # nothing after it: no question answered
    assert notice("he") != notice("en") and notice("ar") != notice("en")

    calm = seen(runtime, "telegram", str(en.chat_id))
    assert calm.answers == {f"q{n:02d}": f"answer {n}" for n in range(1, 6)}
    assert notice("en") not in process.telegram.texts(en.chat_id)

    # /stop is heard even mid-flood.
    await process.telegram_says(ar, "/stop")
    await process.settled()
    assert seen(runtime, "telegram", str(ar.chat_id)).stopped
    assert process.telegram.texts(ar.chat_id)[-1] == translator("ar").gettext(texts.STOPPED)

    # Ten seconds after the last input applied, the flooder is served again, where they were.
    process.clock.now = start + timedelta(seconds=0.3 * (APPLIED - 1) + 10.5)
    await process.telegram_says(he, "אחרי ההפסקה")
    await process.settled()
    after = seen(runtime, "telegram", str(he.chat_id))
    assert after.answers[f"q{APPLIED + 1:02d}"] == "אחרי ההפסקה"
    assert after.step == f"q{APPLIED + 2:02d}"
    assert process.telegram.texts(he.chat_id)[-1].startswith(f"Question {APPLIED + 2}?")
    assert process.telegram.texts(he.chat_id).count(notice("he")) == 1


async def test_a_second_flood_after_the_window_gets_its_own_notice(process: Process) -> None:
    person = Person(710011, "en")
    await process.telegram_says(person, "/start")
    await process.telegram_says(person, "yes")
    start = process.clock.now = process.clock.now + timedelta(minutes=1)
    for k in range(FLOOD):
        process.clock.now = start + timedelta(seconds=0.1 * k)
        await process.telegram_says(person, f"first {k + 1}")
    later = start + timedelta(seconds=30)
    for k in range(FLOOD):
        process.clock.now = later + timedelta(seconds=0.1 * k)
        await process.telegram_says(person, f"second {k + 1}")
    await process.settled()
    now = seen(process.runtime, "telegram", str(person.chat_id))
    assert len(now.answers) == 30  # 20, then the 10 questions left (and the end)
    assert process.telegram.texts(person.chat_id).count(notice("en")) == 2
