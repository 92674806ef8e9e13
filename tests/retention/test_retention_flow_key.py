"""The flow key ``retention_days``: in the model, the schema and the docs; a bad value is an
error naming the file, line and key; a flow with no phases (it never closes) is warned."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.engine.loader import check_source
from bot.engine.schema import flow_schema

ROOT = Path(__file__).resolve().parents[2]
FLOW = """\
id: square
version: 1
default_language: en
retention_days: {value}
phases:
  - {{id: talk, starts: "2026-03-01 09:00", ends: "2026-03-20 21:00"}}
steps:
  - {{id: consent, type: consent, text: Do you agree?}}
  - {{id: bye, type: end, text: Thanks!}}
"""


def test_the_flow_carries_its_retention() -> None:
    checked = check_source(FLOW.format(value=180), "square.yaml")
    assert checked.diagnostics == [] and checked.flow is not None
    assert checked.flow.retention_days == 180
    without = FLOW.replace("retention_days: {value}\n", "")
    plain = check_source(without.format(), "square.yaml").flow
    assert plain is not None and plain.retention_days is None


@pytest.mark.parametrize(("value", "message"), [
    ("180d", "'retention_days' must be a whole number, not text ('180d'); write the number "
             "of days the data is kept after the flow closes, in digits, such as 180"),
    ("six months", "'retention_days' must be a whole number, not text ('six months')"),
    ('"180"', "'retention_days' must be a whole number, not text; write the number without "
              "quotes"),
    ("0", "'retention_days' must be at least 1"),
    ("-30", "'retention_days' must be at least 1"),
    ("90.5", "'retention_days' must be a whole number, not 90.5"),
    ("", "'retention_days' is empty; write the number of days to keep the data"),
])
def test_a_bad_value_names_the_file_line_and_key(value: str, message: str) -> None:
    checked = check_source(FLOW.format(value=value), "flows/square.yaml")
    assert checked.flow is None
    [error] = checked.errors
    assert str(error).startswith("flows/square.yaml:4:"), str(error)
    assert message in error.message, error.message


def test_without_phases_it_is_a_warning_the_flow_never_closes() -> None:
    text = FLOW.format(value=30).replace(
        'phases:\n  - {id: talk, starts: "2026-03-01 09:00", ends: "2026-03-20 21:00"}\n', "")
    checked = check_source(text, "flows/square.yaml")
    assert checked.flow is not None and checked.errors == []
    [warning] = checked.warnings
    assert str(warning).startswith("flows/square.yaml:4:17: warning: retention_days is 30, "
                                   "but this flow has no phases, so it never closes")


def test_kolot_validate_reports_a_bad_value(tmp_path: Path) -> None:
    path = tmp_path / "square.yaml"
    path.write_text(FLOW.format(value="half a year"), encoding="utf-8")
    done = CliRunner().invoke(main, ["validate", str(path)])
    assert done.exit_code == 1
    assert f"{path}:4:17: error: 'retention_days' must be a whole number" in done.output


def test_schema_and_docs_know_the_key() -> None:
    assert flow_schema()["properties"]["retention_days"]["minimum"] == 1
    written = json.loads((ROOT / "flows" / "schema.json").read_text(encoding="utf-8"))
    assert written["properties"]["retention_days"] == flow_schema()["properties"][
        "retention_days"]
    docs = (ROOT / "docs" / "flows.md").read_text(encoding="utf-8")
    assert "## Keeping personal data (retention)" in docs
    assert "| `kolot purge" in docs
