"""The WhatsApp channel end to end: Twilio's signed forms posted to the real app, replies
sent by the real sender through the official SDK to the fake Twilio API, on SQLite and
PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from fakes.twilio_api import FakeTwilio, inbound
from sqlalchemy import select, update
from twilio.rest import Client
from twilio.rest.content.v1.content import ContentList
from whatsapp_harness import SENDER, UNSIGNED, Chat

from bot.channels import texts
from bot.channels.base import Outbound
from bot.cli import main
from bot.engine.texts import WELCOME_BACK
from bot.i18n import translator
from bot.web import TWILIO_STATUS
from storage import UnitOfWork
from storage.models import Answer, OutboxMessage, Participant, ProcessedInput

ROOT = Path(__file__).resolve().parents[2]
PARK = ROOT / "flows" / "examples" / "neighbourhood-park.yaml"
SHAPES = """\
id: shapes
version: 1
default_language: en
steps:
  - {id: consent, type: consent, text: Do you agree?}
  - id: three
    type: choice
    text: Pick one of three
    options: [{id: a, label: Apples}, {id: b, label: Bananas}, {id: c, label: Cherries}]
  - id: seven
    type: choice
    text: Pick one of seven
    options:
SEVEN
  - id: twelve
    type: choice
    text: Pick one of twelve
    options:
TWELVE
  - {id: bye, type: end, text: Bye}
