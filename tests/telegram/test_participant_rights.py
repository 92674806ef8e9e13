"""A participant's rights in the chat, on both channels and in Hebrew, Arabic and English:
``/mydata`` sends everything kept about them (a readable message and the same as a JSON
file), ``/stop`` ends all messages, ``/delete`` asks, then erases them: afterwards no row
of any table holds their address, their votes are still counted (anonymously) and their
ideas are gone. One real server (``kolot serve``'s app), real webhook payloads, the real
senders to the fake platforms.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from fakes.telegram_api import FakeTelegram
from fakes.twilio_api import inbound
from sqlalchemy import create_engine, func, select
from telegram_harness import SECRET
from telegram_updates import Person
from two_channels import SENDER, Process, serve_both

from bot.channels import texts as channel_texts
from bot.i18n import translator
from bot.rights import texts
from bot.web import SECRET_HEADER, TELEGRAM_WEBHOOK, WHATSAPP_WEBHOOK
from storage.models import AgreeVote, Base, Idea, Participant

FLOW = """\
id: square
version: 1
title: The square
default_language: en
languages: [en, he, ar]
steps:
  - {id: consent, type: consent, text: Do you agree?}
  - {id: city, type: text, text: Which city do you live in?, profile: city}
  - {id: idea, type: idea, text: Your idea for the square?, max_ideas: 1}
  - {id: judge, type: vote, pool: idea, method: agree, text: Do you agree?, votes: 1}
  - {id: bye, type: end, text: Thanks!}
