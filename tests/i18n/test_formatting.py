"""Dates and times in the participant's language and the flow's time zone, and numbers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.engine.bidi import FSI, PDI, fill
from bot.formatting import day, moment, number, time_of_day

JERUSALEM = "Asia/Jerusalem"
WINTER = datetime(2026, 11, 22, 8, 30, tzinfo=UTC)  # UTC+2 in Jerusalem
SUMMER = datetime(2026, 7, 1, 8, 30, tzinfo=UTC)  # UTC+3
RLM, NNBSP = "\u200f", "\u202f"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("he", "22 בנוב׳ 2026, 10:30:00"),
        ("ar", f"22{RLM}/11{RLM}/2026، 10:30:00 ص"),
        ("en", f"Nov 22, 2026, 10:30:00{NNBSP}AM"),
        ("ru", f"22 нояб. 2026{NNBSP}г., 10:30:00"),
    ],
)
def test_a_moment_in_each_language_in_jerusalem_time(language: str, expected: str) -> None:
    assert moment(WINTER, language, JERUSALEM) == expected


def test_summer_time_and_the_day_in_the_flows_time_zone() -> None:
    assert time_of_day(SUMMER, "he", JERUSALEM) == "11:30"
    late = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)  # already Monday in Jerusalem
    assert day(late, "en", JERUSALEM) == "Monday, November 23, 2026"
    assert day(late, "he", JERUSALEM) == "יום שני, 23 בנובמבר 2026"


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        moment(datetime(2026, 11, 22, 8, 30), "he", JERUSALEM)


def test_numbers_follow_the_language() -> None:
    assert [number(1234.5, lang) for lang in ("en", "he", "ru")] == [
        "1,234.5", "1,234.5", f"1{chr(0xa0)}234,5"
    ]


def test_an_arabic_date_in_an_arabic_sentence_is_isolated_once() -> None:
    sentence = fill("ينتهي التصويت في {when}.", when=moment(WINTER, "ar", JERUSALEM))
    assert sentence == f"ينتهي التصويت في {FSI}22{RLM}/11{RLM}/2026، 10:30:00 ص{PDI}."
    assert sentence.count(RLM) == 2  # Babel's marks, none added
