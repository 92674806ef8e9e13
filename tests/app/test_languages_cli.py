"""The bilingual example end to end in the console: a whole run in Arabic, the same
choices in English storing the same values, and /lang switching mid-flow."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main

ROOT = Path(__file__).resolve().parents[2]
PARK = ROOT / "flows" / "examples" / "neighbourhood-park.yaml"
ARABIC_LETTER = re.compile(r"[\u0621-\u064a]")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
HEBREW_LETTER = re.compile(r"[\u05d0-\u05ea]")

ARABIC_INPUTS = [
    "نعم",
    "٣",  # 35 to 49, in Arabic-Indic digits
    "جنوب الحديقة",  # a label, in Arabic
    "٣",
    "المشي أو الركض، اللعب مع الأطفال",  # two labels, Arabic comma
    "٢",
    "نعم",
    "١,٢",
    "١، ٥",
    "الأراجيح المكسورة",
    "تخطي",  # skip, in Arabic
    "نعم",
]
HEBREW_INPUTS = [
    "כן", "3", "דרומית לפארק", "3", "הליכה או ריצה, משחק עם ילדים", "2", "כן",
    "1,2", "1, 5", "הנדנדות השבורות", "דלג", "כן",
]
ENGLISH_INPUTS = [
    "yes", "3", "South of the park", "3", "Walk or jog, Play with children", "2", "yes",
    "1,2", "1, 5", "الأراجيح المكسورة", "skip", "yes",
]


@pytest.fixture
def db(empty_database_url: str) -> str:
    return empty_database_url


def chat(tmp_path: Path, db: str, name: str, lines: list[str], *extra: str) -> list[str]:
    script = tmp_path / f"{name}.txt"
    script.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(
        main, ["chat", str(PARK), "--script", str(script), "--as", name, "--db", db, *extra],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def answers(db: str) -> dict[str, dict[str, object]]:
    result = CliRunner().invoke(main, ["answers", "neighbourhood-park", "--db", db])
    assert result.exit_code == 0, result.output
    return {row.pop("participant"): row for row in json.loads(result.output)}


def test_a_whole_run_in_hebrew_the_flows_own_language(tmp_path: Path, db: str) -> None:
    said = chat(tmp_path, db, "noa", HEBREW_INPUTS)  # no --lang: the default language
    bot_lines = [line for line in said if not line.startswith("noa: ")]
    for line in bot_lines:
        said_text = line.removeprefix("bot: ")
        assert HEBREW_LETTER.search(said_text) or re.fullmatch(r"\s+\d\. \d", line), line
        assert not ARABIC_LETTER.search(said_text) and not LATIN_WORD.search(said_text), line
    assert said[-1].startswith("bot: תודה שעזרתם לעצב את פארק אלון!")
    [stored] = answers(db).values()
    assert stored["neighbourhood"] == "south" and stored["problems"] == "הנדנדות השבורות"
    assert stored["priorities"] == ["trees", "fountains"] and "idea" not in stored


def test_a_whole_run_in_arabic_stores_what_the_same_choices_store_in_english(
    tmp_path: Path, db: str
) -> None:
    said = chat(tmp_path, db, "sami", ARABIC_INPUTS, "--lang", "ar")
    bot_lines = [line for line in said if not line.startswith("sami: ")]
    assert len(bot_lines) > 40
    for line in bot_lines:
        said_text = line.removeprefix("bot: ")
        assert ARABIC_LETTER.search(said_text) or re.fullmatch(r"\s+\d\. \d", line), line
        assert not HEBREW_LETTER.search(said_text), line
        assert not LATIN_WORD.search(said_text), line
    assert said[-1].startswith("bot: شكرًا لمساعدتكم")

    chat(tmp_path, db, "sam", ENGLISH_INPUTS, "--lang", "en")
    arabic, english = answers(db).values()
    assert arabic == english == {
        "age_band": "35_49",
        "neighbourhood": "south",
        "visits": 3,
        "uses": ["walk", "play"],
        "satisfaction": 2,
        "young_children": True,
        "playground": ["toddlers", "shade"],
        "priorities": ["trees", "fountains"],
        "problems": "الأراجيح المكسورة",
        "updates": True,
    }


def test_lang_switches_mid_flow_and_keeps_the_answers(tmp_path: Path, db: str) -> None:
    said = chat(tmp_path, db, "rana", ["כן", "2", "/lang", "العربية", "١", "/lang en", "3"])
    assert said[:3] == [
        "bot: שלום! העירייה משפצת את פארק אלון בשנה הבאה ורוצה לשמוע את תושבות ותושבי"
        " הסביבה. זה לוקח כשלוש דקות.",
        "bot: התשובות שלכם ישמשו רק לתכנון השיפוץ של פארק אלון. הן יפורסמו רק כסיכומים,"
        " לעולם לא עם השם או מספר הטלפון שלכם, ואפשר לבקש מאיתנו למחוק אותן בכל עת."
        " האם אתם מסכימים?",
        "     1. כן",
    ]
    menu = said.index("rana: /lang") + 1
    assert said[menu:menu + 5] == [
        "bot: באיזו שפה תרצו להמשיך? אפשר להחליף בכל רגע עם /lang.",
        "     1. עברית",
        "     2. العربية",
        "     3. English",
        "rana: العربية",
    ]
    assert said[menu + 5:menu + 10] == [  # the open question again, now in Arabic
        "bot: أين تسكنون؟",
        "     1. شمال الحديقة",
        "     2. جنوب الحديقة",
        "     3. أبعد من ذلك",
        "     (أجيبوا برقم إجابتكم.)",
    ]
    switched = said.index("rana: /lang en") + 1
    assert said[switched].startswith("bot: How many times a week do you usually go to the park?")
    [stored] = answers(db).values()
    assert stored == {"age_band": "18_34", "neighbourhood": "north", "visits": 3}
