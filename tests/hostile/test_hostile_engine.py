"""Hostile text at every step kind: the engine never raises, its state survives JSON, a
rejected input leaves the run where it was, and nothing it says is empty.

Two shapes of attack: one random input at a run parked on each step kind of an inline flow
that has them all (``jump`` puts it there), and random scripts over that flow and the
example flows, mixed with answers that fit so the scripts get deep.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.engine import (
    Command,
    Event,
    Flow,
    Input,
    PairWanted,
    Press,
    RunState,
    Say,
    Start,
    Text,
    jump,
    load_source,
    offer,
    start,
    step,
)
from bot.engine.steps import KINDS
from bot.i18n import translator
from bot.registry import FlowRegistry

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2025, 3, 8, 9, 30, tzinfo=UTC)


def hostile(examples: int) -> settings:
    """A fixed seed and a bounded number of examples, so CI runs the same cases each time."""
    return settings(derandomize=True, max_examples=examples, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])

EVERY_KIND = load_source("""\
id: every_kind
version: 1
default_language: en
languages: [en, he, ar]
steps:
  - {id: hello, type: message, text: Hello there}
  - {id: language, type: language, text: "בחרו שפה · اختاروا اللغة · Choose your language"}
  - {id: consent, type: consent, text: Do you agree?}
  - id: sector
    type: choice
    text: Where do you work?
    profile: sector
    options: [{id: public, label: Public}, {id: business, label: Business}]
  - id: topics
    type: multi_choice
    text: Which topics?
    min: 1
    max: 2
    optional: true
    options:
      - {id: care, label: Childcare}
      - {id: mentor, label: Mentoring}
      - {id: flex, label: Flexible hours}
  - {id: importance, type: scale, text: "1 = not at all, 5 = very", min: 1, max: 5}
  - {id: years, type: number, text: How many years?, min: 0, max: 60, integer: true}
  - {id: share, type: number, text: What share?, min: -1.5, max: 2.5}
  - {id: mentored, type: yes_no, text: Had a mentor?, optional: true}
  - {id: barrier, type: text, text: The biggest barrier?, min_length: 3, max_length: 50}
  - id: route
    type: branch
    rules:
      - {when: importance >= 4, next: my_idea}
    otherwise: my_idea
  - {id: my_idea, type: idea, text: Your idea?, max_ideas: 2, min_length: 5, max_length: 80}
  - {id: rank, type: vote, pool: my_idea, text: Which would help more?, votes: 2}
  - {id: agree, type: vote, pool: my_idea, method: agree, text: Agree?, votes: 2}
  - {id: approve, type: vote, pool: my_idea, method: approve, text: Support?, show: 3, pick: 2}
  - {id: bye, type: end, text: Thank you!}
