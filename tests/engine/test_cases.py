"""Engine tests as data: every ``tests/cases/*.yaml`` is a flow, a script of inputs, and the
transcript and final state the engine must produce from them.

A case file has these keys (``flow`` or ``flow_file``, ``inputs`` and the two expectations
are required)::

    about: one line saying what the case shows
    flow_file: flows/examples/civil-service-women.yaml   # relative to the repository root
    flow: {...}              # or the flow itself, written inline as in a flow file
    language: he             # optional: the run's language (default: the flow's); with
                             # flow_file, the flow's texts come from its catalog for it
    profile: {age_band: "18_34"}   # optional: what earlier flows put on the profile
    translations: {Yes: כן}  # optional: msgid -> text, a catalog for the engine's sentences
    inputs:                  # what the participant does, in order
      - yes                  # typed text (a number is typed text too: - 2)
      - {text: "no"}         # typed text, spelled out
      - {press: public}      # a button, by its payload
      - {command: back}      # back, skip or restart as a channel command
      - {start: true}        # the participant opens the chat again
    transcript: [...]        # expected, written by --update-cases
    state: {...}             # expected, written by --update-cases

The transcript shows the conversation as the participant has it ("bot: ..." with the
buttons and the hint under it, "you: ..."), with the engine's other events (answers saved
and removed, consent, the end of the run) as ``*`` lines at the point they happen, since
those are what the service stores. ``state`` is the final :class:`RunState` as JSON, less
``flow_sha256``, which is checked against the flow instead.

The run is pure: a fixed ``now``, an in-memory catalog, and the state carried between
inputs through JSON text, as the service stores it. After a deliberate change to the
engine, run ``pytest tests/engine --update-cases`` and read the diff of tests/cases before
committing it: the expectations are only as right as the person who checked them.
"""

from __future__ import annotations

import difflib
import hashlib
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from bot.engine import (
    AnswerRemoved,
    AnswerSaved,
    Button,
    Command,
    ConsentDeclined,
    ConsentGiven,
    Event,
    Flow,
    FlowError,
    IdeaSubmitted,
    IdeaWithdrawn,
    Input,
    LanguageChosen,
    Press,
    ProfileRemoved,
    ProfileSaved,
    RunEnded,
    RunState,
    Say,
    Start,
    Text,
    load_file,
    load_source,
    start,
    step,
)
from bot.engine.localise import localise
from bot.flow_i18n import flow_texts

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "cases"
NOW = datetime(2025, 3, 8, 9, 30, tzinfo=UTC)

REQUIRED = {"inputs"}
OPTIONAL = {"about", "flow", "flow_file", "language", "profile", "translations"}
EXPECTED = ("transcript", "state")
UPDATE_HINT = "run `pytest tests/engine --update-cases`, then read the diff of the case file"


class CaseError(Exception):
    """A case file that is not written right (as opposed to an engine that is wrong)."""


class _Catalog:
    """A gettext catalog held in memory: the case's ``translations``, else the msgid."""

    def __init__(self, messages: Mapping[str, str]) -> None:
        self.messages = dict(messages)

    def gettext(self, message: str, /) -> str:
        return self.messages.get(message, message)

    def ngettext(self, singular: str, plural: str, n: int, /) -> str:
        return self.gettext(singular if n == 1 else plural)


def _yaml() -> YAML:
    yaml = YAML()  # round trip: keeps the author's comments, quotes and flow-style mappings
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.representer.add_representer(type(None), _null)
    return yaml


def _null(representer: Any, _: None) -> Any:
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")


def _plain(node: Any) -> Any:
    """ruamel's commented containers and scalar subclasses as plain Python values."""
    if isinstance(node, Mapping):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    raise CaseError(f"unexpected value {node!r} of type {type(node).__name__}")


# --- reading a case


@dataclass
class Case:
    path: Path
    doc: CommentedMap
    flow: Flow
    inputs: list[Input]
    language: str | None
    profile: dict[str, Any]
    catalog: _Catalog


