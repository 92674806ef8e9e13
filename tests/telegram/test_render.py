"""Rendering outbox rows for Telegram, and reading its updates: pure functions, no network."""

from __future__ import annotations

from typing import Any

import pytest
from telegram_updates import Person, group_message

from bot.channels.base import Inbound, Outbound, Tap
from bot.channels.splitting import split
from bot.channels.telegram import Membership, parse_callback, read_update, render
from bot.channels.telegram.render import TEXT_LIMIT
from bot.engine import Button
from bot.i18n import translator

HE = translator("he")


def markup(call: Any) -> list[list[tuple[str, str]]]:
    keyboard = call.kwargs["reply_markup"].inline_keyboard
    return [[(b.text, b.callback_data) for b in row] for row in keyboard]


def test_choices_become_buttons_whose_data_fits_whatever_the_label() -> None:
    labels = ["מתחת ל-18", "18 עד 34", "ברוב ימות השנה, בערך פעמיים בשבוע, אולי יותר" * 2]
    message = Outbound("מה הגיל שלכם?", tuple(Button(f"o{n}", label) for n, label in
                                                enumerate(labels)), hint="השיבו במספר")
    (call,) = render(9_223_372_036_854_775_807, "501", message, HE)
    assert call.method == "sendMessage" and call.kwargs["text"] == "מה הגיל שלכם?"
    rows = markup(call)
    assert [label for row in rows for label, _ in row] == labels
    for row in rows:
        for _label, data in row:
            assert len(data.encode("utf-8")) <= 64
            assert parse_callback(data) is not None
    assert "parse_mode" not in call.kwargs  # participants' words can't break formatting


def test_short_labels_share_rows_and_long_ones_stand_alone() -> None:
    scale = Outbound("?", tuple(Button(str(n), str(n)) for n in range(0, 11)))
    assert [len(row) for row in markup(render(1, "5", scale, HE)[0])] == [5, 5, 1]
    vote = Outbound("?", (Button("vote:a", "A"), Button("vote:b", "B"),
                          Button("vote:skip", "Can't decide"), Button("vote:flag_a", "Report A")))
    assert [[label for label, _ in row] for row in markup(render(1, "5", vote, HE)[0])] == [
        ["A", "B"], ["Can't decide"], ["Report A"]]


def test_the_typing_hint_is_shown_only_without_buttons() -> None:
    typed = render(1, "5", Outbound("How many?", hint="Reply with a number."), HE)
    assert typed[0].kwargs["text"] == "How many?\n\nReply with a number."
    tapped = render(1, "5", Outbound("Pick", (Button("a", "A"),), hint="Reply 1"), HE)
    assert tapped[0].kwargs["text"] == "Pick"


def test_a_multiple_choice_toggles_and_done_sends_the_selection() -> None:
    options = tuple(Button(f"o{n}", f"Option {n}") for n in range(4))
    question = Outbound("Pick two", options, multiple=True, language="he")
    first = markup(render(77, "5", question, HE)[0])
    assert first[-1][0][0] == "סיימתי"  # Done, in the participant's language
    tap = parse_callback(first[2][0][1])
    assert tap == Tap(77, (2,), final=False)
    redraw = Outbound("Pick two", options, multiple=True, action="select", target_ref="12",
                      selected=(0, 2), origin=77, language="he")
    (call,) = render(99, "5", redraw, HE)
    assert call.method == "editMessageReplyMarkup" and call.kwargs["message_id"] == 12
    rows = markup(call)
    assert [label for row in rows[:-1] for label, _ in row] == [
        "✓ Option 0", "Option 1", "✓ Option 2", "Option 3"]
    assert parse_callback(rows[1][0][1]) == Tap(77, (0, 1, 2), final=False)  # adds 1
    assert parse_callback(rows[0][0][1]) == Tap(77, (2,), final=False)  # removes 0
    assert parse_callback(rows[-1][0][1]) == Tap(77, (0, 2), final=True)


@pytest.mark.parametrize("data", [None, "", "k", "k12", "k12.", "kx.1", "k1.t", "k1.zz",
                                  "k1.1.2", "k" + "9" * 20 + ".1", "k1.t" + "f" * 17, "🙂"])
def test_callback_data_we_never_made_reads_as_nothing(data: str | None) -> None:
    assert parse_callback(data) is None


