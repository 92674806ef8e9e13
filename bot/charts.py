"""Bar charts as PNG bytes, for reports: ranked ideas, the share choosing each option.

Matplotlib draws through its Agg renderer on a :class:`~matplotlib.figure.Figure` of its
own (no ``pyplot``, so no global state, no GUI backend, safe in any thread). The output is
deterministic: the same items give the same bytes (no software or date stamps in the PNG).

**Right-to-left text.** Matplotlib 3.11 lays text out with libraqm: it applies the Unicode
bidirectional algorithm and shapes Arabic itself, so it is given the text in logical order
(as typed). Older matplotlib (3.10, which ``pyproject.toml`` still allows) draws characters
one after the other, left to right; there, every text holding a right-to-left character is
first put in *visual order* by :func:`visual_order`: Arabic shaped into its joined
presentation forms (``arabic_reshaper``), then reordered by the bidirectional algorithm
(``python-bidi``) as it is to appear on the screen. Doing that for a renderer that reorders
by itself would reverse the text twice, so which one applies is found out once, by asking
matplotlib's own layout how it orders two Hebrew letters. Text without a right-to-left
character is never touched. Labels are wrapped *before* either, on the logical text, so
each line is laid out on its own and a line break never scrambles the reading order.

**Mirrored charts.** In Hebrew and Arabic (any language whose script Babel's CLDR data says
runs right to left) the whole chart is mirrored, as a reader of those languages scans it:
labels stand on the right, where reading starts, the bars grow from there to the left, the
value is printed at each bar's left end, and the title is aligned right. The order from top
to bottom does not change (best first at the top): that is the same in both directions.
In such a chart a label is read as a right-to-left sentence even when it starts with a Latin
word ("Wi-Fi בפארק"). Numbers keep Western digits, as Hebrew and most Arabic reports print
them.

**Font.** DejaVu Sans, the one bundled with matplotlib (so the picture is the same on every
machine); it has Latin, Cyrillic, Hebrew and Arabic, including Arabic presentation forms.
A character it lacks is dropped rather than drawn as an empty box with a warning, and a
``$`` is just a dollar sign (no mathtext).
"""

from __future__ import annotations

import io
import textwrap
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import arabic_reshaper
import matplotlib
from bidi.algorithm import get_display
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ft2font import FT2Font, LoadFlags

from bot.engine.bidi import has_rtl
from bot.languages import is_rtl_language

__all__ = ["bar_chart", "share_chart", "visual_order"]

FONT_PATH = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
BOLD_FONT_PATH = FONT_PATH.with_name("DejaVuSans-Bold.ttf")
RLM = "\u200f"

LABEL_WIDTH = 32
"""Characters per line of a bar's label; longer labels wrap."""
LABEL_LINES = 2
"""Lines per label at most; the rest is cut with an ellipsis."""
TITLE_WIDTH = 70

_WIDTH_INCHES = 8.0
_DPI = 100
_BAR_INCHES = 0.42
"""Height of one bar's row; a two-line label needs a little more."""
_BAR_COLOUR = "#3b6ea5"
_TEXT_COLOUR = "#222222"
_INVISIBLE = frozenset(
    "\u200e\u200f\u061c"  # LRM, RLM, ALM
    "\u202a\u202b\u202c\u202d\u202e"  # embeddings and overrides
    "\u2066\u2067\u2068\u2069"  # isolates
)


def visual_order(text: str, *, rtl: bool | None = None) -> str:
    """``text`` as it must be drawn left to right by a renderer without bidi support.

    Text without a right-to-left character comes back unchanged. Otherwise Arabic letters
    are shaped into their presentation forms and the line is reordered by the Unicode
    bidirectional algorithm; ``rtl`` sets the paragraph direction (True: right to left, as
    in a Hebrew chart, so a label starting with a Latin word still reads from the right),
    None takes it from the first strong character. Each line of a multi-line text is
    reordered on its own.
    """
    if not has_rtl(text):
        return text
    base = None if rtl is None else ("R" if rtl else "L")
    lines = []
    for line in text.split("\n"):
        shaped = arabic_reshaper.reshape(line)
        shown = str(get_display(shaped, base_dir=base))
        lines.append("".join(c for c in shown if c not in _INVISIBLE))
    return "\n".join(lines)


def bar_chart(
    items: Sequence[tuple[str, float]], *, title: str, language: str, unit: str = ""
) -> bytes:
    """A horizontal bar chart of ``(label, value)`` pairs as PNG bytes, largest value at
    the top (ties keep their given order), each value printed at its bar's end followed by
    ``unit`` (``"%"``, ``" points"``). Mirrored for right-to-left ``language``."""
    ranked = sorted(items, key=lambda item: -item[1])
    return _draw(ranked, title=title, language=language, unit=unit, limit=None)


def share_chart(
    items: Sequence[tuple[str, float]], *, title: str, language: str, ordered: bool = False
) -> bytes:
    """The share choosing each option, ``(label, share from 0 to 1)``, as PNG bytes: bars
    on a fixed 0-100% scale, so the charts of several questions compare at a glance.

    Largest share first, unless ``ordered`` (a scale's values 1..5 keep their order).
    Shares need not add up to 1 (several options of a multiple choice).
    """
    given = list(items) if ordered else sorted(items, key=lambda item: -item[1])
    percent = [(label, 100 * share) for label, share in given]
    return _draw(percent, title=title, language=language, unit="%", limit=100.0)


