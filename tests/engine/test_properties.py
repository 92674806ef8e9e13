"""Properties of the engine over random inputs on the example flows.

Whatever a participant sends (typed text of any kind, stale or made-up button payloads,
commands, coming back): the engine never raises, stores nothing before consent, says
what it stores (the events replayed give the state's answers and profile), keeps a state
that survives JSON, and gives the same output for the same input.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.engine import (
    AnswerRemoved,
    AnswerSaved,
    Command,
    ConsentDeclined,
    ConsentGiven,
    Event,
    Flow,
    IdeaSubmitted,
    Input,
    Press,
    ProfileRemoved,
    ProfileSaved,
    RunState,
    Say,
    Start,
    Text,
    start,
    step,
)
from bot.engine.steps import KINDS
from bot.i18n import translator
from bot.registry import FlowRegistry

ROOT = Path(__file__).resolve().parents[2]
# Through the registry, as the service runs them: the park flow speaks he, ar and en from
# its catalogs, so /lang switches are part of the random scripts.
REGISTRY = FlowRegistry()
FLOWS = {
    name: REGISTRY.add_file(ROOT / "flows" / "examples" / f"{name}.yaml")
    for name in ("civil-service-women", "neighbourhood-park")
}
NOW = datetime(2025, 3, 8, 9, 30, tzinfo=UTC)
PROFILES = [{}, {"sector": "public"}, {"age_band": "under_18", "neighbourhood": "north"}]

# Answers that move the example flows along, so random scripts get deep into them.
LIKELY = [
    "yes", "no", "y", "1", "2", "3", "4", "5", "6", "0", "7", "1,2", "1,3", "2 3", "1, 2, 3",
    "12", "12,5", "٣", "More shade please", "skip", "/skip", "back", "/back", "/restart",
    "/lang", "/lang ar", "/lang en", "/lang he", "العربية", "כן", "نعم", "חזרה", "דלג", "رجوع",
    # and some that broke parsers before: a superscript digit, a huge number, a label with
    # "and" inside it in a list
    "²", "9" * 5000, "Sit and rest, Sports",
]


def _payloads(flow: Flow) -> list[str]:
    found = {"yes", "no", "1", "5", "x"}
    for s in flow.steps:
        found.update(o.id for o in s.options)
    return sorted(found)


def _inputs(flow: Flow) -> st.SearchStrategy[Input]:
    payloads = _payloads(flow)
    likely = st.builds(Text, st.sampled_from(LIKELY))
    return st.one_of(
        likely,
        likely,
        likely,  # weighted: answers that fit get a script past the first questions
        st.builds(Text, st.text(max_size=40)),
        st.builds(Press, st.sampled_from(payloads)),
        st.builds(Press, st.lists(st.sampled_from(payloads), max_size=4).map(",".join)),
        st.builds(Press, st.text(max_size=10)),
        st.builds(Command, st.sampled_from(["back", "skip", "restart"])),
        st.builds(Start, st.none() | st.text(max_size=8)),
    )


Script = tuple[str, dict[str, Any], list[Input]]
"""A flow's name (short in a falsifying example, unlike the flow), a profile, inputs."""


@st.composite
def scripts(draw: st.DrawFn) -> Script:
    name = draw(st.sampled_from(sorted(FLOWS)))
    profile = draw(st.sampled_from(PROFILES))
    agreed: list[Input] = draw(st.sampled_from([[], [Text("yes")], [Press("yes")]]))
    inputs = draw(st.lists(_inputs(FLOWS[name]), max_size=30))
    return name, profile, agreed + inputs


Trace = list[tuple[RunState, list[Event]]]


def _run(name: str, profile: dict[str, Any], inputs: Sequence[Input], *, via_json: bool) -> Trace:
    """Every (state, events) from the start and each input; optionally the state is
    stored as JSON text and read back between inputs, as the service does."""
    base = FLOWS[name]
    localiser = REGISTRY.localiser(base)
    language = base.default_language
    state, events = start(
        REGISTRY.localised(base, language), NOW, profile=profile, tr=translator(language)
    )
    trace = [(state, events)]
    for given_input in inputs:
        if via_json:
            state = RunState.from_json(json.loads(state.dumps()))
        flow = REGISTRY.localised(base, state.language)
        state, events = step(
            flow, state, given_input, NOW, tr=translator(state.language), localiser=localiser
        )
        trace.append((state, events))
    return trace


def _is_restart(given_input: Input) -> bool:
    if isinstance(given_input, Command):
        return given_input.name == "restart"
    return isinstance(given_input, Text) and given_input.text.strip().casefold() == "/restart"


@settings(max_examples=200, deadline=None)
@given(scripts())
def test_state_round_trips_through_json(script: Script) -> None:
    for state, _ in _run(*script, via_json=False):
        as_text = state.dumps()
        again = RunState.from_json(json.loads(as_text))
        assert again == state
        assert again.to_json() == state.to_json()
        assert again.dumps() == as_text


@settings(max_examples=200, deadline=None)
@given(scripts())
def test_random_inputs_never_raise_and_store_nothing_before_consent(script: Script) -> None:
    name, profile, inputs = script
    flow = FLOWS[name]
    trace = _run(name, profile, inputs, via_json=True)

    consented = False
    answers: dict[str, Any] = {}
    stored_profile: dict[str, Any] = dict(profile)
    for n, (state, events) in enumerate(trace):
        if n > 0 and _is_restart(inputs[n - 1]):
            consented, answers = False, {}  # a restart is a new run
        for event in events:
            if isinstance(event, ConsentGiven):
                consented = True
            elif isinstance(event, (AnswerSaved, ProfileSaved, ProfileRemoved, IdeaSubmitted)):
                assert consented, f"{event!r} before consent, at input {n}"
            if isinstance(event, AnswerSaved):
                answers[event.step_id] = event.value
            elif isinstance(event, AnswerRemoved):
                assert event.step_id in answers, f"{event!r} removes an answer never saved"
                del answers[event.step_id]
            elif isinstance(event, ProfileSaved):
                stored_profile[event.field] = event.value
            elif isinstance(event, ProfileRemoved):
                assert event.field in stored_profile, f"{event!r} removes a field never set"
                del stored_profile[event.field]
            elif isinstance(event, ConsentDeclined):
                assert state.status == "declined"
                assert not answers and not state.answers
            elif isinstance(event, Say):
                assert event.text, f"an empty message at input {n}"

        # The events say everything the state learnt, so a service storing only the events
        # stores the same answers and profile as the state holds.
        assert dict(state.answers) == answers
        assert dict(state.profile) == stored_profile
        assert state.consented == consented
        assert set(state.answers) <= set(state.history)
        if state.status == "active":
            assert state.step is not None
            assert KINDS[flow.step(state.step).type].interactive
        else:
            assert state.step is None


@settings(max_examples=200, deadline=None)
@given(scripts(), scripts())
def test_same_inputs_give_the_same_outputs(first: Script, other: Script) -> None:
    before = _run(*first, via_json=False)
    _run(*other, via_json=False)  # whatever ran in between must not matter
    again = _run(*first, via_json=False)
    read_back = _run(*first, via_json=True)
    assert again == before
    assert read_back == before
