"""Charts for reports: PNG bytes that read right in English, Hebrew and Arabic."""

from __future__ import annotations

import io
import unicodedata
import warnings

import pytest
from matplotlib.ft2font import FT2Font, LoadFlags
from PIL import Image

from bot import charts
from bot.charts import bar_chart, share_chart, visual_order
from bot.languages import is_rtl_language

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
BAR = (0x3B, 0x6E, 0xA5)

HEBREW = [("הצללה מעל מגרש המשחקים", 71.5), ("ברזיית מים", 55.0), ("Wi-Fi בפארק", 12.0)]
ARABIC = [("مزيد من الظل فوق الملعب", 0.45), ("نافورة مياه للشرب", 0.3), ("لا شيء", 0.05)]


def bars(png: bytes) -> list[tuple[int, int]]:
    """(left, right) pixel columns of each bar, top to bottom."""
    with Image.open(io.BytesIO(png)) as opened:
        image = opened.convert("RGB")
    width, height = image.size
    pixels = image.load()
    assert pixels is not None
    found: list[tuple[int, int]] = []
    inside = False
    for y in range(height):
        row = [x for x in range(width) if pixels[x, y] == BAR]
        if row and not inside:
            found.append((min(row), max(row)))
        inside = bool(row)
    return found


def no_warnings(draw: object) -> bytes:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = draw()  # type: ignore[operator]
    assert [str(w.message) for w in caught] == []
    return png  # type: ignore[no-any-return]


def test_a_bar_chart_is_a_png_that_grows_with_its_bars() -> None:
    few = bar_chart([("Shade", 70.0), ("Water", 40.0)], title="Top ideas", language="en",
                    unit=" points")
    many = bar_chart([(f"Idea {n}", float(n)) for n in range(10)], title="Top ideas",
                     language="en")
    assert few.startswith(PNG_SIGNATURE) and many.startswith(PNG_SIGNATURE)
    with Image.open(io.BytesIO(few)) as small, Image.open(io.BytesIO(many)) as tall:
        assert small.format == "PNG" and 500 < small.size[0] < 1600
        assert tall.size[1] > small.size[1] > 100
    assert 2_000 < len(few) < 200_000


def test_the_same_items_give_the_same_bytes_without_a_software_stamp() -> None:
    first = bar_chart(HEBREW, title="הרעיונות המובילים", language="he")
    assert first == bar_chart(HEBREW, title="הרעיונות המובילים", language="he")
    assert b"matplotlib" not in first.lower() and b"Software" not in first


def test_best_first_at_the_top_and_a_scale_keeps_its_order() -> None:
    ranked = bars(bar_chart([("low", 10.0), ("high", 90.0), ("mid", 50.0)],
                            title="t", language="en"))
    widths = [right - left for left, right in ranked]
    assert len(widths) == 3 and widths == sorted(widths, reverse=True)
    scale = bars(share_chart([("1", 0.1), ("2", 0.2), ("3", 0.7)], title="t",
                             language="en", ordered=True))
    assert [right - left for left, right in scale] == sorted(right - left
                                                             for left, right in scale)


def test_hebrew_and_arabic_charts_are_mirrored_and_draw_every_glyph() -> None:
    english = bars(no_warnings(lambda: bar_chart([("Shade", 71.5), ("Water", 55.0)],
                                                 title="Top ideas", language="en")))
    hebrew = bars(no_warnings(lambda: bar_chart(HEBREW, title="הרעיונות המובילים (0–100)",
                                                language="he", unit=" נקודות")))
    arabic = bars(no_warnings(lambda: share_chart(ARABIC, title="ما الذي ينقص الحديقة أكثر؟",
                                                  language="ar")))
    # bars start at the same column: the left one in English, the right one when mirrored
    assert len({left for left, _ in english}) == 1 and len({r for _, r in english}) == 2
    for mirrored in (hebrew, arabic):
        assert len({right for _, right in mirrored}) == 1
        assert len({left for left, _ in mirrored}) == len(mirrored)


