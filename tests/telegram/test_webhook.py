"""The Telegram channel end to end: real Update JSON posted to the real app, replies sent
by the real sender through python-telegram-bot to the fake Bot API, on SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select
from telegram_harness import EXAMPLES, SECRET, Served
from telegram_updates import Person, group_message

from bot.channels.base import Outbound
from storage import UnitOfWork
from storage.models import (
    Answer,
    OutboxMessage,
    Participant,
    ProcessedInput,
    Run,
)

PARK = "neighbourhood-park"
CSW = EXAMPLES / "civil-service-women.yaml"


def keyboard(served: Served, chat: int) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The newest message with buttons the chat shows (as sent, or as redrawn since), and
    its (label, data) pairs."""
    calls = [c for c in served.fake.calls if c.chat_id == str(chat) and c.status == 200]
    shown: dict[str, Any] | None = None
    for call in calls:
        asked = call.method == "sendMessage" and bool(call.params.get("reply_markup"))
        redrawn = call.method.startswith("edit") and shown is not None \
            and call.result["message_id"] == shown["message_id"]
        if asked or redrawn:
            shown = call.result
    if shown is None or not shown.get("reply_markup"):
        raise AssertionError("no message with buttons")
    buttons = [(b["text"], b["callback_data"]) for row in shown["reply_markup"]["inline_keyboard"]
               for b in row]
    return shown, buttons


async def tap(served: Served, person: Person, label: str) -> None:
    """Tap the button labelled ``label`` under the newest question."""
    message, buttons = keyboard(served, person.chat_id)
    data = dict(buttons)[label]
    response = await served.post(person.tap(message, data))
    assert response.status_code == 200
    await served.settled()


async def say(served: Served, person: Person, text: str) -> None:
    response = await served.post(person.text(text))
    assert response.status_code == 200, response.text
    await served.settled()


def answers(served: Served, flow_id: str) -> dict[str, Any]:
    with UnitOfWork(served.session_factory) as uow:
        rows = uow.session.execute(select(Answer.step_id, Answer.value)
                                   .where(Answer.flow_id == flow_id)).all()
    return dict(rows)


async def test_the_park_consultation_end_to_end_with_buttons_typing_back_and_lang(
    serve: Any,
) -> None:
    served = await serve()
    dana = Person(501, "he")
    park = served.runtime.registry.current(PARK)
    arabic = served.runtime.registry.localised(park, "ar")

    await say(served, dana, "/start")
    texts = served.fake.texts(501)
    assert texts[0] == park.step("welcome").text
    assert texts[1] == park.step("consent").text
    await tap(served, dana, "כן")  # consent, by button
    await tap(served, dana, "18 עד 34")
    await say(served, dana, "2")  # south, typed
    await say(served, dana, "/back")
    assert served.fake.texts(501)[-1] == park.step("neighbourhood").text
    await tap(served, dana, "צפונית לפארק")
    await say(served, dana, "3")  # visits a week
    await say(served, dana, "/lang")
    await tap(served, dana, "العربية")
    uses = arabic.step("uses")
    assert served.fake.texts(501)[-1] == uses.text  # the open question, now in Arabic
    # A multiple choice toggles: two taps redraw the buttons, Done sends the selection.
    await tap(served, dana, uses.options[0].label)
    await tap(served, dana, "✓ " + uses.options[0].label)  # untick
    await tap(served, dana, uses.options[0].label)
    await tap(served, dana, uses.options[3].label)
    _message, buttons = keyboard(served, 501)
    done = buttons[-1][0]
    await tap(served, dana, done)
    await tap(served, dana, "4")  # satisfaction
    await say(served, dana, "no")  # young children: typed, in English
    priorities = arabic.step("priorities")
    await tap(served, dana, priorities.options[0].label)
    await tap(served, dana, priorities.options[4].label)
    await tap(served, dana, keyboard(served, 501)[1][-1][0])
    await say(served, dana, "ספסלים בצל ליד הכניסה")
    await tap(served, dana, "نعم")
    assert served.fake.texts(501)[-1] == arabic.step("thanks").text

    assert answers(served, PARK) == {
        "age_band": "18_34",
        "neighbourhood": "north",
        "visits": 3,
        "uses": ["walk", "dog"],
        "satisfaction": 4,
        "young_children": False,
        "priorities": ["trees", "fountains"],
        "idea": "ספסלים בצל ליד הכניסה",
        "updates": True,
    }
    with served.session_factory() as session:
        run = session.scalars(select(Run)).one()
        assert run.status == "finished"
    calls = served.fake.calls
    answered = [c for c in calls if c.method == "answerCallbackQuery"]
    edited = [c for c in calls if c.method == "editMessageText"]
    redrawn = [c for c in calls if c.method == "editMessageReplyMarkup"]
    assert len(answered) == 14  # every tap is acknowledged
    assert len(redrawn) == 6  # the toggles: four for the uses, two for the priorities
    # A tapped question shows the answer chosen, and loses its buttons.
    assert edited[0].params["text"] == park.step("consent").text + "\n\n✓ כן"
    assert "reply_markup" not in edited[0].params
    assert all(c.status == 200 for c in calls)