"""

CITY = "Qiryat Tivon of the many oaks"
IDEA = "a shaded bench under the old carob tree"
OTHER_IDEA = "a drinking fountain by the bus stop"
PHONES = {"he": "+972501234567", "ar": "+962791234567", "en": "+447700900777"}
CHATS = {"he": 605117301, "ar": 605117302, "en": 605117303}


@pytest.fixture
async def run(fresh_database: str, fake: FakeTelegram, tmp_path: Path) -> AsyncIterator[Process]:
    async with serve_both(fresh_database, fake, tmp_path, FLOW) as started:
        yield started


def said(language: str, message: str) -> str:
    return translator(language).gettext(message)


def rows_holding(database: str, needle: str) -> list[str]:
    """Every row of every table in which ``needle`` appears, as ``table: row``."""
    engine = create_engine(database)
    found = []
    try:
        with engine.connect() as connection:
            for table in Base.metadata.sorted_tables:
                for row in connection.execute(select(table)):
                    if needle in repr(tuple(row)):
                        found.append(f"{table.name}: {tuple(row)!r}")
    finally:
        engine.dispose()
    return found


def count(database: str, query: Any) -> int:
    engine = create_engine(database)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(query) or 0)
    finally:
        engine.dispose()


async def someone_else_proposes(run: Process) -> None:
    """An idea from another person, so the participant has one to vote on."""
    other = Person(605117399, "en", name="Other")
    for text in ("/start", "yes", "Haifa", OTHER_IDEA):
        await run.telegram_says(other, text)
    await run.settled()


async def tap(run: Process, person: Person, label: str) -> None:
    """Tap the button labelled ``label`` on the newest message with buttons."""
    shown = [c.result for c in run.telegram.calls
             if c.chat_id == str(person.chat_id) and c.status == 200
             and c.method == "sendMessage" and c.params.get("reply_markup")][-1]
    buttons = {b["text"]: b["callback_data"]
               for row in shown["reply_markup"]["inline_keyboard"] for b in row}
    response = await run.client.post(TELEGRAM_WEBHOOK, json=person.tap(shown, buttons[label]),
                                     headers={SECRET_HEADER: SECRET})
    assert response.status_code == 200, response.text
    await run.settled()


def readable_and_file(text: str, data: dict[str, Any], language: str, address: str) -> None:
    """What ``/mydata`` must show: the answer, the idea, the vote count, the address."""
    assert said(language, texts.MYDATA_INTRO) in text
    assert CITY in text and IDEA in text and address in text
    assert said(language, texts.MYDATA_END) in text
    assert data["address"] == address and data["profile"] == {"city": CITY}
    [run_] = data["runs"]
    assert run_["language"] == language  # the participant chose none: the run's, by hint
    assert run_["flow"] == "square" and run_["consent"]["text"] == "Do you agree?"
    assert run_["consent"]["given_at"] and len(run_["consent"]["text_sha256"]) == 64
    assert {a["step"]: a["answer"] for a in run_["answers"]}["city"] == CITY
    assert [i["text"] for i in data["ideas"]] == [IDEA]
    assert data["votes"] == 1


@pytest.mark.parametrize("language", ["he", "ar", "en"])
async def test_mydata_stop_and_delete_on_telegram(run: Process, language: str) -> None:
    await someone_else_proposes(run)
    person = Person(CHATS[language], language)
    for text in ("/start", "yes", CITY, IDEA, "1"):
        await run.telegram_says(person, text)
    await run.settled()
    database = run.runtime.settings.database_url
    votes_before = count(database, select(func.count()).select_from(AgreeVote))
    assert votes_before == 1  # theirs, on the other's idea (the other had none to judge)

    await run.telegram_says(person, "/mydata")
    await run.settled()
    sent = run.telegram.sent(person.chat_id)
    readable, document = sent[-2], sent[-1]
    assert document.method == "sendDocument"
    assert document.params["caption"] == said(language, texts.MYDATA_FILE)
    data = json.loads(run.telegram.upload(document.result["document"]["file_id"]))
    readable_and_file(readable.params["text"], data, language, str(person.chat_id))

    await run.telegram_says(person, "/stop")
    await run.settled()
    assert run.telegram.texts(person.chat_id)[-1] == said(language, channel_texts.STOPPED)

    await run.telegram_says(person, "/delete")  # honoured while stopped too
    await run.settled()
    assert run.telegram.texts(person.chat_id)[-1] == said(language, texts.DELETE_ASK)
    await tap(run, person, said(language, texts.DELETE_YES))
    assert run.telegram.texts(person.chat_id)[-1] == said(language, texts.DELETED)

    assert rows_holding(database, str(person.chat_id)) == []
    assert count(database, select(func.count()).select_from(AgreeVote)) == votes_before
    assert count(database, select(func.count()).select_from(AgreeVote)
                 .where(AgreeVote.participant_id.is_(None))) == 1
    ideas = count(database, select(func.count()).select_from(Idea).where(Idea.text == IDEA))
    assert ideas == 0
    assert count(database, select(func.count()).select_from(Idea)
                 .where(Idea.text == OTHER_IDEA)) == 1

    # Writing again starts afresh: a new participant, asked for consent again.
    await run.telegram_says(person, "/start")
    await run.settled()
    assert run.telegram.texts(person.chat_id)[-1].startswith("Do you agree?")


@pytest.mark.parametrize("language", ["he", "ar", "en"])
async def test_mydata_stop_and_delete_on_whatsapp(run: Process, language: str) -> None:
    await someone_else_proposes(run)
    phone = PHONES[language]
    address = f"whatsapp:{phone}"
    for text in ("hello", "yes", CITY, IDEA, "1"):
        await run.whatsapp_says(phone, text)
    await run.settled()
    database = run.runtime.settings.database_url
    votes_before = count(database, select(func.count()).select_from(AgreeVote))

    await run.whatsapp_says(phone, "/mydata")
    await run.settled()
    readable, document = run.twilio.messages(address)[-2:]
    [url] = document.media_urls
    assert url.startswith(run.url) and document.body == said(language, texts.MYDATA_FILE)
    fetched = await run.client.get(url.removeprefix(run.url))
    assert fetched.status_code == 200
    assert fetched.headers["content-type"].startswith("text/plain")
    readable_and_file(readable.body or "", fetched.json(), language, address)
    # The address is the secret: another token, or another row, gets nothing.
    assert (await run.client.get(url.removeprefix(run.url)[:-3] + "abc")).status_code == 404

    await run.whatsapp_says(phone, "STOP")
    await run.settled()
    assert run.twilio.messages(address)[-1].body == said(language, channel_texts.STOPPED)

    await run.whatsapp_says(phone, "/delete")
    await run.settled()
    asked = run.twilio.seen(address)[-1]
    assert asked.startswith(said(language, texts.DELETE_ASK))
    confirm = said(language, texts.DELETE_CONFIRM_WORDS).split("|")[0]
    await run.whatsapp_says(phone, confirm)
    await run.settled()
    assert run.twilio.messages(address)[-1].body == said(language, texts.DELETED)

    assert rows_holding(database, phone.removeprefix("+")) == []
    assert count(database, select(func.count()).select_from(AgreeVote)) == votes_before
    assert count(database, select(func.count()).select_from(Idea)
                 .where(Idea.text == IDEA)) == 0
    # The data file went with them.
    assert (await run.client.get(url.removeprefix(run.url))).status_code == 404


async def test_keeping_ones_data_erases_nothing(run: Process) -> None:
    person = Person(CHATS["he"], "he")
    for text in ("/start", "yes", CITY):
        await run.telegram_says(person, text)
    await run.telegram_says(person, "/delete")
    await run.settled()
    await tap(run, person, said("he", texts.DELETE_NO))
    assert run.telegram.texts(person.chat_id)[-1] == said("he", texts.DELETE_KEPT)
    database = run.runtime.settings.database_url
    assert count(database, select(func.count()).select_from(Participant)) == 1
    assert rows_holding(database, CITY)  # the answer is still there
    # The confirming word typed later, with no erasure asked, is just an answer.
    await run.telegram_says(person, said("he", texts.DELETE_CONFIRM_WORDS).split("|")[0])
    await run.settled()
    assert count(database, select(func.count()).select_from(Participant)) == 1


async def test_a_whatsapp_tap_on_the_question_erases(run: Process) -> None:
    phone = PHONES["en"]
    address = f"whatsapp:{phone}"
    for text in ("hello", "yes", CITY, "/delete"):
        await run.whatsapp_says(phone, text)
    await run.settled()
    asked = run.twilio.messages(address)[-1]
    params = inbound(run.twilio, frm=address, to=SENDER,
                     button=(said("en", texts.DELETE_YES), "0"), replied_to=asked.sid)
    signature = run.twilio.sign(run.url + WHATSAPP_WEBHOOK, params)
    response = await run.client.post(WHATSAPP_WEBHOOK, data=params,
                                     headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200
    await run.settled()
    assert run.twilio.messages(address)[-1].body == said("en", texts.DELETED)
    assert rows_holding(run.runtime.settings.database_url, phone.removeprefix("+")) == []