def _input(raw: Any, n: int) -> Input:
    where = f"inputs[{n}]"
    if isinstance(raw, str):
        return Text(raw)
    if isinstance(raw, int) and not isinstance(raw, bool):
        return Text(str(raw))
    if isinstance(raw, Mapping) and len(raw) == 1:
        ((key, value),) = raw.items()
        if key == "text" and isinstance(value, str | int) and not isinstance(value, bool):
            return Text(str(value))
        if key == "press" and isinstance(value, str | int) and not isinstance(value, bool):
            return Press(str(value))
        if key == "command" and value in ("back", "skip", "restart"):
            return Command(value)
        if key == "start" and (value is True or isinstance(value, str)):
            return Start(None if value is True else value)
    raise CaseError(
        f"{where}: {raw!r} is not an input; write text, {{text: ...}}, {{press: PAYLOAD}}, "
        "{command: back|skip|restart} or {start: true}"
    )


def _flow(path: Path, doc: Mapping[str, Any]) -> Flow:
    if ("flow" in doc) == ("flow_file" in doc):
        raise CaseError("give the flow either inline as `flow:` or as `flow_file:`, not both")
    try:
        if "flow_file" in doc:
            return load_file(ROOT / str(doc["flow_file"]))
        inline = doc["flow"]
        if isinstance(inline, str):
            return load_source(inline, f"{path.name}#flow")
        out = io.StringIO()
        _yaml().dump(inline, out)
        return load_source(out.getvalue(), f"{path.name}#flow")
    except FlowError as exc:
        raise CaseError(f"the case's flow does not load:\n{exc}") from exc


def read_case(path: Path) -> Case:
    doc = _yaml().load(path.read_text(encoding="utf-8"))
    if not isinstance(doc, CommentedMap):
        raise CaseError("a case is a mapping with flow/flow_file, inputs, transcript, state")
    unknown = set(doc) - REQUIRED - OPTIONAL - set(EXPECTED)
    if unknown:
        allowed = sorted(REQUIRED | OPTIONAL | set(EXPECTED))
        raise CaseError(f"unknown keys {sorted(unknown)}; a case may have {allowed}")
    missing = REQUIRED - set(doc)
    if missing:
        raise CaseError(f"missing keys {sorted(missing)}")
    if not isinstance(doc["inputs"], list):
        raise CaseError("inputs: a list of inputs")
    translations = _plain(doc.get("translations") or {})
    profile = _plain(doc.get("profile") or {})
    if not isinstance(translations, dict) or not isinstance(profile, dict):
        raise CaseError("translations and profile are mappings")
    language = doc.get("language")
    flow = _flow(path, doc)
    if "flow_file" in doc and language is not None and language != flow.default_language:
        # A flow file's own catalogs (see bot.flow_i18n) give its texts in that language.
        flow_file = ROOT / str(doc["flow_file"])
        flow = localise(flow, flow_texts(flow_file, flow, str(language)))
    return Case(
        path=path,
        doc=doc,
        flow=flow,
        inputs=[_input(raw, n) for n, raw in enumerate(doc["inputs"])],
        language=None if language is None else str(language),
        profile=profile,
        catalog=_Catalog({str(k): str(v) for k, v in translations.items()}),
    )


# --- running it and writing down what happened


def _value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _buttons(buttons: tuple[Button, ...]) -> str:
    return " ".join(
        f"[{b.label}]" if b.label == b.payload else f"[{b.label}: {b.payload}]" for b in buttons
    )


def _said(say: Say) -> list[str]:
    who = "bot (re-prompt)" if say.kind == "reprompt" else "bot"
    lines = [f"{who}: {say.text}"]
    if say.buttons:
        several = " (several)" if say.multiple else ""
        lines.append(f"  buttons{several}: {_buttons(say.buttons)}")
    if say.hint:
        lines.append(f"  hint: {say.hint}")
    return lines


def _event(event: Event) -> str:
    if isinstance(event, AnswerSaved):
        return f"* answer saved: {event.step_id} = {_value(event.value)}"
    if isinstance(event, AnswerRemoved):
        return f"* answer removed: {event.step_id}"
    if isinstance(event, ProfileSaved):
        return f"* profile saved: {event.field} = {_value(event.value)}"
    if isinstance(event, ProfileRemoved):
        return f"* profile removed: {event.field}"
    if isinstance(event, IdeaSubmitted):
        return f"* idea submitted: {event.step_id} = {_value(event.text)}"
    if isinstance(event, IdeaWithdrawn):
        return f"* idea withdrawn: {event.step_id} = {_value(event.text)}"
    if isinstance(event, LanguageChosen):
        return f"* language chosen: {event.language}"
    if isinstance(event, ConsentGiven):
        return f"* consent given: {event.step_id}"
    if isinstance(event, ConsentDeclined):
        return f"* consent declined: {event.step_id}"
    if isinstance(event, RunEnded):
        return f"* run ended: {event.status}"
    raise AssertionError(f"an event the transcript does not know: {event!r}")


