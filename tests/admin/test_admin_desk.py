"""Admins in the chat, through the real Service on SQLite and PostgreSQL: each command
answers an admin with the texts and buttons expected in their outbox; a tap on Approve
moderates the idea; the /broadcast conversation queues the broadcast for the right
audience and Cancel queues nothing; the same inputs from anyone else get the ordinary
participant behaviour and a log line without their address or text."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest
from admin_world import ADMIN, NOW, WHATSAPP_ADMIN, World, idea_status, make_world
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.admin import texts
from bot.channels.base import Tap
from bot.closing import close_phase
from bot.moderation import REASONS
from bot.stats import render_text, report
from storage import UnitOfWork
from storage.models import Broadcast, Idea, OutboxMessage

pytestmark = pytest.mark.storage

IDEAS = ("A drinking fountain by the benches", "Shade over the playground please",
         "More trees along the northern path")


@pytest.fixture
def world(session_factory: sessionmaker[Session], tmp_path: Path) -> World:
    folder = tmp_path / "broadcasts"
    folder.mkdir()
    return make_world(session_factory, tmp_path, folder)


def people_with_ideas(world: World) -> None:
    """Three participants who consented and proposed an idea each (held for moderation),
    and one who started but did not consent."""
    for n, idea in enumerate(IDEAS):
        world.join(f"20{n}", idea)
    world.send("299", command="start")


def count_rows(world: World, model: type) -> int:
    with world.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


# --- each command, for an admin --------------------------------------------------------


def test_help_lists_the_admin_commands(world: World) -> None:
    handled = world.send(ADMIN, command="help")
    assert not handled.duplicate
    [text] = world.said(ADMIN)
    assert text == texts.HELP.format(flows="square")
    for command in ("/stats", "/pending", "/results", "/broadcast", "/close PHASE"):
        assert command in text
    assert world.send(ADMIN, "/help").messages[0].text == text  # typed, as on WhatsApp


def test_stats_are_the_funnel_kolot_stats_prints(world: World) -> None:
    people_with_ideas(world)
    world.send(ADMIN, "/stats")
    [text] = world.said(ADMIN)
    with UnitOfWork(world.session_factory) as uow:
        expected = render_text(report(uow, world.service.flows.current("square"))).rstrip()
    assert text == expected
    assert "  reached        4  100.0%" in text and "  consented      3   75.0%" in text
    world.send(ADMIN, "/stats@kolot_bot square")  # a group-style command, the flow named
    assert world.said(ADMIN)[-1] == expected
    world.send(ADMIN, "/stats park")
    assert world.said(ADMIN)[-1] == "There is no flow “park”. Flows: square."


def test_pending_shows_each_idea_with_approve_and_reject_and_a_tap_approves(
    world: World,
) -> None:
    people_with_ideas(world)
    world.send(ADMIN, "/pending")
    rows = world.rows(ADMIN)
    assert [r.message.text.split("\n", 1)[1] for r in rows] == list(IDEAS)
    assert all(r.labels == ["Approve", "Reject"] for r in rows)
    assert rows[0].message.text.startswith("Idea ")
    assert "(idea, en)" in rows[0].message.text
    assert all(r.state["do"] == "idea" for r in rows)

    before = world.last_row(ADMIN)
    world.tap(ADMIN, rows[0].id, 0)  # Approve
    assert idea_status(world.session_factory)[IDEAS[0]] == "approved"
    after = [r for r in world.rows(ADMIN) if r.id > before]
    assert [r.message.action for r in after] == ["answer", "edit"]
    assert after[1].message.target_ref == f"m{rows[0].id}"
    assert after[1].message.text.startswith("✓ Approved, idea ")
    assert after[1].message.text.endswith(IDEAS[0])

    author = world.last_row("201")
    world.tap(ADMIN, rows[1].id, 1)  # Reject: its author is told why
    assert idea_status(world.session_factory)[IDEAS[1]] == "rejected"
    [notice] = world.said("201", after=author)
    assert REASONS["rules"] in notice and IDEAS[1] in notice

    world.tap(ADMIN, rows[0].id, 1)  # a second tap changes nothing
    assert idea_status(world.session_factory)[IDEAS[0]] == "approved"
    assert world.said(ADMIN)[-1].startswith("Idea ")
    assert "was moderated already (approved)" in world.said(ADMIN)[-1]

    world.send(ADMIN, "/pending")
    assert world.said(ADMIN)[-1].endswith(IDEAS[2])  # only the one still waiting


def test_pending_with_nothing_waiting(world: World) -> None:
    world.send(ADMIN, "/pending square")
    assert world.said(ADMIN) == ["No ideas await moderation in square."]


def test_a_typed_number_answers_the_newest_buttons_where_the_platform_shows_numbers(
    world: World,
) -> None:
    people_with_ideas(world)
    world.send(ADMIN, "/pending")
    world.tap(ADMIN, world.rows(ADMIN)[0].id, 0, edits=False)  # WhatsApp: a new message
    assert world.said(ADMIN)[-1].startswith("✓ Approved")
    world.send(ADMIN, "/pending")
    world.send(ADMIN, "2")  # Reject, for the newest idea shown
    assert idea_status(world.session_factory)[IDEAS[2]] == "rejected"
    assert idea_status(world.session_factory)[IDEAS[1]] == "pending"


def test_on_whatsapp_a_reply_names_the_message_by_its_sid(world: World) -> None:
    people_with_ideas(world)
    world.send(WHATSAPP_ADMIN, "/pending")
    rows = world.rows(WHATSAPP_ADMIN)
    with UnitOfWork(world.session_factory) as uow:  # as the sender records them
        uow.outbox.mark_sent([r.id for r in rows], now=NOW,
                             platform_ids=[f"SM{r.id:032d}" for r in rows])
        uow.commit()
    # Twilio's quick reply: the button's position, and the message it was under.
    world.send(WHATSAPP_ADMIN, tap=Tap(None, (0,), message_ref=f"SM{rows[1].id:032d}",
                                       edits=False))
    assert idea_status(world.session_factory) == {IDEAS[0]: "pending", IDEAS[1]: "approved",
                                                  IDEAS[2]: "pending"}
    reply = world.rows(WHATSAPP_ADMIN)[-1].message
    assert reply.action == "send" and reply.text.startswith("✓ Approved")


def test_results_list_the_top_ideas_with_scores(world: World) -> None:
    people_with_ideas(world)
    world.send(ADMIN, "/results")
    assert world.said(ADMIN) == ["No votes yet in square."]
    with UnitOfWork(world.session_factory) as uow:
        ids = {i.text: i.id for i in uow.ideas.listed("square")}
        for idea_id in ids.values():
            uow.ideas.set_status(idea_id, "approved", now=NOW)
        a, b, c = (ids[t] for t in IDEAS)
        for n, (winner, loser) in enumerate([(a, b), (a, c), (b, c)]):
            voter = uow.participants.get("telegram", f"20{n}")
            assert voter is not None
            uow.votes.record_pair("square", voter.id, (winner, loser), winner, now=NOW)
        uow.commit()
    world.send(ADMIN, "/results")
    lines = world.said(ADMIN)[-1].split("\n")
    assert lines[0] == "The top ideas of square (score 0-100, wins-losses):"
    assert [line.split(") ", 1)[1].removeprefix("(provisional) ") for line in lines[1:]] == \
        list(IDEAS)
    assert lines[1].startswith("1. ") and "(2-0)" in lines[1]


# --- /broadcast --------------------------------------------------------------------------


NEWS = """\
name: news-1
flow: square
messages:
  en: The ideas are in, thank you!
  he: הרעיונות נאספו, תודה!
