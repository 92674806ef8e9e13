"""Where an overlong text is cut (``bot.abuse.cut``): at a space near the limit, else where
a grapheme ends: a letter keeps its marks (Hebrew points, Arabic harakat), an emoji its
joiners and skin tone, a flag both halves; never between the halves of a surrogate pair;
always a prefix of the text, never longer than the limit."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from bot.abuse import TEXT_LIMIT, cut


def test_short_text_is_left_alone() -> None:
    assert cut("hello", 5) == "hello"
    assert cut("x" * TEXT_LIMIT) == "x" * TEXT_LIMIT


def test_cut_at_the_last_space_before_the_limit() -> None:
    text = "word " * 2000
    kept = cut(text)
    assert kept == text[:TEXT_LIMIT].rsplit(" ", 1)[0] and kept.endswith("word")
    assert cut("ab cd", 4) == "ab"


def test_without_spaces_at_the_limit() -> None:
    assert cut("a" * 10_000) == "a" * TEXT_LIMIT


def _whole(kept: str, unit: str) -> bool:
    return len(kept) % len(unit) == 0 and kept == unit * (len(kept) // len(unit))


def test_an_emoji_sequence_is_kept_whole_or_not_at_all() -> None:
    family = "\U0001F468\u200d\U0001F469\u200d\U0001F467"  # man ZWJ woman ZWJ girl
    thumbs = "\U0001F44D\U0001F3FD"  # thumbs up, medium skin tone
    heart = "\u2764\ufe0f"  # heart with its emoji presentation selector
    for unit in (family, thumbs, heart):
        for limit in range(20, 30):
            kept = cut(unit * 100, limit)
            assert _whole(kept, unit), (unit, limit, kept)
            assert len(kept) > limit - len(unit)


def test_a_flag_keeps_both_halves() -> None:
    israel = "\U0001F1EE\U0001F1F1"
    for limit in (99, 100, 101):
        kept = cut(israel * 100, limit)
        assert _whole(kept, israel) and len(kept) in (limit, limit - 1)


def test_hebrew_and_arabic_letters_keep_their_marks() -> None:
    for word in ("שָׁלוֹם", "مَرْحَبًا"):  # pointed Hebrew, Arabic with harakat
        for limit in range(30, 45):
            kept = cut(word * 50, limit)
            assert len(kept) <= limit
            assert not unicodedata.combining((word * 50)[len(kept)])  # next is a letter


def test_never_between_the_halves_of_a_surrogate_pair() -> None:
    # A str holds surrogates only when decoded to keep them, e.g. 'surrogatepass'.
    pair = "\ud83d\ude00"
    kept = cut(pair * 3000, 4095)
    assert len(kept) == 4094
    assert kept.encode("utf-16-le", "surrogatepass").decode("utf-16-le") == "\U0001F600" * 2047


def test_endless_marks_are_cut_at_the_limit() -> None:
    zalgo = "a" + "\u0301" * 9999
    assert cut(zalgo) == zalgo[:TEXT_LIMIT]


@given(text=st.text(min_size=1, max_size=300), limit=st.integers(1, 200))
def test_always_a_prefix_within_the_limit(text: str, limit: int) -> None:
    kept = cut(text, limit)
    assert text.startswith(kept) and len(kept) <= limit
    if len(text) <= limit:
        assert kept == text