""".replace(
    "SEVEN", "\n".join(f"      - {{id: s{n}, label: Seven option {n}}}" for n in range(7))
).replace("TWELVE", "\n".join(f"      - {{id: t{n}, label: Twelve {n}}}" for n in range(12)))


def answers(chat: Chat) -> dict[str, Any]:
    with chat.runtime.session_factory() as session:
        return dict(session.execute(select(Answer.step_id, Answer.value)).all())


def outbox(chat: Chat) -> list[OutboxMessage]:
    with chat.runtime.session_factory() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_the_park_consultation_in_hebrew_over_whatsapp(whatsapp: Any) -> None:
    chat: Chat = await whatsapp(PARK)
    park = chat.runtime.registry.current("neighbourhood-park")
    phone = "+972501234567"
    await chat.say(phone, "שלום")
    seen = chat.seen(phone)
    assert seen[0] == park.step("welcome").text
    assert seen[1] == park.step("consent").text + "\n[כן] [לא]"  # two quick replies
    await chat.tap(phone, "כן")
    assert chat.seen(phone)[-1].startswith(park.step("age_band").text + "\n[לבחירה] ")  # a list
    await chat.tap(phone, "35 עד 49")
    assert chat.seen(phone)[-1].endswith("[צפונית לפארק] [דרומית לפארק] [רחוק יותר]")
    await chat.say(phone, "2")  # typed, not tapped
    await chat.say(phone, "4")  # visits
    uses = chat.seen(phone)[-1]
    assert "1. הליכה או ריצה" in uses and "6. ישיבה ומנוחה" in uses  # numbered: a multiple choice
    await chat.say(phone, "1, 6")
    await chat.tap(phone, "5")  # satisfaction 1-5: a list of five
    await chat.tap(phone, "לא")
    await chat.say(phone, "2")  # priorities: lighting
    await chat.say(phone, "ברזיות מים בכל פינה")
    await chat.tap(phone, "כן")
    assert chat.seen(phone)[-1] == park.step("thanks").text
    assert answers(chat) == {
        "age_band": "35_49", "neighbourhood": "south", "visits": 4, "uses": ["walk", "rest"],
        "satisfaction": 5, "young_children": False, "priorities": ["lighting"],
        "idea": "ברזיות מים בכל פינה", "updates": True,
    }
    # Interactive contents are created once and reused: yes/no asked three times.
    assert len(chat.twilio.contents) == len({m.content_sid for m in chat.twilio.messages()
                                             if m.content_sid})
    rows = outbox(chat)
    assert [r.delivery_status for r in rows] == ["delivered"] * len(rows)  # Twilio's reports


async def test_three_options_are_buttons_four_to_ten_a_list_and_more_numbered_text(
    whatsapp: Any, tmp_path: Path
) -> None:
    flow = tmp_path / "shapes.yaml"
    flow.write_text(SHAPES, encoding="utf-8")
    chat: Chat = await whatsapp(flow)
    phone = "+447700900123"
    await chat.say(phone, "hi")
    await chat.tap(phone, "Yes")
    assert chat.choices(phone)[1] == "twilio/quick-reply"
    await chat.tap(phone, "Bananas")
    assert chat.choices(phone)[1] == "twilio/list-picker"
    await chat.tap(phone, "Seven option 5")
    twelve = chat.seen(phone)[-1]
    assert twelve.startswith("Pick one of twelve\n\n1. Twelve 0\n")
    assert "12. Twelve 11" in twelve and twelve.endswith("Reply with the number of your answer.")
    await chat.say(phone, "12")
    assert answers(chat) == {"three": "b", "seven": "s5", "twelve": "t11"}


async def test_a_bad_or_missing_signature_is_refused_and_a_replay_is_applied_once(
    whatsapp: Any,
) -> None:
    chat: Chat = await whatsapp(PARK)
    params = inbound(chat.twilio, frm="whatsapp:+972500000001", to=SENDER, body="שלום")
    wrong = chat.twilio.sign(chat.url + "/twilio/whatsapp", {**params, "Body": "other"})
    for signature in (UNSIGNED, "", "AAAA", wrong):
        response = await chat.post(params, signature=signature)
        assert response.status_code == 403
    tampered = await chat.client.post("/twilio/whatsapp", data={**params, "Body": "hacked"},
                                      headers={"X-Twilio-Signature": chat.twilio.sign(
                                          chat.url + "/twilio/whatsapp", params)})
    assert tampered.status_code == 403
    with chat.runtime.session_factory() as session:
        assert session.scalars(select(Participant)).all() == []
        assert session.scalars(select(ProcessedInput)).all() == []
    for _ in range(3):  # Twilio retries a slow webhook with the same MessageSid
        assert (await chat.post(params)).status_code == 200
        await chat.settled()
    assert len(chat.seen("+972500000001")) == 2  # welcome and consent, once
    with chat.runtime.session_factory() as session:
        assert len(session.scalars(select(ProcessedInput)).all()) == 1


async def queue(chat: Chat, phone: str, message: Outbound) -> None:
    """Something Kolot writes unasked (a reminder, a phase's news), queued for ``phone``."""
    def write() -> None:
        with UnitOfWork(chat.runtime.session_factory) as uow:
            person = uow.participants.get("whatsapp", f"whatsapp:{phone}")
            assert person is not None
            uow.outbox.enqueue(person.id, "whatsapp", person.address, message.to_payload(),
                               now=datetime.now(UTC))
            uow.commit()

    await chat.runtime.run_db(write)
    assert chat.runtime.whatsapp_sender is not None
    chat.runtime.whatsapp_sender.wake()
    await chat.settled()


async def queue_reminder(chat: Chat, phone: str, text: str, language: str) -> None:
    await queue(chat, phone, Outbound(text, purpose="reminder", language=language))


async def last_message_25_hours_ago(chat: Chat, phone: str) -> None:
    then = datetime.now(UTC) - timedelta(hours=25)

    def age() -> None:
        with chat.runtime.session_factory() as session:
            session.execute(update(Participant).where(Participant.address == f"whatsapp:{phone}")
                            .values(last_inbound_at=then))
            session.commit()

    await chat.runtime.run_db(age)
    chat.twilio.heard_from(f"whatsapp:{phone}", then.timestamp())


async def test_a_reminder_25_hours_later_goes_as_the_template_or_is_held(
    whatsapp: Any, twilio: FakeTwilio, tmp_path: Path
) -> None:
    # The organiser made the template at Twilio (here through the SDK) and Meta approved it.
    made = twilio.attach(Client(twilio.account_sid, twilio.auth_token)).content.v1.contents \
        .create(ContentList.ContentCreateRequest({
            "friendly_name": "park_reminder", "language": "he", "variables": {"1": "..."},
            "types": {"twilio/text": {"body": "תזכורת מהעירייה: {{1}}"}}}))
    twilio.approve(made.sid)
    templates = tmp_path / "templates.yaml"
    templates.write_text(f"reminder:\n  he: {made.sid}\n", encoding="utf-8")
    chat: Chat = await whatsapp(PARK, whatsapp_templates=templates)
    he, ar = "+972501111111", "+972502222222"
    await chat.say(he, "שלום")
    await chat.say(ar, "مرحبا", extra={})
    await last_message_25_hours_ago(chat, he)
    await last_message_25_hours_ago(chat, ar)
    await queue_reminder(chat, he, "עוד לא סיימתם: נשמח לשמוע אתכם", "he")
    await queue_reminder(chat, ar, "لم تنته بعد", "ar")
    reminder = chat.twilio.messages(f"whatsapp:{he}")[-1]
    assert reminder.content_sid == made.sid
    assert reminder.content_variables == {"1": "עוד לא סיימתם: נשמח לשמוע אתכם"}
    assert chat.seen(he)[-1] == "תזכורת מהעירייה: עוד לא סיימתם: נשמח לשמוע אתכם"
    held = outbox(chat)[-1]
    assert held.status == "held"
    assert "no approved template for reminder in ar" in (held.last_error or "")
    assert len(chat.twilio.messages(f"whatsapp:{ar}")) == 2  # nothing sent to fail
    shown = CliRunner().invoke(main, ["outbox", "status", "--db",
                                      str(chat.runtime.settings.database_url)])
    assert shown.exit_code == 0, shown.output
    assert "whatsapp   held            1" in shown.output
    assert "no approved template for reminder in ar" in shown.output


async def test_a_window_that_closed_on_twilios_side_holds_the_message(whatsapp: Any) -> None:
    """Twilio reports 63016 after accepting a message: it is held, not retried, not lost."""
    chat: Chat = await whatsapp(PARK)
    phone = "+972503333333"
    await chat.say(phone, "שלום")
    # Our record says they wrote a minute ago; WhatsApp's says two days ago.
    chat.twilio.heard_from(f"whatsapp:{phone}", (datetime.now(UTC) - timedelta(days=2))
                           .timestamp())
    await queue(chat, phone, Outbound("ההצבעה נפתחה", language="he"))
    rows = outbox(chat)
    assert rows[-1].status == "held" and rows[-1].delivery_error == "63016"
    assert "24-hour window" in (rows[-1].last_error or "")
    assert "ההצבעה נפתחה" not in chat.seen(phone)


async def test_stop_in_hebrew_and_arabic_stops_everything_until_start(whatsapp: Any) -> None:
    chat: Chat = await whatsapp(PARK)
    consent = chat.runtime.registry.current("neighbourhood-park").step("consent").text
    he = translator("he")  # an Israeli number and no choice yet: the flow's Hebrew
    for phone, stop, start in (("+972504444444", "עצור", "התחל"),
                               ("+972505555555", "توقف", "ابدأ")):
        await chat.say(phone, "שלום")
        await chat.say(phone, stop)
        assert chat.seen(phone)[2:] == [he.gettext(texts.STOPPED)]
        await chat.say(phone, stop)  # confirmed once, not again
        await chat.say(phone, "כן")  # not taken as consent: they asked for no messages
        assert chat.seen(phone)[3:] == [he.gettext(texts.STILL_STOPPED)]
        await queue_reminder(chat, phone, "תזכורת", "he")
        assert len(chat.seen(phone)) == 4  # the reminder is not sent
        assert outbox(chat)[-1].status == "failed"
        await chat.say(phone, start)
        assert chat.seen(phone)[4:] == [he.gettext(WELCOME_BACK), consent + "\n[כן] [לא]"]
    assert answers(chat) == {}


async def test_status_reports_are_signed_recorded_and_never_go_backwards(
    whatsapp: Any,
) -> None:
    chat: Chat = await whatsapp(PARK)
    phone = "+972506666666"
    await chat.say(phone, "שלום")
    first = outbox(chat)[0]
    assert first.platform_message_id and first.delivery_status == "delivered"
    late = {"MessageSid": first.platform_message_id, "MessageStatus": "sent",
            "AccountSid": chat.twilio.account_sid, "ApiVersion": "2010-04-01"}
    assert (await chat.post(late, path=TWILIO_STATUS)).status_code == 200
    assert (await chat.post(late, path=TWILIO_STATUS, signature="bad")).status_code == 403
    read = {**late, "MessageStatus": "read"}
    assert (await chat.post(read, path=TWILIO_STATUS)).status_code == 200
    rows = {r.id: r for r in outbox(chat)}
    assert rows[first.id].delivery_status == "read"
    unknown = {**late, "MessageSid": "SM" + "f" * 32}
    assert (await chat.post(unknown, path=TWILIO_STATUS)).status_code == 200


async def test_twilio_rate_limits_and_errors_are_waited_out_without_loss(whatsapp: Any) -> None:
    chat: Chat = await whatsapp(PARK)
    chat.twilio.fail(429, 20429, times=2, path_contains="Messages")
    chat.twilio.fail(500, 20500, times=2, path_contains="Messages")
    phones = [f"+97250700000{n}" for n in range(5)]
    for phone in phones:
        await chat.say(phone, "שלום")
    for phone in phones:
        assert len(chat.seen(phone)) == 2
    assert {r.status for r in outbox(chat)} == {"sent"}


def test_unknown_parameters_are_tolerated() -> None:
    from bot.channels.whatsapp import read_message

    params = {"MessageSid": "SM" + "1" * 32, "From": "whatsapp:+972501234567", "Body": "1",
              "BrandNewTwilioField": json.dumps({"x": 1})}
    read = read_message(params)
    assert read is not None and read.text == "1"


def test_kolot_serve_takes_signed_whatsapp_forms(tmp_path: Path) -> None:
    """The real command, as deployed: channels are built before uvicorn's loop starts."""
    import os
    import socket
    import subprocess
    import sys
    import time

    import httpx
    from twilio.request_validator import RequestValidator

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    public = f"http://127.0.0.1:{port}"
    token = "e" * 32
    database = f"sqlite:///{tmp_path}/k.db"
    env = {**os.environ, "KOLOT_DATABASE_URL": database, "KOLOT_FLOWS": str(PARK),
           "KOLOT_TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "KOLOT_TWILIO_AUTH_TOKEN": token,
           "KOLOT_TWILIO_FROM": SENDER, "KOLOT_PUBLIC_URL": public,
           "KOLOT_PSEUDONYM_KEY": "k" * 32}
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--role", "web",
                                    "--port", str(port)], env=env, cwd=ROOT, stdout=out,
                                   stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(public + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        params = {"MessageSid": "SM" + "2" * 32, "From": "whatsapp:+972501234567",
                  "To": SENDER, "Body": "שלום", "NumMedia": "0"}
        signature = RequestValidator(token).compute_signature(public + "/twilio/whatsapp", params)
        answer = httpx.post(public + "/twilio/whatsapp", data=params,
                            headers={"X-Twilio-Signature": signature}, timeout=10)
        assert answer.status_code == 200 and "<Response>" in answer.text
        refused = httpx.post(public + "/twilio/whatsapp", data=params, timeout=10)
        assert refused.status_code == 403
    finally:
        process.terminate()
        process.wait(timeout=20)
    from storage.database import make_engine

    engine = make_engine(database)
    try:
        with engine.connect() as connection:
            keys = connection.execute(select(ProcessedInput.platform_id)).scalars().all()
    finally:
        engine.dispose()
    assert keys == ["SM" + "2" * 32]
