"""Every broken flow in tests/broken_flows gives exactly the lines expected for it."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML

from bot.engine.loader import check_file
from bot.engine.schema import flow_schema

ROOT = Path(__file__).resolve().parents[2]
BROKEN = ROOT / "tests" / "broken_flows"
FLOWS = ROOT / "flows"


def _expected() -> dict[str, list[str]]:
    data = YAML(typ="safe").load((BROKEN / "expected.yaml").read_text(encoding="utf-8"))
    return {str(name): list(lines) for name, lines in data.items()}


def _broken_files() -> list[str]:
    files = [p for p in BROKEN.rglob("*.yaml") if p.name != "expected.yaml"]
    return sorted(p.relative_to(BROKEN).as_posix() for p in files)


EXPECTED = _expected()


@pytest.mark.parametrize("name", _broken_files())
def test_broken_flow_gives_exactly_the_expected_lines(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    checked = check_file(f"tests/broken_flows/{name}")
    assert [str(d) for d in checked.diagnostics] == EXPECTED[name]
    if name.startswith("warnings/"):
        assert checked.flow is not None
        assert checked.errors == []
        assert checked.warnings
    else:
        assert checked.flow is None
        assert checked.errors


def test_every_broken_flow_has_expected_lines_and_every_entry_has_a_file() -> None:
    assert sorted(EXPECTED) == _broken_files()


def test_there_are_enough_broken_flows() -> None:
    errors = [n for n in EXPECTED if not n.startswith("warnings/")]
    warnings = [n for n in EXPECTED if n.startswith("warnings/")]
    assert len(errors) >= 24
    assert len(warnings) >= 2


def _flow_files() -> list[Path]:
    return sorted(p for p in FLOWS.rglob("*") if p.suffix in (".yaml", ".yml"))


def test_there_are_example_flows() -> None:
    names = {p.name for p in _flow_files()}
    assert "civil-service-women.yaml" in names
    assert "neighbourhood-park.yaml" in names


@pytest.mark.parametrize("path", _flow_files(), ids=lambda p: p.name)
def test_shipped_flows_check_clean(path: Path) -> None:
    checked = check_file(path)
    assert checked.errors == []
    assert checked.warnings == []
    assert checked.flow is not None


def test_schema_file_is_the_schema_written_out() -> None:
    written = (FLOWS / "schema.json").read_text(encoding="utf-8")
    assert written == json.dumps(flow_schema(), indent=2, ensure_ascii=False) + "\n", (
        "flows/schema.json is stale: run `kolot schema --out flows/schema.json`"
    )


def test_schema_is_a_valid_json_schema() -> None:
    schema = json.loads((FLOWS / "schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("path", _flow_files(), ids=lambda p: p.name)
def test_example_flows_validate_against_the_published_schema(path: Path) -> None:
    schema = json.loads((FLOWS / "schema.json").read_text(encoding="utf-8"))
    document = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(document)


@pytest.mark.parametrize("name", _broken_files())
def test_kolot_validate_exits_1_on_errors_and_0_on_warnings(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from bot.cli import main

    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, ["validate", f"tests/broken_flows/{name}"])
    assert result.exit_code == (0 if name.startswith("warnings/") else 1)
    for line in EXPECTED[name]:
        assert line in result.output
