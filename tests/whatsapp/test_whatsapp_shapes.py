"""WhatsApp shapes without a network: choices by WhatsApp's limits, incoming forms read,
opt-out words in every language, templates per purpose and language."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.channels.base import Inbound, Outbound, Tap
from bot.channels.whatsapp import Templates, read_message, render
from bot.engine import Button
from bot.i18n import translator

HE = translator("he")


def choice(n: int, length: int = 6, **kw: object) -> Outbound:
    labels = [f"{'x' * (length - 2)}{k:02d}" for k in range(n)]
    return Outbound("Pick one", tuple(Button(f"o{k}", label) for k, label in enumerate(labels)),
                    hint="Reply with the number of your answer.", language="he",
                    **kw)  # type: ignore[arg-type]


def test_three_short_options_are_quick_replies_with_positions_as_ids() -> None:
    (send,) = render(choice(3), HE)
    assert send.content is not None and send.body is None
    quick = send.content.definition["types"]["twilio/quick-reply"]
    assert quick["body"] == "Pick one"
    assert quick["actions"] == [{"title": "xxxx00", "id": "0"}, {"title": "xxxx01", "id": "1"},
                                {"title": "xxxx02", "id": "2"}]
    assert send.content.definition["language"] == "he"
    # The same question for everyone: one content, created once.
    assert render(choice(3), HE)[0].content == send.content


def test_four_to_ten_options_are_a_list_with_a_translated_button() -> None:
    for n in (4, 10):
        (send,) = render(choice(n), HE)
        assert send.content is not None
        picker = send.content.definition["types"]["twilio/list-picker"]
        assert picker["button"] == "לבחירה"
        assert [i["id"] for i in picker["items"]] == [str(k) for k in range(n)]


def test_long_labels_many_options_or_a_multiple_choice_are_numbered_text() -> None:
    (listed,) = render(choice(3, length=21), HE)  # too long for a button, fits a list row
    assert listed.content is not None and "twilio/list-picker" in listed.content.definition["types"]
    for message in (choice(3, length=25), choice(11), choice(5, length=25),
                    choice(3, multiple=True)):
        (send,) = render(message, HE)
        assert send.content is None and send.body is not None
        lines = send.body.split("\n")
        assert lines[0] == "Pick one" and lines[2].startswith("1. ")
        assert lines[-1] == "Reply with the number of your answer."
    (plain,) = render(choice(3), HE, interactive=False)
    assert plain.body is not None and "3. xxxx02" in plain.body


def test_long_texts_are_split_under_whatsapps_limit() -> None:
    text = "\n\n".join(["פסקה " + " ".join(["מילה"] * 200)] * 4)
    sends = render(Outbound(text), HE)
    assert len(sends) > 1 and all(s.body and len(s.body) <= 1600 for s in sends)
    assert "\n\n".join(s.body or "" for s in sends) == text


def test_edits_and_acknowledgements_are_nothing_on_whatsapp() -> None:
    assert render(Outbound("Q", action="edit", target_ref="1"), HE) == []
    assert render(Outbound("", action="answer", callback="x"), HE) == []


def form(**extra: str) -> dict[str, str]:
    return {"MessageSid": "SM" + "a" * 32, "AccountSid": "AC" + "b" * 32,
            "From": "whatsapp:+972501234567", "To": "whatsapp:+14155238886", "Body": "",
            "NumMedia": "0", "NumSegments": "1", "SmsStatus": "received",
            "ApiVersion": "2010-04-01", "ProfileName": "Dana", "WaId": "972501234567",
            "SomethingTwilioAddedLater": "ignored", **extra}


def test_incoming_forms_read_as_inputs() -> None:
    typed = read_message(form(Body="שלום"))
    assert typed == Inbound("whatsapp", "whatsapp:+972501234567", "SM" + "a" * 32, text="שלום")
    tapped = read_message(form(Body="Yes", ButtonText="Yes", ButtonPayload="0",
                               OriginalRepliedMessageSid="SM" + "c" * 32))
    assert tapped is not None and tapped.tap == Tap(None, (0,), message_ref="SM" + "c" * 32,
                                                    edits=False)
    listed = read_message(form(Body="Option", ListId="7", ListTitle="Option"))
    assert listed is not None and listed.tap is not None and listed.tap.picks == (7,)
    photo = read_message(form(NumMedia="1", MediaUrl0="https://api.twilio.com/x",
                              MediaContentType0="image/jpeg"))
    assert photo is not None and photo.unreadable == "media"
    assert read_message(form(Latitude="32.07", Longitude="34.78")) is not None
    assert read_message(form(Body="   ")) is None


@pytest.mark.parametrize("word", ["STOP", "Unsubscribe", "עצור", "הסר", "توقف", "إلغاء",
                                  "стоп", "Отписаться", " stop "])
def test_stop_words_in_every_language_stop(word: str) -> None:
    read = read_message(form(Body=word))
    assert read is not None and read.command == "stop"


@pytest.mark.parametrize("word", ["START", "התחל", "ابدأ", "старт"])
def test_start_words_resume(word: str) -> None:
    read = read_message(form(Body=word))
    assert read is not None and read.command == "start"


def test_a_stop_inside_a_sentence_is_an_answer() -> None:
    read = read_message(form(Body="stop the traffic near the park"))
    assert read is not None and read.command is None and read.text is not None


def test_a_form_that_is_no_whatsapp_message_is_refused() -> None:
    with pytest.raises(ValueError, match="not a WhatsApp message"):
        read_message({"Body": "hi"})
    with pytest.raises(ValueError, match="not a WhatsApp message"):
        read_message(form(From="+972501234567"))


def test_templates_per_purpose_and_language(tmp_path: Path) -> None:
    path = tmp_path / "templates.yaml"
    path.write_text("reminder:\n  he: HX11\n  '*': HX99\nresults:\n  ar: HX22\n",
                    encoding="utf-8")
    templates = Templates.load(path)
    assert templates.find("reminder", "he") == "HX11"
    assert templates.find("reminder", "ru") == "HX99"
    assert templates.find("results", "ar") == "HX22"
    assert templates.find("results", "he") is None
    assert templates.find(None, "he") is None  # a reply has no template
    path.write_text("reminders:\n  he: HX11\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown purpose 'reminders'"):
        Templates.load(path)
    path.write_text("reminder:\n  he: 12345\n", encoding="utf-8")
    with pytest.raises(ValueError, match="Content sid"):
        Templates.load(path)
