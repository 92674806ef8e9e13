"""Long texts cut into messages a platform accepts, between paragraphs where possible."""

from __future__ import annotations

__all__ = ["split", "utf16_length"]


def utf16_length(text: str) -> int:
    """Length as the platforms count it, in UTF-16 code units: an emoji is two."""
    return len(text.encode("utf-16-le")) // 2


def split(text: str, limit: int) -> list[str]:
    """``text`` in parts of at most ``limit``, cut between paragraphs where possible, then
    between lines, then between words, and only as a last resort inside a word."""
    parts: list[str] = []
    rest = text.strip()
    while utf16_length(rest) > limit:
        cut = _cut(rest, limit)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def _cut(text: str, limit: int) -> int:
    """Where to cut: the last paragraph, line or word break that keeps the part in limit."""
    fits = len(text)
    while utf16_length(text[:fits]) > limit:
        fits -= max(1, (utf16_length(text[:fits]) - limit) // 2)
    window = text[:fits]
    for breaker in ("\n\n", "\n", " "):
        at = window.rfind(breaker)
        if at > fits // 4:
            return at + len(breaker)
    return fits