async def test_every_update_delivered_twice_is_stored_once_and_answered_once(
    serve: Any,
) -> None:
    served = await serve(CSW)
    once, twice = Person(601, "en"), Person(602, "en")
    script: list[tuple[str, str]] = [("say", "/start"), ("tap", "Yes"), ("tap", "Business"),
                                     ("say", "1,3"), ("tap", "5"), ("say", "12"),
                                     ("tap", "No")]
    for kind, value in script:
        for person, times in ((once, 1), (twice, 2)):
            if kind == "say":
                update = person.text(value)
            else:
                message, buttons = keyboard(served, person.chat_id)
                update = person.tap(message, dict(buttons)[value])
            # Telegram redelivers when an answer is slow: the copies may arrive together.
            replies = await asyncio.gather(*(served.post(update) for _ in range(times)))
            assert [r.status_code for r in replies] == [200] * times
            await served.settled()
    assert served.fake.texts(602) == served.fake.texts(601)
    assert len(served.fake.sent(602)) == len(served.fake.sent(601))

    def acknowledged(chat: int) -> int:
        # A callback query's id is the chat id and then a counter shared by the whole test
        # session: the chat id is its start (the counter's digits may hold "602" too).
        return sum(1 for c in served.fake.calls
                   if c.method == "answerCallbackQuery" and str(c.params.get(
                       "callback_query_id", "")).startswith(str(chat)))
    assert acknowledged(602) == acknowledged(601) == 4
    with served.session_factory() as session:
        per_person = dict(session.execute(
            select(Participant.address, Participant.id)).all())
        counted = {
            address: len(session.scalars(select(Answer).where(
                Answer.participant_id == pid)).all())
            for address, pid in per_person.items()
        }
    assert counted == {"601": 5, "602": 5}  # sector, topics, importance, years, mentor
    assert served.count(ProcessedInput) == 2 * len(script)


async def test_a_wrong_or_missing_secret_is_refused_and_writes_nothing(serve: Any) -> None:
    served = await serve()
    eve = Person(666, "en")
    before = {model: served.count(model) for model in
              (Participant, ProcessedInput, Run, OutboxMessage, Answer)}
    for secret in (None, "", "wrong", SECRET + "x", SECRET[:-1]):
        response = await served.post(eve.text("/start"), secret=secret)
        assert response.status_code == 403
    assert {model: served.count(model) for model in before} == before
    assert served.fake.sent(666) == []


async def test_bad_bodies_get_a_4xx_and_change_nothing(serve: Any) -> None:
    served = await serve()
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    for body, status in ((b"{not json", 400), (b"[1, 2]", 400), (b'{"message": {}}', 400),
                         (b'{"update_id": "x"}', 400), (b"x" * 1_000_001, 413)):
        response = await served.client.post("/telegram/webhook", content=body,
                                            headers=headers)
        assert response.status_code == status, body[:20]
    assert served.count(Participant) == served.count(ProcessedInput) == 0


async def test_a_tap_on_an_older_question_gets_a_note_and_the_current_question(
    serve: Any,
) -> None:
    served = await serve(CSW)
    ana = Person(701, "en")
    await say(served, ana, "/start")
    await tap(served, ana, "Yes")
    old_message, old_buttons = keyboard(served, 701)  # the sector question
    await tap(served, ana, "Public sector")
    before = answers(served, "civil-service-women")
    response = await served.post(ana.tap(old_message, dict(old_buttons)["Business"]))
    assert response.status_code == 200
    await served.settled()
    texts = served.fake.texts(701)
    assert texts[-2] == "That button belongs to an earlier question. Here is the current one:"
    assert texts[-1] == "Which topics matter most? Choose up to two."
    assert answers(served, "civil-service-women") == before == {"sector": "public"}
    assert served.fake.calls[-3].method == "answerCallbackQuery"
    # Data we never made is an older question too.
    await served.post(ana.tap(old_message, "forged-data"))
    await served.settled()
    assert served.fake.texts(701)[-2:] == texts[-2:]


