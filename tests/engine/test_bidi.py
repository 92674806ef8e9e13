"""Inserted values keep their order in right-to-left sentences: the exact code points."""

from __future__ import annotations

from datetime import date

from babel.dates import format_date

from bot.engine.bidi import FSI, PDI, fill, has_rtl, isolate

RLM = "\u200f"


def test_values_in_a_hebrew_sentence_are_isolated() -> None:
    out = fill("השיבו במספר בין {min} ל-{max}.", min=-1, max="3/5")
    assert out == f"השיבו במספר בין {FSI}-1{PDI} ל-{FSI}3/5{PDI}."
    assert [hex(ord(c)) for c in out if c in (FSI, PDI)] == ["0x2068", "0x2069"] * 2


def test_a_latin_value_in_an_arabic_sentence_is_isolated() -> None:
    assert fill("إجابتك السابقة: {answer}", answer="Dana, 10:00") == (
        f"إجابتك السابقة: {FSI}Dana, 10:00{PDI}"
    )


def test_an_english_sentence_leaves_ltr_values_alone_but_isolates_rtl_ones() -> None:
    assert fill("Please reply with a number from {min} to {max}.", min=1, max=5) == (
        "Please reply with a number from 1 to 5."
    )
    assert fill("Your previous answer: {answer}.", answer="דרום") == (
        f"Your previous answer: {FSI}דרום{PDI}."
    )


def test_babels_marks_are_kept_and_nothing_is_wrapped_twice() -> None:
    arabic_date = format_date(date(2026, 11, 22), format="short", locale="ar")
    assert arabic_date == f"22{RLM}/11{RLM}/2026"  # Babel marks it already
    out = fill("الموعد: {when}", when=arabic_date)
    assert out == f"الموعد: {FSI}22{RLM}/11{RLM}/2026{PDI}"
    assert isolate(isolate("10:00")) == f"{FSI}10:00{PDI}"
    assert isolate("") == ""


def test_rtl_detection() -> None:
    assert has_rtl("שלום") and has_rtl("مرحبا") and has_rtl("abc ש")
    assert not has_rtl("Hello, 10:00") and not has_rtl("Привет") and not has_rtl("")
