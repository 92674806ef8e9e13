"""The vote step: the engine asks for a pair, shows what it is given, takes a pick, asks
"more?" after every ``votes`` pairs, and stops on ``done`` or when no pair is left."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.engine import (
    IdeaFlagged,
    PairWanted,
    Press,
    RunState,
    Say,
    Start,
    Text,
    VoteCast,
    VoteUndone,
    load_source,
    offer,
    start,
    step,
)

NOW = datetime(2026, 11, 22, tzinfo=UTC)
FLOW = load_source("""\
id: votes
version: 1
default_language: en
steps:
  - {id: consent, type: consent, text: Agreed?}
  - {id: my_idea, type: idea, text: Your idea?}
  - {id: rank, type: vote, pool: my_idea, text: Which would help more?, votes: 2}
  - {id: bye, type: end, text: Thanks!}
""")
SHADE, WATER, BENCH = (1, "More shade", 2, "A water fountain"), (3, "Benches", 4, "Lights"), None


def at_vote() -> RunState:
    state, _ = start(FLOW, NOW)
    state, _ = step(FLOW, state, Text("yes"), NOW)
    state, events = step(FLOW, state, Text("Trees along the paths"), NOW)
    assert events[-1] == PairWanted("rank") and state.step == "rank"  # one idea: max_ideas
    return state


def test_the_engine_asks_for_a_pair_and_shows_the_one_it_is_given() -> None:
    state, _ = start(FLOW, NOW)
    state, _ = step(FLOW, state, Text("yes"), NOW)
    state, events = step(FLOW, state, Text("Trees along the paths"), NOW)
    assert isinstance(events[-1], PairWanted) and state.step == "rank"
    state, events = offer(FLOW, state, SHADE)
    [shown] = events
    assert isinstance(shown, Say)
    assert shown.text == "Which would help more?\n\nA: More shade\nB: A water fountain"
    assert [(b.payload, b.label) for b in shown.buttons] == [
        ("vote:a", "A"), ("vote:b", "B"), ("vote:skip", "Can't decide"),
        ("vote:flag_a", "Report A"), ("vote:flag_b", "Report B")]
    again, events = step(FLOW, state, Start(None), NOW)  # coming back: the same pair
    assert events[-1] == shown and again == state


def test_picks_are_votes_and_more_is_asked_after_votes_pairs() -> None:
    state, _ = offer(FLOW, at_vote(), SHADE)
    state, events = step(FLOW, state, Text("2"), NOW)
    assert events == [VoteCast("rank", 1, 2, 2), PairWanted("rank")]
    state, _ = offer(FLOW, state, WATER)
    state, events = step(FLOW, state, Text("nonsense"), NOW)
    assert events[0].kind == "reprompt" and state.offer is not None  # the pair stays
    state, events = step(FLOW, state, Text("3"), NOW)  # can't decide: no winner
    assert events[0] == VoteCast("rank", 3, 4, None)
    assert events[1].text == "You have compared 2 pairs. Would you like to compare more?"
    state, events = step(FLOW, state, Text("yes"), NOW)
    assert events == [PairWanted("rank")] and not state.asking_more
    state, events = offer(FLOW, state, SHADE)
    state, events = step(FLOW, state, Text("done"), NOW)
    assert [e.text for e in events if isinstance(e, Say)] == ["Thanks!"]
    assert state.status == "finished"
    assert RunState.from_json(state.to_json()) == state


def test_no_pair_left_moves_on() -> None:
    state, events = offer(FLOW, at_vote(), BENCH)
    assert [e.text for e in events if isinstance(e, Say)] == [
        "You have compared every pair there is for now. Thank you!", "Thanks!"]
    assert state.status == "finished"


def test_a_report_skips_the_pair_and_names_the_idea() -> None:
    state, _ = offer(FLOW, at_vote(), SHADE)
    state, events = step(FLOW, state, Press("vote:flag_b"), NOW)
    assert events[:2] == [VoteCast("rank", 1, 2, None), IdeaFlagged("rank", 2)]
    assert events[2] == PairWanted("rank")


def test_undo_takes_back_the_last_vote_and_shows_its_pair_again() -> None:
    state, _ = offer(FLOW, at_vote(), SHADE)
    state, _ = step(FLOW, state, Text("a"), NOW)
    state, _ = offer(FLOW, state, WATER)
    state, events = step(FLOW, state, Text("undo"), NOW)
    assert events[0] == VoteUndone("rank", 1, 2)
    assert events[1].text == "Your last vote is taken back. Here is that pair again."
    assert events[2].text.endswith("A: More shade\nB: A water fountain")
    assert state.cast == 0 and state.offer == {"a": 1, "a_text": "More shade", "b": 2,
                                               "b_text": "A water fountain"}
    state, events = step(FLOW, state, Text("b"), NOW)  # the corrected vote
    assert events[0] == VoteCast("rank", 1, 2, 2)
    state, _ = offer(FLOW, state, WATER)
    state, events = step(FLOW, state, Text("undo"), NOW)
    state, events = step(FLOW, state, Text("undo"), NOW)  # only the last one can be undone
    assert events[0].text == "There is no vote to take back yet."