def test_long_texts_split_on_paragraphs_and_keep_the_buttons_for_the_last_part() -> None:
    paragraph = "שורה של טקסט בעברית עם מילים רבות. " * 40
    text = "\n\n".join([paragraph.strip()] * 5)
    calls = render(3, "5", Outbound(text, (Button("y", "כן"),)), HE)
    parts = [c.kwargs["text"] for c in calls]
    assert len(parts) > 1 and all(len(p) <= TEXT_LIMIT for p in parts)
    assert "\n\n".join(parts) == text  # cut between paragraphs: nothing lost, nothing added
    assert "reply_markup" in calls[-1].kwargs
    assert all("reply_markup" not in c.kwargs for c in calls[:-1])


def test_split_falls_back_to_lines_words_and_then_characters() -> None:
    words = " ".join(["word"] * 3000)
    assert all(len(part) <= TEXT_LIMIT for part in split(words, TEXT_LIMIT))
    assert " ".join(split(words, TEXT_LIMIT)) == words
    solid = "x" * (TEXT_LIMIT * 2 + 5)
    assert [len(p) for p in split(solid, TEXT_LIMIT)] == [TEXT_LIMIT, TEXT_LIMIT, 5]
    emoji = "🙂" * 3000  # two UTF-16 units each, as Telegram counts
    assert all(len(p.encode("utf-16-le")) // 2 <= TEXT_LIMIT for p in split(emoji, TEXT_LIMIT))
    assert "".join(split(emoji, TEXT_LIMIT)) == emoji


def test_pictures_edits_and_acknowledgements() -> None:
    photo = render(1, "5", Outbound("Results", image="/tmp/chart.png"), HE)
    assert [(c.method, c.kwargs.get("caption")) for c in photo] == [("sendPhoto", "Results")]
    long_caption = render(1, "5", Outbound("x " * 600, image="https://example.org/c.png"), HE)
    assert [c.method for c in long_caption] == ["sendPhoto", "sendMessage"]
    edit = render(1, "5", Outbound("Q\n\n✓ A", action="edit", target_ref="41"), HE)
    assert [(c.method, c.kwargs) for c in edit] == [
        ("editMessageText", {"chat_id": "5", "message_id": 41, "text": "Q\n\n✓ A"})]
    (answer,) = render(1, "5", Outbound("", action="answer", callback="cb-1"), HE)
    assert (answer.method, answer.kwargs, answer.paced) == (
        "answerCallbackQuery", {"callback_query_id": "cb-1"}, False)


def test_updates_read_as_inputs() -> None:
    dana = Person(501, "he")
    start = read_update(dana.text("/start poster_7-north"))
    assert isinstance(start, Inbound)
    assert (start.command, start.start_payload, start.language_hint) == (
        "start", "poster_7-north", "he")
    too_long = read_update(dana.text("/start " + "a" * 65))
    assert isinstance(too_long, Inbound) and too_long.start_payload is None
    for text, command in (("/help", "help"), ("/back", "back"), ("/stop", "stop"),
                          ("/restart@kolot_test_bot", "restart")):
        read = read_update(dana.text(text))
        assert isinstance(read, Inbound) and read.command == command and read.text is None
    lang = read_update(dana.text("/lang ar"))
    assert isinstance(lang, Inbound) and (lang.command, lang.text) == (None, "/lang ar")
    for media in (dana.sticker(), dana.voice(), dana.photo("with a caption")):
        read = read_update(media)
        assert isinstance(read, Inbound) and read.unreadable == "media"
    edited = read_update(dana.edited("fixed"))
    assert isinstance(edited, Inbound) and edited.unreadable == "edit"
    blocked, back = read_update(dana.member("kicked")), read_update(dana.member("member"))
    assert blocked == Membership("501", blocked.platform_id, reachable=False)  # type: ignore[union-attr]
    assert isinstance(back, Membership) and back.reachable
    assert read_update(group_message(-100, "hello")) is None


def test_a_tap_reads_as_the_row_the_positions_and_the_ids_to_answer() -> None:
    dana = Person(501, "he")
    message = {"message_id": 41, "date": 0, "chat": dana.chat, "text": "Q"}
    update = dana.tap(message, "k12.t5")
    read = read_update(update)
    assert isinstance(read, Inbound) and read.tap is not None
    assert read.tap == Tap(12, (0, 2), False, "41", update["callback_query"]["id"])
    forged = read_update(dana.tap(message, "not ours"))
    assert isinstance(forged, Inbound) and forged.tap is not None and forged.tap.row == 0


@pytest.mark.parametrize("data", [{}, {"update_id": "7"}, {"update_id": 1, "message": 5},
                                  {"update_id": 1, "message": {"chat": {}}}])
def test_json_that_is_no_update_is_refused(data: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="not a Telegram update"):
        read_update(data)
