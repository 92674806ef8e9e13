"""The automatic screen: personal details, links, block lists, duplicates."""

from __future__ import annotations

import pytest

from bot.moderation import REASONS, screen


@pytest.mark.parametrize(
    ("text", "language", "reason"),
    [
        ("Call me on 052-1234567 about the benches", "en", "personal_data"),
        ("התקשרו אליי 0521234567", "he", "personal_data"),
        ("write to dana@example.org please", "en", "personal_data"),
        ("+972 52 123 4567 is my number", "en", "personal_data"),
        ("see https://example.org/plan", "en", "link"),
        ("our site www.parks.co.il has plans", "en", "link"),
        ("the manager is an idiot", "en", "blocked_words"),
        ("המנהל אידיוט", "he", "blocked_words"),
        ("المدير غبي", "ar", "blocked_words"),
        ("директор идиот", "ru", "blocked_words"),
        ("More shade trees along the paths", "en", None),
        ("Open the park until 22:00, 7 days a week", "en", None),
        ("Idiomatic signs in three languages", "en", None),  # a word, not "idiot"
        ("2 benches, 3 lamps and 1 fountain", "en", None),
    ],
)
def test_what_the_screen_catches(text: str, language: str, reason: str | None) -> None:
    assert screen(text, language).reason == reason


def test_duplicates_word_for_word_or_nearly() -> None:
    existing = ["More shade trees along the paths", "A drinking fountain"]
    assert screen("more shade trees, along the paths!", "en", existing).reason == "duplicate"
    assert screen("Shade trees along the paths, more", "en", existing).reason == "duplicate"
    assert screen("A fenced area for dogs", "en", existing).passed


def test_every_reason_has_words_for_the_author() -> None:
    assert set(REASONS) == {"personal_data", "link", "blocked_words", "duplicate", "rules"}