def test_what_the_font_lacks_and_dollar_signs_do_not_break_a_chart() -> None:
    png = no_warnings(lambda: share_chart([("Water 🚰", 0.5), ("Costs $5 to $10", 0.5)],
                                          title="Emoji ☕ and $money$", language="en"))
    assert png.startswith(PNG_SIGNATURE)
    assert charts._drawable("Water 🚰") == "Water "


def test_an_empty_chart_still_draws() -> None:
    assert no_warnings(lambda: bar_chart([], title="Nothing yet", language="he")).startswith(
        PNG_SIGNATURE)


def test_visual_order_reverses_hebrew_shapes_arabic_and_leaves_english() -> None:
    assert visual_order("שלום עולם") == "םלוע םולש"
    assert visual_order("מה דעתך?") == "?ךתעד המ"  # the question mark ends on the left
    # a right-to-left sentence that starts with a Latin word keeps it at the right end
    assert visual_order("Wi-Fi בפארק", rtl=True) == "קראפב Wi-Fi"
    assert visual_order("Wi-Fi בפארק") == "Wi-Fi קראפב"
    assert visual_order("71.5 נקודות", rtl=True) == "תודוקנ 71.5"
    shaped = visual_order("مرحبا")
    # from the left: alef final, beh medial, hah initial, reh final, meem initial
    assert shaped == "\ufe8e\ufe92\ufea3\ufeae\ufee3"
    assert all(unicodedata.name(c).startswith("ARABIC LETTER") and "FORM" in unicodedata.name(c)
               for c in shaped)
    assert visual_order("سلام") == "\ufee1\ufefc\ufeb3"  # meem, lam-alef ligature, seen
    assert visual_order("שורה אחת\nשורה שתיים") == "תחא הרוש\nםייתש הרוש"  # line by line
    for english in ("More shade", "Cost: 5%", "", "Привет"):
        assert visual_order(english) == english


def test_is_rtl_language_from_cldr() -> None:
    assert [is_rtl_language(code) for code in ("he", "ar", "fa_IR", "he-IL")] == [True] * 4
    assert [is_rtl_language(code) for code in ("en", "ru", "pt_BR", None, "", "xx-bogus")] == [
        False] * 6


def test_long_labels_wrap_to_two_lines_and_are_cut() -> None:
    fitted = charts._fit("word " * 40, charts.LABEL_WIDTH, charts.LABEL_LINES)
    lines = fitted.split("\n")
    assert len(lines) == 2 and all(len(line) <= charts.LABEL_WIDTH for line in lines)
    assert lines[-1].endswith("…")
    assert charts._fit("  short\n label ", 32, 2) == "short label"


def test_text_goes_to_matplotlib_in_the_order_its_renderer_needs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(charts, "_renders_bidi", lambda: False)
    assert charts._shown("ברזיית מים", rtl=True) == visual_order("ברזיית מים", rtl=True)
    assert charts._shown("Shade", rtl=True) == "Shade"
    monkeypatch.setattr(charts, "_renders_bidi", lambda: True)
    assert charts._shown("Wi-Fi בפארק\nשורה", rtl=True) == "\u200fWi-Fi בפארק\n\u200fשורה"
    assert charts._shown("Wi-Fi בפארק", rtl=False) == "Wi-Fi בפארק"


@pytest.mark.skipif(not charts._renders_bidi(), reason="matplotlib without libraqm layout")
def test_matplotlib_lays_the_text_out_in_visual_order_and_shapes_arabic() -> None:
    font = FT2Font(str(charts.FONT_PATH))
    laid = font._layout(charts._shown("Wi-Fi בפארק", rtl=True), LoadFlags.NO_HINTING)
    assert "".join(i.char for i in laid if i.char != "\u200f") == visual_order(
        "Wi-Fi בפארק", rtl=True)
    glyphs = [i.glyph_index for i in font._layout("مرحبا", LoadFlags.NO_HINTING)]
    forms = [font.get_char_index(ord(c)) for c in visual_order("مرحبا")]
    assert glyphs == forms  # the same joined forms arabic_reshaper would have picked
