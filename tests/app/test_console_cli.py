"""The organiser's path end to end: `kolot chat --script`, then `kolot answers`, on SQLite."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "flows" / "examples" / "civil-service-women.yaml"
SCRIPT = ROOT / "tests" / "data" / "civil-service-women.inputs.txt"


@pytest.fixture
def db(empty_database_url: str) -> str:
    """A fresh database per test, SQLite and PostgreSQL: the CLI migrates it itself."""
    return empty_database_url


def run(*args: str, input: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)
    return result.exit_code, result.output


def test_script_prints_transcript_and_answers_are_exactly_the_values_given(db: str) -> None:
    code, out = run("chat", str(EXAMPLE), "--script", str(SCRIPT), "--as", "ana", "--db", db)
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0] == (
        "bot: Hello! The Civil Service Commission is asking how to promote women to senior roles."
    )
    assert "ana: 1,3" in lines
    assert "     1. Public sector" in lines
    assert "bot: What is the biggest barrier you have seen?" in lines
    assert lines[-1] == "bot: Thank you for taking part!"

    code, out = run("answers", "civil-service-women", "--format", "json", "--db", db)
    assert code == 0, out
    records = json.loads(out)
    assert len(records) == 1
    record = records[0]
    participant = record.pop("participant")
    assert record == {
        "sector": "public",
        "topics": ["childcare", "flexible"],
        "importance": 5,
        "years": 12,
        "mentor": False,
        "barrier": "Too few women sit on senior selection committees",
    }
    assert "ana" not in participant and len(participant) >= 12


def test_two_names_are_two_participants_and_csv_keeps_step_order(db: str) -> None:
    run("chat", str(EXAMPLE), "--script", str(SCRIPT), "--as", "ana", "--db", db)
    other = "yes\nBUSINESS\ncivil\nmentoring\n2\nskip\nyes\n"
    code, out = run("chat", str(EXAMPLE), "--script", "-", "--as", "ben", "--db", db, input=other)
    assert code == 0, out
    assert out.splitlines()[-1] == "bot: Thank you for taking part!"
    # "civil" is not an option of `topics`: re-prompted, then "mentoring" is accepted.
    assert any("Please reply with numbers from 1 to 3" in line for line in out.splitlines())

    code, out = run("answers", str(EXAMPLE), "--format", "csv", "--db", db)
    assert code == 0, out
    header, *rows = out.splitlines()
    assert header == "participant,sector,topics,importance,years,mentor,barrier"
    assert len(rows) == 2
    by_sector = {row.split(",")[1]: row.split(",")[1:] for row in rows}
    assert by_sector["public"] == ["public", "childcare;flexible", "5", "12", "false",
                                   "Too few women sit on senior selection committees"]
    assert by_sector["business"] == ["business", "mentoring", "2", "", "true", ""]


def test_coming_back_resumes_at_the_open_question(db: str) -> None:
    run("chat", str(EXAMPLE), "--script", "-", "--as", "dana", "--db", db, input="yes\n3\n")
    code, out = run("chat", str(EXAMPLE), "--script", "-", "--as", "dana", "--db", db, input="")
    assert code == 0
    assert out.splitlines() == [
        "bot: Welcome back! Let's continue where you left off.",
        "bot: Which topics matter most? Choose up to two.",
        "     1. Childcare",
        "     2. Mentoring",
        "     3. Flexible hours",
        "     (Choose up to 2 answers: reply with the numbers separated by commas,"
        " for example 1,3.)",
    ]


def test_interactive_chat_reads_stdin_until_quit(db: str) -> None:
    code, out = run("chat", str(EXAMPLE), "--as", "eli", "--db", db, input="no\n/quit\n")
    assert code == 0, out
    assert "Nothing you wrote has been stored" in out
    code, out = run("answers", "civil-service-women", "--db", db)
    assert json.loads(out) == []


def test_chat_refuses_a_broken_flow(tmp_path: Path, db: str) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "id: b\nversion: 1\ndefault_language: en\nsteps:\n"
        "  - id: q\n    type: choice\n    text: Pick\n"
        "    options: [{id: a, label: A}, {id: b, label: B}]\n"
        "  - id: consent\n    type: consent\n    text: OK?\n",
        encoding="utf-8",
    )
    code, out = run("chat", str(broken), "--db", db, "--script", str(SCRIPT))
    assert code == 1
    assert (
        f"{broken}:5:9: error: step 'q': this choice step stores an answer before the participant"
        " has agreed (path: q); move the consent step 'consent' before it, or add one"
    ) in out
    assert "bot:" not in out  # the conversation never started


def test_validate_exit_codes(tmp_path: Path) -> None:
    code, out = run("validate", str(ROOT / "flows"))
    assert code == 0, out
    assert "0 errors" in out
    broken = tmp_path / "dup.yaml"
    broken.write_text(
        "id: b\nversion: 1\ndefault_language: en\nsteps:\n"
        "  - id: hi\n    type: message\n    text: Hi\n"
        "  - id: hi\n    type: end\n    text: Bye\n",
        encoding="utf-8",
    )
    code, out = run("validate", str(broken))
    assert code == 1
    assert f"{broken}:8:9: error: step 'hi': step id 'hi' is already used" in out


def test_schema_command_matches_the_published_schema() -> None:
    code, out = run("schema")
    assert code == 0
    assert out == (ROOT / "flows" / "schema.json").read_text(encoding="utf-8")


def test_readme_test_command_is_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    blocks = readme.split("```sh\n")
    commands = [b.split("\n```")[0].strip() for b in blocks[1:3]]
    assert commands[0].endswith("kolot chat flows/examples/civil-service-women.yaml")
    assert commands[1].endswith("python -m pytest")
    assert commands[1] in ci.splitlines()
