"""Whatever text an organiser (or a fuzzer) hands in, checking answers with diagnostics."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from bot.engine.conditions import ConditionSyntaxError, evaluate, parse
from bot.engine.loader import check_source

EXAMPLE = Path(__file__).resolve().parents[2] / "flows" / "examples" / "civil-service-women.yaml"

KEYS = [
    "id", "version", "title", "default_language", "languages", "steps", "type", "text",
    "options", "label", "next", "rules", "when", "otherwise", "min", "max", "min_length",
    "max_length", "optional", "profile", "integer", "foo",
]
TYPES = ["message", "consent", "choice", "multi_choice", "scale", "number", "yes_no", "text",
         "branch", "end", "bogus"]
CONDITIONS = ["a == 1", "sector == \"public\"", "importance >= 4 and", "(x", "profile.p in [1",
              "topics == \"childcare\"", "not not welcome", "x = 2", "\"a\" in topics"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-10**20, max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(TYPES + CONDITIONS + ["consent", "welcome", "thanks", "en", "he"]),
)
structures = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), children, max_size=6),
    ),
    max_leaves=40,
)


def _assert_answers(text: str) -> None:
    checked = check_source(text, "fuzz.yaml")
    assert isinstance(checked.diagnostics, list)
    if checked.flow is None:
        assert checked.errors, "a rejected flow must say why"
    lines = text.count("\n") + 2
    for diagnostic in checked.diagnostics:
        assert 1 <= diagnostic.line <= lines, diagnostic
        assert diagnostic.column >= 1, diagnostic
        assert str(diagnostic).startswith("fuzz.yaml:")


def _dump(data: Any) -> str:
    out = io.StringIO()
    yaml = YAML()
    yaml.dump(data, out)
    return out.getvalue()


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gives_diagnostics_not_exceptions(text: str) -> None:
    _assert_answers(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=" \t\n-:[]{}\"'#&*!|>%@`,?abc01", max_size=200))
def test_yaml_punctuation_gives_diagnostics_not_exceptions(text: str) -> None:
    _assert_answers(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(structures)
def test_any_yaml_structure_gives_diagnostics_not_exceptions(data: Any) -> None:
    _assert_answers(_dump(data))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_example_flows_give_diagnostics_not_exceptions(data: st.DataObject) -> None:
    flow = YAML(typ="safe").load(EXAMPLE.read_text(encoding="utf-8"))
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        steps = flow.get("steps")
        mappings = [s for s in steps if isinstance(s, dict)] if isinstance(steps, list) else []
        target = data.draw(st.sampled_from([flow, *mappings]))
        key = data.draw(st.sampled_from(KEYS))
        if data.draw(st.booleans()) and key in target:
            del target[key]
        else:
            target[key] = data.draw(structures)
    _assert_answers(_dump(flow))


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=80))
def test_any_condition_parses_or_raises_a_syntax_error(source: str) -> None:
    try:
        tree = parse(source)
    except ConditionSyntaxError as exc:
        assert 0 <= exc.offset <= len(source)
        return
    evaluate(tree, {}, {})


# --- random flows of the right shape: the graph checks, conditions, and the engine behind them

STEP_IDS = [f"s{n}" for n in range(8)]
KINDS_WITH_TEXT = ["message", "consent", "choice", "multi_choice", "scale", "number", "yes_no",
                   "text", "end"]
VALUES = {  # values that suit each kind of answer, and some that don't
    "choice": ['"a"', '"b"', '["a", "b"]', "null"],
    "multi_choice": ['"a"', '"b"', "null"],
    "scale": ["1", "3", "[1, 2]", "null"],
    "number": ["0", "2.5", "-1", "null"],
    "yes_no": ["true", "false", "null"],
    "text": ['"a"', "'c'", "null"],
    "": ['"a"', "1", "2.5", "true", "null", '["a", "b"]', "'c'"],
}


@st.composite
def conditions(draw: st.DrawFn, kinds: dict[str, str], sloppy: bool, depth: int = 0) -> str:
    if depth < 2 and draw(st.booleans()):
        left = draw(conditions(kinds, sloppy, depth + 1))
        right = draw(conditions(kinds, sloppy, depth + 1))
        joined = f"{left} {draw(st.sampled_from(['and', 'or']))} {right}"
        return f"({joined})" if draw(st.booleans()) else joined
    prefix = "not " if draw(st.integers(0, 5)) == 0 else ""
    questions = [sid for sid, kind in kinds.items() if kind in VALUES]
    if sloppy or not questions:
        name = draw(st.sampled_from([*kinds, "profile.p0", "missing"]))
        op = draw(st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "in", "not in"]))
        if draw(st.integers(0, 10)) == 0:
            return f"{prefix}{name} {op}"  # a syntax error now and then
        return f"{prefix}{name} {op} {draw(st.sampled_from(VALUES['']))}"
    name = draw(st.sampled_from(questions))
    kind = kinds[name]
    value = draw(st.sampled_from(VALUES[kind]))
    if kind == "multi_choice" and value != "null":
        return f"{prefix}{value} {draw(st.sampled_from(['in', 'not in']))} {name}"
    ops = ["==", "!="] + (["in", "not in"] if value.startswith("[") else [])
    if kind in ("scale", "number"):
        ops += ["<", "<=", ">", ">="]
    if value.startswith("["):
        ops = ["in", "not in"]
    return f"{prefix}{name} {draw(st.sampled_from(ops))} {value}"


def _when(condition: str, style: str) -> list[str]:
    if style == "double":
        escaped = condition.replace("\\", "\\\\").replace('"', '\\"')
        return [f'      - when: "{escaped}"']
    if style == "folded":
        return ["      - when: >-", f"          {condition}"]
    if style == "single" or condition[0] in "\"'[":
        return [f"      - when: '{condition.replace(chr(39), chr(39) * 2)}'"]
    return [f"      - when: {condition}"]


@st.composite
def flows(draw: st.DrawFn) -> str:
    """A flow of the right shape; sloppy ones have wrong names and values in conditions."""
    sloppy = draw(st.booleans())
    count = draw(st.integers(min_value=1, max_value=8))
    ids = STEP_IDS[:count]
    kinds = {sid: draw(st.sampled_from([*KINDS_WITH_TEXT, "branch", "branch"])) for sid in ids}
    if not sloppy:
        kinds[ids[0]] = "consent"
    missing = sloppy and draw(st.integers(0, 3)) == 0
    targets = st.sampled_from([*ids, "nowhere"] if missing else ids)
    lines = ["id: fuzz", "version: 1", "default_language: en", "steps:"]
    for n, sid in enumerate(ids):
        kind = kinds[sid]
        lines += [f"  - id: {sid}", f"    type: {kind}"]
        if kind == "branch":
            lines.append("    rules:")
            for _ in range(draw(st.integers(min_value=1, max_value=3))):
                condition = draw(conditions(kinds, sloppy))
                lines += _when(condition, draw(st.sampled_from(["plain", "single", "double",
                                                                "folded"])))
                lines.append(f"        next: {draw(targets)}")
            if draw(st.booleans()):
                lines.append(f"    otherwise: {draw(targets)}")
            continue
        lines.append(f"    text: Step {n}")
        if kind in ("choice", "multi_choice"):
            lines += ["    options:", "      - {id: a, label: A}", "      - {id: b, label: B}"]
        if kind in VALUES and draw(st.booleans()):
            lines.append("    optional: true")
        if kind != "end" and draw(st.integers(0, 3)) == 0:
            lines.append(f"    next: {draw(targets)}")
    return "\n".join(lines) + "\n"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flows(), st.lists(st.sampled_from(["1", "2", "yes", "no", "A", "3", "back", "skip", "x"]),
                         max_size=12))
def test_random_flows_check_and_clean_ones_run(text: str, inputs: list[str]) -> None:
    """The validator never raises; a flow it passes never traps the engine in a loop."""
    from datetime import UTC, datetime

    from bot.engine import Text, start, step

    _assert_answers(text)
    flow = check_source(text, "fuzz.yaml").flow
    if flow is None:
        return
    now = datetime(2025, 1, 1, tzinfo=UTC)
    state, _ = start(flow, now)
    for given_text in inputs:
        state, _ = step(flow, state, Text(given_text), now)