""")
REGISTRY = FlowRegistry()
EXAMPLES = {
    name: REGISTRY.add_file(ROOT / "flows" / "examples" / f"{name}.yaml")
    for name in ("civil-service-women", "neighbourhood-park")
}

# Characters that broke or could break parsers: RTL letters and marks, Arabic-Indic and
# other digits, controls, zero-width joiners, emoji, surrogate-free astral characters.
NASTY = st.sampled_from(
    [*"אבגשלוםعربيةنعم٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹०१२३",
     "\u200f", "\u200e", "\u202e", "\u2066", "\u2069", "\u200b", "\u200d", "\ufeff",
       "\x00", "\x07", "\x1b", "\r", "\n", "\t", "\x7f", "\x85", "\u2028", "\u2029",
       "😀", "👍🏽", "🇮🇱", "👨‍👩‍👧", "²", "½", "Ⅻ", "①", "𝟘", "-", "+", ",", ".", "e",
       "/", " ", "١٫٥", "1e309", "nan", "inf", "0x1F"]
)
COMMANDS = st.sampled_from(
    ["/start", "/lang", "/lang xx", "/lang עברית", "/restart", "/back", "/skip", "/help",
     "/done", "/", "//", "/start " + "x" * 300, "/lang\x00", "/ skip", "/SKIP", "back",
     "skip", "done", "undo", "withdraw", "restart", "help"]
)
LIKELY = st.sampled_from(
    ["yes", "no", "1", "2", "3", "4", "5", "1,2", "1, 3", "12", "0.5", "٣", "public",
     "Childcare", "a long enough barrier", "More shade in the park", "Benches by the pond",
     "done", "a", "b", "agree", "pass", "1 2", "en", "English", "עברית", "العربية"]
)
TEXTS = st.one_of(
    st.text(max_size=60),
    st.lists(NASTY | st.characters(), max_size=40).map("".join),
    st.lists(NASTY, min_size=1, max_size=20).map("".join),
    st.builds(lambda c, t: f"{c} {t}", COMMANDS, st.lists(NASTY, max_size=10).map("".join)),
    COMMANDS,
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.lists(NASTY, min_size=10, max_size=30).map(lambda parts: "".join(parts) * 300),
    st.just("9" * 10_000),
    st.just("٩" * 5_000),
)
INPUTS: st.SearchStrategy[Input] = st.one_of(
    st.builds(Text, TEXTS),
    st.builds(Press, st.text(max_size=30)),
    st.builds(Press, st.sampled_from(["yes", "no", "vote:a", "vote:undo", "vote:flag_b",
                                      "public", "care,flex", "lang:ar", "1", "", ","])),
    st.builds(Command, st.sampled_from(["back", "skip", "restart", "help"])),
    st.builds(Start, st.none() | st.text(max_size=20)),
)
PAIRS: list[Any] = [(1, "More shade", 2, "A water fountain"), (3, "Benches"),
                    [(1, "More shade"), (2, "A fountain"), (3, "Benches")], None]


def _json_round_trip(state: RunState) -> RunState:
    again = RunState.from_json(json.loads(state.dumps()))
    assert again == state
    return again


def _check_events(events: list[Event]) -> None:
    for event in events:
        if isinstance(event, Say):
            assert event.text.strip(), f"an empty message: {event!r}"
            for button in event.buttons:
                assert button.label.strip() and button.payload, f"an empty button: {button!r}"


def _apply(flow: Flow, state: RunState, given_input: Input, offers: int = 0,
           **kw: Any) -> tuple[RunState, list[Event]]:
    """One input, with the invariants checked; a vote's pair is supplied as the service
    would (a few, then none left)."""
    before = state
    state, events = step(flow, state, given_input, NOW, **kw)
    rejected = any(isinstance(e, Say) and e.kind == "reprompt" for e in events)
    if rejected:
        assert state.step == before.step, f"moved on after rejecting {given_input!r}"
        assert state.answers == before.answers and state.history == before.history
    _check_events(events)
    state = _json_round_trip(state)
    while events and isinstance(events[-1], PairWanted):
        pair = PAIRS[offers % len(PAIRS)] if offers < 6 else None
        offers += 1
        state, events = offer(flow, state, pair)
        _check_events(events)
        state = _json_round_trip(state)
    return state, events


def _parked(step_id: str) -> RunState:
    state, events = start(EVERY_KIND, NOW)
    _check_events(events)
    state, _ = _apply(EVERY_KIND, state, Text("en"))
    state, _ = _apply(EVERY_KIND, state, Text("yes"))
    assert state.consented and state.step == "sector"
    state, events = jump(EVERY_KIND, state, step_id)
    _check_events(events)
    if events and isinstance(events[-1], PairWanted):
        index = {"rank": 0, "agree": 1, "approve": 2}[step_id]
        state, events = offer(EVERY_KIND, state, PAIRS[index])
        _check_events(events)
    return state


STEP_IDS = [s.id for s in EVERY_KIND.steps]


def test_the_inline_flow_has_every_step_kind() -> None:
    assert {s.type for s in EVERY_KIND.steps} == set(KINDS)


@pytest.mark.parametrize("step_id", STEP_IDS)
@hostile(60)
@given(given_input=INPUTS)
def test_one_hostile_input_at_each_step_kind(step_id: str, given_input: Input) -> None:
    state = _parked(step_id)
    _apply(EVERY_KIND, state, given_input)


@hostile(150)
@given(st.lists(st.one_of(st.builds(Text, LIKELY), st.builds(Text, LIKELY), INPUTS),
                max_size=40))
def test_hostile_scripts_through_every_step_kind(inputs: list[Input]) -> None:
    state, events = start(EVERY_KIND, NOW)
    _check_events(events)
    for given_input in inputs:
        state, _ = _apply(EVERY_KIND, state, given_input)


@hostile(100)
@given(st.sampled_from(sorted(EXAMPLES)),
       st.lists(st.one_of(st.builds(Text, LIKELY), st.builds(Text, LIKELY), INPUTS),
                max_size=30))
def test_hostile_scripts_through_the_example_flows(name: str, inputs: list[Input]) -> None:
    base = EXAMPLES[name]
    localiser = REGISTRY.localiser(base)
    language = base.default_language
    state, events = start(REGISTRY.localised(base, language), NOW, tr=translator(language))
    _check_events(events)
    for given_input in inputs:
        flow = REGISTRY.localised(base, state.language)
        state, _ = _apply(flow, state, given_input, tr=translator(state.language),
                          localiser=localiser)