def _you(given: Input, shown: tuple[Button, ...]) -> str:
    if isinstance(given, Text):
        return f"you: {given.text}"
    if isinstance(given, Command):
        return f"you: <{given.name}>"
    if isinstance(given, Start):
        return "you: <opens the chat again>" + (f" ({given.payload})" if given.payload else "")
    labels = {b.payload: b.label for b in shown}
    parts = given.payload.split(",")
    if given.payload in labels:
        return f"you: tap [{labels[given.payload]}]"
    if len(parts) > 1 and all(p in labels for p in parts):
        return "you: tap " + " ".join(f"[{labels[p]}]" for p in parts)
    return f"you: tap a button that is not on the question ({given.payload})"


def _check_events(flow: Flow, events: list[Event]) -> None:
    """What holds for every event, whatever the case: checked here rather than in the YAML."""
    for event in events:
        if isinstance(event, ConsentGiven):
            text = flow.step(event.step_id).text
            assert event.text_sha256 == hashlib.sha256(text.encode("utf-8")).hexdigest()
        if isinstance(event, Say):
            assert event.text, f"an empty message was sent: {event!r}"


def _through_json(state: RunState) -> RunState:
    """The state as the service stores it and reads it back before the next input."""
    again = RunState.from_json(json.loads(state.dumps()))
    assert again == state, "the state does not survive a JSON round trip"
    return again


def run_case(case: Case) -> tuple[list[str], dict[str, Any]]:
    flow, tr = case.flow, case.catalog
    transcript: list[str] = []
    shown: tuple[Button, ...] = ()

    def record(events: list[Event]) -> None:
        nonlocal shown
        _check_events(flow, events)
        for event in events:
            if isinstance(event, Say):
                transcript.extend(_said(event))
                if event.buttons:
                    shown = event.buttons
            else:
                transcript.append(_event(event))

    state, events = start(flow, NOW, language=case.language, profile=case.profile, tr=tr)
    record(events)
    for given in case.inputs:
        transcript.append(_you(given, shown))
        state, events = step(flow, _through_json(state), given, NOW, tr=tr)
        record(events)

    final = _through_json(state).to_json()
    assert final.pop("flow_sha256") == flow.sha256
    return transcript, final


# --- comparing with the case, or rewriting it


def _as_text(transcript: list[str], state: Mapping[str, Any]) -> list[str]:
    state_lines = json.dumps(state, indent=2, ensure_ascii=False).splitlines()
    return ["transcript:", *transcript, "state:", *state_lines]


def _write_expectations(case: Case, transcript: list[str], state: dict[str, Any]) -> None:
    doc = case.doc
    doc["transcript"] = CommentedSeq(transcript)
    doc["state"] = state
    out = io.StringIO()
    _yaml().dump(doc, out)
    case.path.write_text(out.getvalue(), encoding="utf-8")


def _case_files() -> list[Path]:
    return sorted(CASES.glob("*.yaml"))


def test_there_are_enough_cases() -> None:
    assert len(_case_files()) >= 25


@pytest.mark.parametrize("path", _case_files(), ids=lambda p: p.stem)
def test_case(path: Path, request: pytest.FixtureRequest) -> None:
    try:
        case = read_case(path)
    except CaseError as exc:
        pytest.fail(f"{path.relative_to(ROOT)}: {exc}", pytrace=False)
    transcript, state = run_case(case)

    if request.config.getoption("--update-cases"):
        _write_expectations(case, transcript, state)
        return

    absent = [key for key in EXPECTED if key not in case.doc]
    if absent:
        pytest.fail(
            f"{path.relative_to(ROOT)} has no {' or '.join(absent)} yet: {UPDATE_HINT}",
            pytrace=False,
        )
    expected = _as_text(
        [str(line) for line in _plain(case.doc["transcript"])], _plain(case.doc["state"])
    )
    actual = _as_text(transcript, state)
    if expected != actual:
        diff = "\n".join(
            difflib.unified_diff(
                expected, actual, "expected (case file)", "actual (engine)", lineterm=""
            )
        )
        pytest.fail(
            f"{path.relative_to(ROOT)}: the engine's output differs from the case\n{diff}\n\n"
            f"If the change is intended, {UPDATE_HINT}.",
            pytrace=False,
        )