"""


def test_broadcast_of_a_prepared_file_queues_it_for_its_audience(
    world: World, tmp_path: Path
) -> None:
    people_with_ideas(world)
    (tmp_path / "broadcasts" / "news.yaml").write_text(NEWS, encoding="utf-8")
    world.send(ADMIN, "/broadcast")
    [menu] = world.rows(ADMIN)
    assert menu.message.text == "Which broadcast? Choose a prepared file from " \
        f"{tmp_path / 'broadcasts'}, or write a new message."
    assert menu.labels == ["news.yaml", "New message: square"]

    world.tap(ADMIN, menu.id, 0)
    confirm = world.rows(ADMIN)[-1]
    assert confirm.labels == ["Confirm", "Cancel"]
    assert confirm.message.text.startswith(
        "Broadcast news-1 to the participants of square: 3 recipients.\n"
        "By language: en 3\nBy channel: telegram 3\nGoes: now\n\n"
        "The ideas are in, thank you!")
    assert count_rows(world, Broadcast) == 0  # nothing before it is confirmed

    world.tap(ADMIN, confirm.id, 0)
    assert world.said(ADMIN)[-1] == ("✓ Broadcast news-1: written to the outbox for 3 "
                                     "recipients, who get it as the senders work through it.")
    got = {address: [r.message.text for r in world.rows(address) if r.broadcast_id]
           for address in ("200", "201", "202", "299", ADMIN)}
    assert got == {"200": ["The ideas are in, thank you!"],
                   "201": ["The ideas are in, thank you!"],
                   "202": ["The ideas are in, thank you!"], "299": [], ADMIN: []}

    world.tap(ADMIN, confirm.id, 0)  # twice: nothing more
    assert world.said(ADMIN)[-1] == ("Broadcast news-1 was started before (3 recipients): "
                                     "nothing more was sent.")
    assert count_rows(world, Broadcast) == 1
    with world.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.broadcast_id.is_not(None))) == 3


def test_a_file_with_mistakes_is_named_and_nothing_is_sent(
    world: World, tmp_path: Path
) -> None:
    (tmp_path / "broadcasts" / "bad.yaml").write_text(
        NEWS.replace("flow: square", "flow: squar"), encoding="utf-8")
    world.send(ADMIN, "/broadcast")
    world.tap(ADMIN, world.rows(ADMIN)[0].id, 0)
    said = world.said(ADMIN)[-1]
    assert said.startswith("bad.yaml has mistakes; nothing was sent.")
    assert "bad.yaml:2" in said and "no flow 'squar'" in said
    assert count_rows(world, Broadcast) == 0


def test_broadcast_of_a_written_message_then_confirm_or_cancel(world: World) -> None:
    people_with_ideas(world)
    world.send(ADMIN, "/broadcast square")
    [prompt] = world.rows(ADMIN)
    assert prompt.message.text.startswith("Write the message for the participants of "
                                          "square, in English (the flow's language).")
    assert prompt.labels == ["Cancel"]

    world.send(ADMIN, "Voting opens next week!")
    confirm = world.rows(ADMIN)[-1]
    assert confirm.message.text.startswith(
        f"Broadcast chat-{prompt.id} to the participants of square: 3 recipients.")
    assert confirm.message.text.endswith("\n\nVoting opens next week!")

    world.tap(ADMIN, confirm.id, 1)  # Cancel
    assert world.said(ADMIN)[-1] == "Cancelled: nothing was sent."
    assert count_rows(world, Broadcast) == 0
    assert not any(r.broadcast_id for a in ("200", "201", "202") for r in world.rows(a))
    world.send(ADMIN, "Another text")  # the conversation is over: this is no broadcast
    assert count_rows(world, Broadcast) == 0
    assert "Welcome to the square!" in world.said(ADMIN)  # the participant way

    world.send(ADMIN, "/broadcast")  # from the menu this time
    world.tap(ADMIN, world.rows(ADMIN)[-1].id, 0)  # New message: square (no files)
    world.send(ADMIN, "Voting opens next week!")
    world.tap(ADMIN, world.rows(ADMIN)[-1].id, 0)  # Confirm
    assert world.said(ADMIN)[-1].endswith("written to the outbox for 3 recipients, who get "
                                          "it as the senders work through it.")
    assert [r.message.text for r in world.rows("201") if r.broadcast_id] == \
        ["Voting opens next week!"]


def test_a_confirmation_expires_and_a_prompt_left_unanswered_lets_go(world: World) -> None:
    people_with_ideas(world)
    world.send(ADMIN, "/broadcast")
    world.tap(ADMIN, world.rows(ADMIN)[-1].id, 0)
    world.send(ADMIN, "Voting opens next week!")
    confirm = world.rows(ADMIN)[-1]
    world.clock.now = NOW + timedelta(hours=2)
    world.tap(ADMIN, confirm.id, 0)
    assert world.said(ADMIN)[-1] == ("This has expired: nothing was sent. Send /broadcast "
                                     "to start again.")
    world.send(ADMIN, "/broadcast square")
    world.clock.now += timedelta(hours=2)
    world.send(ADMIN, "Too late")  # the participant way: a newcomer's welcome
    assert count_rows(world, Broadcast) == 0
    assert world.said(ADMIN)[-2:] == ["Welcome to the square!", "Do you agree?"]


def test_several_flows_want_the_flow_named(world: World, tmp_path: Path) -> None:
    other = tmp_path / "other.yaml"
    other.write_text((tmp_path / "square.yaml").read_text().replace("id: square", "id: park"),
                     encoding="utf-8")
    world.service.flows.add_file(other)
    world.send(ADMIN, "/stats")
    assert world.said(ADMIN) == ["Which flow? Add its id: /stats FLOW (flows: park, square)."]
    world.send(ADMIN, "/stats park")
    assert world.said(ADMIN)[-1].startswith("Flow park")


# --- /close ------------------------------------------------------------------------------


def test_close_a_phase_sends_its_results_once(world: World) -> None:
    people_with_ideas(world)
    with UnitOfWork(world.session_factory) as uow:
        for idea in uow.ideas.listed("square"):
            uow.ideas.set_status(idea.id, "approved", now=NOW)
        uow.commit()
    world.send(ADMIN, "/close")
    assert world.said(ADMIN) == ["Which phase? /close PHASE (phases of square: ideas, voting)."]
    world.send(ADMIN, "/close votes")
    assert world.said(ADMIN)[-1] == "square has no phase “votes”. Phases: ideas, voting."

    # What the same close sends, counted in a transaction rolled back.
    with UnitOfWork(world.session_factory) as uow:
        expected = close_phase(uow, world.service, world.service.flows.current("square"),
                               "ideas", NOW, by="test")
    before = {a: world.last_row(a) for a in ("200", "201", "202", "299")}
    world.send(ADMIN, "/close ideas square")
    assert world.said(ADMIN)[-1] == ("Closed ideas of square: the results were sent to "
                                     f"{expected} participants.")
    assert expected == 3
    for address in ("200", "201", "202"):
        assert world.said(address, after=before[address])  # the results
    assert world.said("299", after=before["299"]) == []  # did not take part

    world.send(ADMIN, "/close ideas")
    assert world.said(ADMIN)[-1] == "ideas of square was closed before: nothing was sent again."


# --- anyone else -------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["/stats", "/pending square", "/results",
                                     "/broadcast square", "/close ideas"])
def test_admin_commands_from_anyone_else_are_ordinary_and_logged_without_who_or_what(
    world: World, caplog: pytest.LogCaptureFixture, command: str
) -> None:
    people_with_ideas(world)
    with caplog.at_level(logging.WARNING, logger="bot.admin"):
        handled = world.send("555", command)
    name = command.split()[0]
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert record.getMessage() == f"admin command {name} from a non-admin (telegram)"
    for word in ("555", *command.split()[1:]):  # not who, nor the rest of what they wrote
        assert word not in caplog.text
    # The ordinary participant way: a newcomer is welcomed and asked to consent.
    assert [m.text for m in handled.messages] == ["Welcome to the square!", "Do you agree?"]
    assert world.said("555") == ["Welcome to the square!", "Do you agree?"]
    assert set(idea_status(world.session_factory).values()) == {"pending"}
    assert count_rows(world, Broadcast) == 0


def test_a_non_admin_tapping_an_admin_message_moderates_nothing(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    people_with_ideas(world)
    world.send(ADMIN, "/pending")
    row = world.rows(ADMIN)[0]
    with caplog.at_level(logging.INFO):
        world.tap("200", row.id, 0)  # forged: the admin's row, from another chat
    assert set(idea_status(world.session_factory).values()) == {"pending"}
    assert not any(r.state for r in world.rows("200"))
    assert "200" not in caplog.text


def test_a_former_admin_is_an_ordinary_participant(world: World) -> None:
    people_with_ideas(world)
    world.send(ADMIN, "/pending")
    row = world.rows(ADMIN)[0]
    world.desk.admins = frozenset()
    world.tap(ADMIN, row.id, 0)
    assert set(idea_status(world.session_factory).values()) == {"pending"}


def test_an_admins_input_is_applied_once(world: World) -> None:
    people_with_ideas(world)
    world.send(ADMIN, "/pending", platform_id="again")
    assert world.send(ADMIN, "/pending", platform_id="again").duplicate
    assert len(world.rows(ADMIN)) == 3
    reject = Tap(world.rows(ADMIN)[0].id, (1,), message_ref="m", callback="c1")
    assert not world.send(ADMIN, platform_id="tap-1", tap=reject).duplicate
    assert world.send(ADMIN, platform_id="tap-1", tap=reject).duplicate
    with UnitOfWork(world.session_factory) as uow:
        author = uow.participants.get("telegram", "200")
        assert author is not None
        rejected = uow.session.scalar(select(func.count()).select_from(Idea).where(
            Idea.status == "rejected"))
    assert rejected == 1
    notices = [t for t in world.said("200") if REASONS["rules"] in t]
    assert len(notices) == 1


def test_an_admin_is_also_a_participant_for_everything_else(world: World) -> None:
    world.send(ADMIN, command="start")
    assert world.said(ADMIN) == ["Welcome to the square!", "Do you agree?"]
    world.send(ADMIN, "/stats")
    world.send(ADMIN, "yes")  # answers their own open question
    assert world.said(ADMIN)[-1].startswith("Your idea for the square?")
