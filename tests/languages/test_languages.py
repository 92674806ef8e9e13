"""Choosing the conversation's language: choice, then hints the flow speaks, then default."""

from __future__ import annotations

import pytest

from bot.languages import autonym, hints_from_phone, language_of, resolve

FLOW = ("he", "ar", "en")


@pytest.mark.parametrize(
    ("tag", "language"),
    [("he", "he"), ("he-IL", "he"), ("iw", "he"), ("ar_SA", "ar"), ("RU", "ru"),
     ("pt-br", "pt"), ("", None), ("  ", None), (None, None), ("xx-yy", None), ("12", None)],
)
def test_language_of_reads_client_locale_tags(tag: str | None, language: str | None) -> None:
    assert language_of(tag) == language


def test_an_explicit_choice_wins_over_hints() -> None:
    assert resolve(FLOW, "he", chosen="ar", hints=["en"]) == "ar"


def test_a_choice_the_flow_does_not_speak_falls_to_hints_then_default() -> None:
    assert resolve(FLOW, "he", chosen="ru", hints=["en-US"]) == "en"
    assert resolve(FLOW, "he", chosen="ru", hints=["fr", None]) == "he"


def test_the_first_hint_the_flow_speaks_is_taken() -> None:
    assert resolve(FLOW, "he", hints=["ru", "ar-EG", "en"]) == "ar"
    assert resolve(("en",), "en", hints=["he"]) == "en"


@pytest.mark.parametrize(
    ("number", "hints"),
    [
        ("whatsapp:+972501234567", ("he", "ar")),
        ("+972501234567", ("he", "ar")),
        ("+970599123456", ("ar",)),
        ("whatsapp:+79161234567", ("ru",)),
        ("+12025550123", ("en",)),
        ("whatsapp:+0000", ()),
        ("not a number", ()),
        ("", ()),
    ],
)
def test_a_phone_numbers_country_gives_weak_hints(number: str, hints: tuple[str, ...]) -> None:
    assert hints_from_phone(number) == hints


def test_a_phone_hint_counts_only_if_the_flow_speaks_it() -> None:
    assert resolve(("ar", "en"), "en", hints=hints_from_phone("+972501234567")) == "ar"
    assert resolve(("en",), "en", hints=hints_from_phone("+972501234567")) == "en"


def test_autonyms_for_menus() -> None:
    assert [autonym(code) for code in ("he", "ar", "en", "ru", "am")] == [
        "עברית", "العربية", "English", "Русский", "አማርኛ"
    ]
    assert autonym("xx") == "xx"
