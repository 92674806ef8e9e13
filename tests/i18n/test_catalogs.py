"""The engine's sentences in Hebrew, Arabic, Russian and English: complete, well-formed,
compilable, with each language's plural rules, and used by a real conversation."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from bot import i18n
from bot.engine import AnswerSaved, ConsentGiven, Say, Text, load_file, start, step
from bot.engine.texts import MULTI_HINT, SORRY_MULTI_FEW, plural
from bot.i18n import translator

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = ("he", "ar", "ru", "en")
PLACEHOLDER = re.compile(r"\{\w+\}")
NOW = datetime(2026, 11, 22, tzinfo=UTC)


def _catalog(path: Path):  # type: ignore[no-untyped-def]
    with path.open("rb") as f:
        return read_po(f)


def _template_ids() -> set[object]:
    return {m.id for m in _catalog(ROOT / "locales" / "messages.pot") if m.id}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_sentence_is_translated_with_its_placeholders(language: str) -> None:
    catalog = _catalog(ROOT / "locales" / language / "LC_MESSAGES" / "messages.po")
    messages = {m.id: m for m in catalog if m.id}
    assert set(messages) == _template_ids()
    assert not catalog.fuzzy
    for msgid, message in messages.items():
        assert not message.fuzzy, msgid
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        assert len(forms) == (catalog.num_plurals if isinstance(msgid, tuple) else 1)
        assert all(form.strip() for form in forms), msgid
        source = " ".join(msgid) if isinstance(msgid, tuple) else msgid
        expected = set(PLACEHOLDER.findall(source))
        for form in forms:
            found = set(PLACEHOLDER.findall(form))
            assert found <= expected, (msgid, form)
            if not isinstance(msgid, tuple):
                assert found == expected, (msgid, form)
        if isinstance(msgid, str) and "|" in msgid:  # a word list keeps the English words
            assert set(msgid.split("|")) <= set(message.string.split("|")), msgid


def test_the_catalogs_compile_cleanly(tmp_path: Path) -> None:
    copy = tmp_path / "locales"
    shutil.copytree(ROOT / "locales", copy)
    CommandLineInterface().run(
        ["pybabel", "compile", "--statistics", "-d", str(copy)]
    )
    compiled = sorted(p.parent.parent.name for p in copy.glob("*/LC_MESSAGES/messages.mo"))
    assert compiled == sorted(LANGUAGES)


def _few(language: str, n: int) -> str:
    return plural(translator(language), SORRY_MULTI_FEW, n).format(min=n)


def test_hebrew_plurals() -> None:
    assert [_few("he", n) for n in (0, 1, 2, 3, 11, 100)] == [
        "יש לבחור לפחות 0 תשובות.",
        "יש לבחור לפחות תשובה אחת.",
        "יש לבחור לפחות 2 תשובות.",
        "יש לבחור לפחות 3 תשובות.",
        "יש לבחור לפחות 11 תשובות.",
        "יש לבחור לפחות 100 תשובות.",
    ]


def test_arabic_has_six_plural_forms() -> None:
    forms = [_few("ar", n) for n in (0, 1, 2, 3, 11, 100)]
    assert forms == [
        "يُرجى اختيار 0 إجابة على الأقل.",
        "يُرجى اختيار إجابة واحدة على الأقل.",
        "يُرجى اختيار إجابتين على الأقل.",
        "يُرجى اختيار 3 إجابات على الأقل.",
        "يُرجى اختيار 11 إجابةً على الأقل.",
        "يُرجى اختيار 100 إجابة على الأقل.",
    ]
    assert len({f.replace(str(n), "N") for f, n in zip(forms, (0, 1, 2, 3, 11, 100),
                                                           strict=True)}) == 5  # 0 ~ 100
    # the catalog's rule picks a different one of the six forms for each count
    assert [_form("ar", n) for n in (0, 1, 2, 3, 11, 100)] == [0, 1, 2, 3, 5, 4]


def test_russian_has_three_plural_forms_and_21_is_like_1() -> None:
    assert [_few("ru", n) for n in (1, 2, 5, 21)] == [
        "Пожалуйста, выберите хотя бы 1 ответ.",
        "Пожалуйста, выберите хотя бы 2 ответа.",
        "Пожалуйста, выберите хотя бы 5 ответов.",
        "Пожалуйста, выберите хотя бы 21 ответ.",
    ]
    assert [_form("ru", n) for n in (1, 2, 5, 21)] == [0, 1, 2, 0]


def _form(language: str, n: int) -> int:
    """Which of the catalog's plural forms the language's rule picks for ``n``."""
    rule = getattr(translator(language), "plural")  # noqa: B009 - not in the Translator protocol
    return int(rule(n))


def _hint(language: str, n: int) -> str:
    return plural(translator(language), MULTI_HINT, n).format(max=n)


def test_the_multiple_choice_hint_follows_the_count() -> None:
    assert [_hint("he", n) for n in (1, 2, 11)] == [
        "בחרו תשובה אחת: השיבו במספר שלה.",
        "בחרו עד 2 תשובות: השיבו במספרים מופרדים בפסיקים, למשל 1,3.",
        "בחרו עד 11 תשובות: השיבו במספרים מופרדים בפסיקים, למשל 1,3.",
    ]
    separated = "أجيبوا بالأرقام مفصولة بفواصل، مثلًا 1,3."
    assert [_hint("ar", n) for n in (1, 2, 3, 11, 100)] == [
        "اختاروا إجابة واحدة: أجيبوا برقمها.",
        f"اختاروا حتى إجابتين: {separated}",
        f"اختاروا حتى 3 إجابات: {separated}",
        f"اختاروا حتى 11 إجابةً: {separated}",
        f"اختاروا حتى 100 إجابة: {separated}",
    ]
    commas = "ответьте номерами через запятую, например 1,3."
    assert [_hint("ru", n) for n in (2, 5, 21)] == [
        f"Выберите до 2 ответов: {commas}",
        f"Выберите до 5 ответов: {commas}",
        f"Выберите до 21 ответа: {commas}",
    ]
    assert _hint("en", 1) == "Choose up to 1 answer: reply with its number."


def test_catalogs_are_read_from_po_files_without_compiling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "locales"
    shutil.copytree(ROOT / "locales", copy, ignore=shutil.ignore_patterns("*.mo"))
    monkeypatch.setattr(i18n, "LOCALES_DIR", copy)
    i18n.translator.cache_clear()
    try:
        assert translator("ar").gettext("Yes") == "نعم"
        assert translator("xx").gettext("Yes") == "Yes"  # no catalog: the English id
        assert not list(copy.rglob("*.mo"))
    finally:
        i18n.translator.cache_clear()


def _says(events: list[object]) -> list[str]:
    return [e.text for e in events if isinstance(e, Say)]


@pytest.mark.parametrize(
    ("language", "agree", "sorry", "back", "previous"),
    [
        ("he", "כן", "סליחה, לא הבנתי.", "חזרה", "התשובה הקודמת שלכם:"),
        ("ar", "نعم", "عذرًا، لم أفهم.", "رجوع", "إجابتكم السابقة:"),
        ("ru", "да", "Извините, я не понял.", "назад", "Ваш предыдущий ответ:"),
    ],
)
def test_a_conversation_in_the_participants_language(
    language: str, agree: str, sorry: str, back: str, previous: str
) -> None:
    flow = load_file(ROOT / "flows" / "examples" / "civil-service-women.yaml")
    tr = translator(language)
    state, _ = start(flow, NOW, language=language, tr=tr)
    state, events = step(flow, state, Text(agree), NOW, tr=tr)
    assert any(isinstance(e, ConsentGiven) for e in events)
    state, events = step(flow, state, Text("?"), NOW, tr=tr)
    assert _says(events)[0].startswith(sorry) and state.step == "sector"
    state, events = step(flow, state, Text("٢"), NOW, tr=tr)  # Arabic-Indic two
    assert AnswerSaved("sector", "business") in events
    state, events = step(flow, state, Text(back), NOW, tr=tr)
    assert state.step == "sector" and _says(events)[0].startswith(previous)
