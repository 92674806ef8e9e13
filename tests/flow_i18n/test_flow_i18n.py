"""Translating a flow with gettext: extraction with contexts, the organiser's commands,
coverage, and falling back to the default text where a translation is missing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po
from click.testing import CliRunner

from bot.cli import main
from bot.engine import load_file
from bot.engine.localise import localise
from bot.flow_i18n import catalog_path, coverage, flow_texts

ROOT = Path(__file__).resolve().parents[2]

FLOW = """\
id: tiny
version: 1
default_language: he
languages: [he, ar]
steps:
  - {id: consent, type: consent, text: מסכימים?}
  - id: area
    type: choice
    text: איפה?
    options: [{id: north, label: צפון}, {id: south, label: דרום}]
  - id: again
    type: choice
    text: איפה?
    options: [{id: north, label: צפון}, {id: south, label: דרום}]
  - {id: bye, type: end, text: תודה!}
"""


@pytest.fixture
def flow_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(FLOW, encoding="utf-8")
    return path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_the_extractor_gives_each_text_with_its_context_and_line(flow_file: Path) -> None:
    found = list(extract_from_file("kolot_flow", str(flow_file)))  # the entry point
    assert [(line, message) for line, message, _comments, _context in found] == [
        (1, "tiny"),
        (6, "מסכימים?"),
        (7, "איפה?"), (7, "צפון"), (7, "דרום"),
        (11, "איפה?"), (11, "צפון"), (11, "דרום"),
        (15, "תודה!"),
    ]
    contexts = [context for *_, context in found]
    assert contexts[:5] == ["title", "consent", "area", "area.options.north",
                            "area.options.south"]
    assert contexts[5] == "again"  # the same question twice stays two messages


def test_pybabel_extract_works_with_a_mapping_file(flow_file: Path, tmp_path: Path) -> None:
    mapping = tmp_path / "babel.cfg"
    mapping.write_text("[kolot_flow: **.yaml]\n", encoding="utf-8")
    pot = tmp_path / "out.pot"
    CommandLineInterface().run(
        ["pybabel", "extract", "-F", str(mapping), "-o", str(pot), str(tmp_path)]
    )
    with pot.open("rb") as f:
        messages = {(m.context, m.id) for m in read_po(f) if m.id}
    assert ("again", "איפה?") in messages and ("area", "איפה?") in messages


def test_the_organisers_commands_extract_init_update_compile(flow_file: Path) -> None:
    assert run("i18n", "extract", str(flow_file))[0] == 0
    assert (flow_file.parent / "locales" / "tiny.pot").is_file()
    code, out = run("i18n", "init", str(flow_file), "ar")
    assert code == 0, out
    flow = load_file(flow_file)
    po = catalog_path(flow_file, flow, "ar")
    text = po.read_text(encoding="utf-8")
    text = text.replace('msgid "מסכימים?"\nmsgstr ""', 'msgid "מסכימים?"\nmsgstr "موافقون؟"')
    po.write_text(text, encoding="utf-8")
    assert run("i18n", "init", str(flow_file), "ar")[0] == 1  # never overwrites work

    flow_file.write_text(FLOW.replace("תודה!", "תודה רבה!"), encoding="utf-8")
    code, out = run("i18n", "update", str(flow_file))
    assert code == 0 and "updated" in out
    with po.open("rb") as f:
        catalog = read_po(f)
    assert catalog.get("מסכימים?", context="consent").string == "موافقون؟"  # kept
    assert catalog.get("תודה רבה!", context="bye") is not None  # the new text is there

    code, out = run("i18n", "compile", str(flow_file))
    assert code == 0 and po.with_suffix(".mo").is_file(), out
    po.write_text(po.read_text(encoding="utf-8") + '\nmsgid "broken\n', encoding="utf-8")
    code, out = run("i18n", "compile", str(flow_file))
    assert code == 1 and f"error: {po}" in out


def test_a_missing_translation_falls_back_to_the_default_text(tmp_path: Path) -> None:
    copy = tmp_path / "examples"
    shutil.copytree(ROOT / "flows" / "examples", copy)
    flow_file = copy / "neighbourhood-park.yaml"
    flow = load_file(flow_file)
    po = catalog_path(flow_file, flow, "ar")
    text = po.read_text(encoding="utf-8")
    po.write_text(text.replace('msgstr "أين تسكنون؟"', 'msgstr ""'), encoding="utf-8")

    arabic = localise(flow, flow_texts(flow_file, flow, "ar"))
    assert arabic.step("neighbourhood").text == "איפה אתם גרים?"  # the Hebrew default
    assert arabic.step("age_band").text == "كم عمركم؟"
    assert arabic.step("age_band").options[0].aliases == ("מתחת ל-18",)

    covered = coverage(flow_file, flow, "ar")
    assert (covered.translated, covered.total, covered.missing) == (55, 56, ("neighbourhood",))
    code, out = run("validate", str(flow_file))
    assert code == 0
    assert f"{flow_file}: ar: 55/56 texts translated; missing: neighbourhood" in out
    assert f"{flow_file}: en: 56/56 texts translated" in out
    code, out = run("validate", "--strict", str(flow_file))
    assert code == 1
    assert f"{flow_file}: error: ar: 55/56 texts translated; missing: neighbourhood" in out


def test_a_translation_of_an_older_text_is_not_used(tmp_path: Path) -> None:
    copy = tmp_path / "examples"
    shutil.copytree(ROOT / "flows" / "examples", copy)
    flow_file = copy / "neighbourhood-park.yaml"
    flow_file.write_text(
        flow_file.read_text(encoding="utf-8").replace("מה הגיל שלכם?", "בן/בת כמה את/ה?"),
        encoding="utf-8",
    )
    flow = load_file(flow_file)
    arabic = localise(flow, flow_texts(flow_file, flow, "ar"))
    assert arabic.step("age_band").text == "בן/בת כמה את/ה?"  # not the old question's Arabic
    assert coverage(flow_file, flow, "ar").missing == ("age_band",)