async def test_help_stop_and_start_again(serve: Any) -> None:
    served = await serve(CSW)
    ben = Person(801, "en")
    await say(served, ben, "/start")
    await say(served, ben, "/help")
    texts = served.fake.texts(801)
    assert texts[-2].startswith("I ask the questions of this consultation one at a time")
    assert texts[-1] == served.runtime.registry.current("civil-service-women").step(
        "consent").text
    await say(served, ben, "/stop")
    assert served.fake.texts(801)[-1].startswith("You will get no more messages from us.")
    # Something queued for them later (a moderator's note, a reminder) is not sent.
    with UnitOfWork(served.session_factory) as uow:
        person = uow.participants.get("telegram", "801")
        assert person is not None and person.stopped_at is not None
        uow.outbox.enqueue(person.id, "telegram", "801", Outbound("A reminder").to_payload(),
                           now=person.stopped_at)
        uow.commit()
    served.runtime.sender.wake()  # type: ignore[union-attr]
    await served.settled()
    assert "A reminder" not in served.fake.texts(801)
    with served.session_factory() as session:
        reminder = session.scalars(select(OutboxMessage).order_by(
            OutboxMessage.id.desc())).first()
        assert reminder is not None and reminder.status == "failed"
        assert "asked for no more messages" in (reminder.last_error or "")
    await say(served, ben, "yes")  # while stopped: not taken as an answer
    assert served.fake.texts(801)[-1].startswith("You asked for no more messages")
    assert answers(served, "civil-service-women") == {}
    await say(served, ben, "/start")
    assert served.fake.texts(801)[-2:] == [
        "Welcome back! Let's continue where you left off.",
        served.runtime.registry.current("civil-service-women").step("consent").text,
    ]


async def test_blocking_the_bot_stops_messages_and_unblocking_resumes(serve: Any) -> None:
    served = await serve(CSW)
    cai = Person(901, "en")
    await say(served, cai, "/start")
    assert (await served.post(cai.member("kicked"))).status_code == 200
    with served.session_factory() as session:
        person = session.scalars(select(Participant)).one()
        assert person.unreachable_at is not None
    sent_before = len(served.fake.sent(901))
    await say(served, cai, "yes")  # a message that crossed the block
    assert len(served.fake.sent(901)) == sent_before
    assert (await served.post(cai.member("member"))).status_code == 200
    await say(served, cai, "/start")
    assert served.fake.texts(901)[-1] == "Where do you work?"
    # Someone who blocks the bot before ever writing is not created.
    stranger = Person(902, "en")
    assert (await served.post(stranger.member("kicked"))).status_code == 200
    with served.session_factory() as session:
        assert session.scalars(select(Participant.address)).all() == ["901"]


async def test_a_participant_the_platform_says_blocked_us_gets_nothing_more(
    serve: Any,
) -> None:
    served = await serve(CSW)
    dov = Person(951, "en")
    await say(served, dov, "/start")
    served.fake.block(951)
    await say(served, dov, "yes")  # the answer is stored; the reply is refused (403)
    sent = len(served.fake.calls)
    await say(served, dov, "/restart")
    assert all(c.chat_id != "951" or c.status == 403 for c in served.fake.calls[sent:])
    with served.session_factory() as session:
        person = session.scalars(select(Participant)).one()
        assert person.unreachable_at is not None
        assert "blocked" in (person.unreachable_reason or "")
        failed = session.scalars(select(OutboxMessage.last_error).where(
            OutboxMessage.status == "failed")).all()
    assert failed and all(failed)  # every row that did not go says why
    assert served.count(OutboxMessage) == len(failed) + 2  # the two sent before the block


async def test_stickers_voice_photos_and_edits_get_a_polite_word_in_their_language(
    serve: Any,
) -> None:
    served = await serve()
    park = served.runtime.registry.current(PARK)
    he, ar = Person(1001, "he"), Person(1002, "ar")
    for person in (he, ar):
        await say(served, person, "/start")
        for update in (person.sticker(), person.voice(), person.photo("look")):
            assert (await served.post(update)).status_code == 200
            await served.settled()
        assert (await served.post(person.edited("כן"))).status_code == 200
        await served.settled()
    arabic = served.runtime.registry.localised(park, "ar")
    he_texts, ar_texts = served.fake.texts(1001), served.fake.texts(1002)
    assert he_texts[2] == (
        "מצטערים, כאן אפשר לקרוא רק הודעות טקסט ולחיצות על כפתורים. אפשר לענות על השאלה שלמטה."
    )
    assert he_texts[3] == park.step("consent").text
    assert ar_texts[3] == arabic.step("consent").text
    assert ar_texts[2] != he_texts[2] and ar_texts[2] == ar_texts[4] == ar_texts[6]
    assert he_texts[8] != he_texts[2]  # the edit gets its own note
    assert answers(served, PARK) == {}


async def test_a_deep_link_keeps_the_source_and_groups_are_ignored(serve: Any) -> None:
    served = await serve(CSW)
    eli, fay = Person(1101, "en"), Person(1102, "en")
    await say(served, eli, "/start poster-north_2")
    await say(served, eli, "/start radio")  # a later code does not overwrite the first
    await say(served, fay, "/start bad:payload!")  # not a valid payload: no source
    response = await served.post(group_message(-1009, "/start"))
    assert response.status_code == 200
    with served.session_factory() as session:
        sources = dict(session.execute(select(Participant.address, Participant.source)).all())
    assert sources == {"1101": "poster-north_2", "1102": None}
    assert served.fake.sent(-1009) == []
