"""docs/flows.md and the step modules' docstrings agree, and their YAML examples are valid."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from bot.engine.conditions import parse
from bot.engine.loader import check_source
from bot.engine.schema import STEP_TYPES, flow_schema

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "flows.md").read_text(encoding="utf-8")
BLOCK = re.compile(r"```yaml\n(.*?)```", re.DOTALL)
WHEN = re.compile(r"^\s*(?:- )?when: (.*)$", re.MULTILINE)


def _load(text: str) -> Any:
    return YAML(typ="safe").load(text)


def _step_validator() -> jsonschema.Draft202012Validator:
    schema = flow_schema()
    only_a_step = {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": "#/$defs/step"}
    return jsonschema.Draft202012Validator(only_a_step)


def _docstring_example(kind: str) -> str:
    module = importlib.import_module(f"bot.engine.steps.{kind}")
    found = BLOCK.search(module.__doc__ or "")
    assert found, f"bot/engine/steps/{kind}.py has no ```yaml example in its docstring"
    return found.group(1)


@pytest.mark.parametrize("kind", STEP_TYPES)
def test_each_step_kind_is_documented_with_its_docstring_example(kind: str) -> None:
    assert f"### `{kind}`" in DOC
    assert _docstring_example(kind) in DOC, (
        f"the YAML example of bot/engine/steps/{kind}.py is not in docs/flows.md"
    )


@pytest.mark.parametrize("kind", STEP_TYPES)
def test_docstring_examples_are_valid_steps(kind: str) -> None:
    steps = _load(_docstring_example(kind))
    assert steps[0]["type"] == kind
    _step_validator().validate(steps[0])


@pytest.mark.parametrize("kind", STEP_TYPES)
def test_every_key_of_a_step_kind_is_documented(kind: str) -> None:
    section = DOC.split(f"### `{kind}`", 1)[1].split("\n### ", 1)[0]
    keys = flow_schema()["$defs"][kind]["properties"]
    for key in keys:
        if key not in ("id", "type"):
            assert f"`{key}`" in section, f"docs/flows.md does not explain '{key}' of {kind}"


def test_every_top_level_key_is_documented() -> None:
    for key in flow_schema()["properties"]:
        assert f"| `{key}` |" in DOC


def test_yaml_examples_in_the_docs_are_valid() -> None:
    checked_flows = checked_steps = 0
    for block in BLOCK.findall(DOC):
        lines = [line for line in block.splitlines() if line.strip()]
        if "# wrong" in block or all(line.startswith("when: ") for line in lines):
            continue  # a mistake shown on purpose, or a list of conditions (checked below)
        data = _load(block)
        if isinstance(data, dict) and "steps" in data:
            checked = check_source(block, "docs/flows.md")
            assert [str(d) for d in checked.diagnostics] == []
            checked_flows += 1
        elif isinstance(data, list):
            for step in data:
                _step_validator().validate(step)
                checked_steps += 1
    assert checked_flows >= 1
    assert checked_steps >= 10


def test_conditions_in_the_docs_parse() -> None:
    conditions = 0
    for block in BLOCK.findall(DOC):
        for line in WHEN.findall(block):
            if "# wrong" in line:
                continue
            condition = _load(f"when: {line}")["when"]
            parse(condition)
            conditions += 1
    assert conditions >= 5


def test_the_editor_settings_example_is_json() -> None:
    found = re.search(r"```json\n(.*?)```", DOC, re.DOTALL)
    assert found
    json.loads("{" + found.group(1) + "}")