def _draw(
    items: Sequence[tuple[str, float]],
    *,
    title: str,
    language: str,
    unit: str,
    limit: float | None,
) -> bytes:
    rtl = is_rtl_language(language)
    font = FontProperties(fname=FONT_PATH, size=10)
    title_font = FontProperties(fname=BOLD_FONT_PATH, size=12)
    labels = [_shown(_fit(label, LABEL_WIDTH, LABEL_LINES), rtl) for label, _value in items]
    values = [float(value) for _label, value in items]
    extra_lines = sum(label.count("\n") for label in labels)
    height = 0.9 + _BAR_INCHES * max(len(items), 1) + 0.12 * extra_lines
    figure = Figure(figsize=(_WIDTH_INCHES, height), dpi=_DPI, facecolor="white")
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0.0, 0.0, 1.0, 1.0))
    positions = list(range(len(items)))
    axes.barh(positions, values, height=0.62, color=_BAR_COLOUR)
    axes.set_yticks(positions, labels, fontproperties=font, color=_TEXT_COLOUR,
                    parse_math=False)
    axes.set_ylim(max(len(items), 1) - 0.5, -0.5)  # the first item at the top
    low = min([0.0, *values])
    high = max([0.0, *values]) if limit is None else max([limit, *values])
    span = (high - low) or 1.0
    axes.set_xlim(low, high + 0.18 * span)  # room for the value after the longest bar
    for position, value in zip(positions, values, strict=True):
        axes.text(
            value + 0.01 * span, position, _shown(_number(value) + unit, rtl),
            va="center", ha="right" if rtl else "left", fontproperties=font,
            color=_TEXT_COLOUR, parse_math=False,
        )
    if rtl:
        axes.invert_xaxis()  # bars grow from the right
        axes.yaxis.tick_right()
    axes.tick_params(axis="y", length=0, pad=6)
    axes.set_xticks([])
    for spine in axes.spines.values():
        spine.set_visible(False)
    base = axes.spines["right" if rtl else "left"]
    base.set_visible(bool(items))
    base.set_color("#999999")
    axes.set_title(
        _shown(_fit(title, TITLE_WIDTH, 2), rtl), loc="right" if rtl else "left",
        fontproperties=title_font, color=_TEXT_COLOUR, pad=10, parse_math=False,
    )
    buffer = io.BytesIO()
    figure.savefig(
        buffer, format="png", dpi=_DPI, bbox_inches="tight", pad_inches=0.2,
        metadata={"Software": None},
    )
    return buffer.getvalue()


def _shown(text: str, rtl: bool) -> str:
    """``text`` as matplotlib is to be given it: only characters the font has; in logical
    order for a renderer that does bidi itself (each line started with an RLM in a
    right-to-left chart, so it is read as a right-to-left sentence), else in visual order."""
    lines = [_drawable(line).strip() for line in text.split("\n")]
    if not any(has_rtl(line) for line in lines):
        return "\n".join(lines)
    if _renders_bidi():
        return "\n".join(RLM + line if rtl and has_rtl(line) else line for line in lines)
    return "\n".join(visual_order(line, rtl=True if rtl else None) for line in lines)


def _fit(text: str, width: int, max_lines: int) -> str:
    """``text`` on at most ``max_lines`` lines of ``width`` characters, the rest cut with
    an ellipsis (wrapping at spaces; a very long word is broken)."""
    flat = " ".join(unicodedata.normalize("NFC", text).split())
    lines = textwrap.wrap(flat, width, max_lines=max_lines, placeholder=" …") or [""]
    return "\n".join(lines)


def _drawable(text: str) -> str:
    """``text`` without the characters the font cannot draw (and direction marks, which
    are set here as needed)."""
    charmap = _charmap()
    return "".join(c for c in text if ord(c) in charmap and c not in _INVISIBLE)


@lru_cache(maxsize=1)
def _charmap() -> frozenset[int]:
    return frozenset(FT2Font(str(FONT_PATH)).get_charmap())


@lru_cache(maxsize=1)
def _renders_bidi() -> bool:
    """Whether matplotlib's text layout (libraqm, matplotlib 3.11+) reorders right-to-left
    text itself: it lays out alef-bet as bet first, from the left."""
    font = FT2Font(str(FONT_PATH))
    layout = getattr(font, "_layout", None)  # what the Agg renderer draws with
    if layout is None:
        return False
    try:
        items = layout("\u05d0\u05d1", LoadFlags.NO_HINTING)
        return [item.char for item in items] == ["\u05d1", "\u05d0"]
    except (AttributeError, TypeError, ValueError, RuntimeError):
        return False


def _number(value: float) -> str:
    """A whole number without decimals, else one decimal: ``12``, ``45.5``."""
    rounded = round(value, 1)
    return f"{rounded:.0f}" if rounded == int(rounded) else f"{rounded:.1f}"
