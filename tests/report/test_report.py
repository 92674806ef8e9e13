"""``kolot report``: a Hebrew process run through the real service, reported as HTML and
Markdown, checked against the database, for privacy, and in a real browser (Chromium)."""

from __future__ import annotations

import base64
import random
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from itertools import count
from pathlib import Path

import pytest
from click.testing import CliRunner
from databases import in_ci
from sqlalchemy import func, select

from bot.channels.base import Inbound
from bot.cli import main
from bot.i18n import translator
from bot.registry import FlowRegistry
from bot.report import paragraphs, texts
from bot.results import ranking
from bot.service import Handled, Service
from storage import UnitOfWork
from storage.database import make_engine, make_session_factory, upgrade
from storage.models import Answer, Idea, Participant, Run

pytestmark = pytest.mark.storage

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
PNG = b"\x89PNG\r\n\x1a\n"

FLOW = """\
id: park-report
version: 1
title: שיפוץ פארק אלון
default_language: he
languages: [he]
timezone: Asia/Jerusalem
targets:
  sector: {residents: 0.5, business: 0.45}
  channel: {whatsapp: 0.5}
steps:
  - {id: welcome, type: message, text: שלום! העירייה משפצת את פארק אלון.}
  - {id: consent, type: consent, text: התשובות ישמשו רק לתכנון השיפוץ. מסכימים?}
  - id: sector
    type: choice
    text: מי אתם?
    profile: sector
    options: [{id: residents, label: תושבים}, {id: business, label: בעלי עסקים}]
  - id: lack
    type: choice
    text: מה הכי חסר בפארק?
    options: [{id: shade, label: צל}, {id: water, label: ברזיות}, {id: light, label: תאורה}]
  - id: uses
    type: multi_choice
    text: מה אתם עושים בפארק?
    options: [{id: walk, label: הליכה}, {id: play, label: משחק}, {id: sport, label: ספורט}]
  - {id: satisfaction, type: scale, text: עד כמה אתם מרוצים מהפארק?, min: 1, max: 5}
  - {id: visits, type: number, text: כמה פעמים בשבוע אתם בפארק?, min: 0, max: 21, integer: true}
  - {id: dogs, type: yes_no, text: יש לכם כלב?}
  - {id: remarks, type: text, text: עוד משהו שחשוב לכם?}
  - {id: my_idea, type: idea, text: מה הייתם משנים בפארק?}
  - {id: rank, type: vote, pool: my_idea, text: מה עדיף?, votes: 4}
  - {id: view, type: vote, pool: my_idea, method: agree, text: מסכימים עם הרעיון?, votes: 4}
  - {id: bye, type: end, text: תודה רבה!}
"""

SHADE, WATER, LIGHT = "הצללה מעל גן המשחקים", "ברזיית מים ליד השביל", "תאורה בשבילים בלילה"
TRICKY = "**שימו לב** | <b>ספסלים</b> [בכניסה]"
"""A published idea whose text is Markdown and HTML: shown as typed, never as markup."""
REJECTED_SEED = "רעיון שנדחה על ידי המנהלים"
PHONE_IDEA = "התקשרו אליי 050-7654321 בעניין"
"""Screened out for personal details: its text must not appear anywhere."""
PREFERENCE = [SHADE, WATER, TRICKY, LIGHT]

ADDRESSES = ["9910001", "9910002", "9910003", "whatsapp:+972501234567",
             "whatsapp:+972501234568", "9910004"]


@dataclass
class Process:
    url: str
    flow: Path
    secrets: list[str] = field(default_factory=list)
    """Free texts and addresses that no report may contain."""


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 5, 3, 7, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def _say(service: Service, channel: str, address: str, n: int, text: str) -> Handled:
    return service.handle(Inbound(channel, address, f"{address}-{n}", text=text), "park-report")


def _preferred(idea: str) -> int:
    return PREFERENCE.index(idea) if idea in PREFERENCE else len(PREFERENCE)


def _vote_until_done(service: Service, channel: str, address: str, n: int, last: Handled,
                     sector: str) -> Handled:
    """Answer every vote the way this person sees it: pairs by the shared preference,
    single ideas by sector (residents agree with shade, business with water)."""
    for _ in range(60):
        if last.run_status == "finished":
            return last
        text = last.messages[-1].text
        pair = re.search(r"\nA: (.*)\nB: (.*)$", text)
        if text.startswith("מה עדיף?") and pair:
            a, b = pair.group(1), pair.group(2)
            answer = "1" if _preferred(a) <= _preferred(b) else "2"
        elif text.startswith("מסכימים עם הרעיון?\n\n"):
            idea = text.split("\n\n", 1)[1].strip()
            liked = SHADE if sector == "residents" else WATER
            answer = "1" if idea == liked else ("3" if idea == TRICKY else "2")
        else:
            answer = "לא"  # enough: no more pairs, no more ideas
        n += 1
        last = _say(service, channel, address, n, answer)
    raise AssertionError(f"{address} never finished: {last.messages[-1].text!r}")


def build_process(url: str, folder: Path) -> Process:
    """Six people: four finish (two residents, two in business), one declines, one stops
    after two questions. Three organiser seeds are published, one rejected; one
    participant's idea holds a phone number and is screened out."""
    flow = folder / "park.yaml"
    flow.write_text(FLOW, encoding="utf-8")
    upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    clock = Clock()
    ids = count()
    registry = FlowRegistry()
    registry.add_file(flow)
    service = Service(factory, registry, clock=clock, rng=random.Random(7),
                      new_id=lambda: f"pseudo{next(ids):06d}")
    process = Process(url, flow)
    try:
        with UnitOfWork(factory) as uow:
            for text, status in ((SHADE, "approved"), (WATER, "approved"),
                                 (LIGHT, "approved"), (REJECTED_SEED, "rejected")):
                uow.ideas.add("park-report", "my_idea", None, text, "he", status=status,
                              now=clock.now)
            uow.commit()
        people = [
            ("telegram", ADDRESSES[0], "residents", ["תושבים", "צל", "1,2", "5", "4", "כן"],
             TRICKY),
            ("telegram", ADDRESSES[1], "business", ["בעלי עסקים", "ברזיות", "2", "3", "1", "לא"],
             PHONE_IDEA),
            ("telegram", ADDRESSES[2], "residents", ["תושבים", "צל", "1,3", "4", "7", "כן"],
             "מתקני כושר לאנשים מבוגרים"),
            ("whatsapp", ADDRESSES[3], "business", ["בעלי עסקים", "תאורה", "1", "2", "0", "לא"],
             "חניה לאופניים ליד הכניסה"),
        ]
        for n, (channel, address, sector, answers, idea) in enumerate(people):
            clock.now += timedelta(days=1)
            remark = f"הערה אישית {n} SECRET-REMARK-{n} טלפון 052-000000{n}"
            process.secrets += [remark, f"SECRET-REMARK-{n}", f"052-000000{n}"]
            service.handle(Inbound(channel, address, f"{address}-0", command="start"),
                           "park-report")
            said = ["כן", *answers, remark, idea]
            last = None
            for i, text in enumerate(said, 1):
                last = _say(service, channel, address, i, text)
            assert last is not None
            _vote_until_done(service, channel, address, len(said), last, sector)
        clock.now += timedelta(days=1)
        service.handle(Inbound("whatsapp", ADDRESSES[4], f"{ADDRESSES[4]}-0",
                               command="start"), "park-report")
        _say(service, "whatsapp", ADDRESSES[4], 1, "לא")  # declines: nothing stored
        service.handle(Inbound("telegram", ADDRESSES[5], f"{ADDRESSES[5]}-0",
                               command="start"), "park-report")
        for i, text in enumerate(["כן", "תושבים", "צל"], 1):  # and stops there
            _say(service, "telegram", ADDRESSES[5], i, text)
        with UnitOfWork(factory) as uow:
            statuses = {text: status for text, status in
                        uow.session.execute(select(Idea.text, Idea.status))}
            assert statuses[PHONE_IDEA] == "rejected" and statuses[TRICKY] == "approved"
            process.secrets += [str(p) for p in uow.session.scalars(select(Participant.pseudonym))]
    finally:
        engine.dispose()
    process.secrets += [*ADDRESSES, "972501234567", "972501234568", PHONE_IDEA, "7654321",
                        REJECTED_SEED]
    return process


@pytest.fixture
def process(empty_database_url: str, tmp_path: Path) -> Process:
    return build_process(empty_database_url, tmp_path)


def run_report(process: Process, out: Path, *extra: str, flow: str | None = None) -> str:
    result = CliRunner().invoke(main, ["report", flow or str(process.flow), "--db",
                                       process.url, "--out", str(out), *extra])
    assert result.exit_code == 0, result.output
    return result.output


def he(message: str) -> str:
    return translator("he").gettext(message)


# --- a small reading of the HTML -----------------------------------------------------------


class Page(HTMLParser):
    """Headings, sections, tables (rows of cell texts, by the section they are in), images
    and the attributes of <html>."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.html: dict[str, str | None] = {}
        self.sections: list[str] = []
        self.headings: list[tuple[int, str]] = []
        self.tables: dict[str, list[list[list[str]]]] = {}
        self.images: list[str] = []
        self.placeholders: list[str] = []
        self._stack: list[str] = []
        self._heading: list[str] | None = None
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._row_classes: list[str] = []
        self.short_rows: list[list[str]] = []
        self._placeholder: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        given = dict(attrs)
        if tag == "html":
            self.html = given
        elif tag == "section":
            self._stack.append(given.get("id") or "")
            self.sections.append(given.get("id") or "")
        elif re.fullmatch(r"h[1-6]", tag):
            self._heading = []
        elif tag == "table":
            self.tables.setdefault(self._stack[-1] if self._stack else "", []).append([])
        elif tag == "tr":
            self._row = []
            self._row_classes = (given.get("class") or "").split()
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "img":
            self.images.append(given.get("src") or "")
        elif tag == "div" and "placeholder" in (given.get("class") or ""):
            self._placeholder = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self._stack.pop()
        elif re.fullmatch(r"h[1-6]", tag) and self._heading is not None:
            self.headings.append((int(tag[1]), " ".join("".join(self._heading).split())))
            self._heading = None
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            table = self.tables[self._stack[-1] if self._stack else ""][-1]
            table.append(self._row)
            if "short" in self._row_classes:
                self.short_rows.append(self._row)
            self._row = None
        elif tag == "div" and self._placeholder is not None:
            self.placeholders.append(" ".join("".join(self._placeholder).split()))
            self._placeholder = None

    def handle_data(self, data: str) -> None:
        for part in (self._heading, self._cell, self._placeholder):
            if part is not None:
                part.append(data)

    def table(self, section: str, n: int = 0, *, head: bool = True) -> dict[str, list[str]]:
        """The ``n``-th table of a section, by its first column (header row left out)."""
        rows = self.tables[section][n]
        return {row[0]: row[1:] for row in rows[1 if head else 0:]}


def plain(text: str) -> str:
    """Without the direction isolates the report puts around inserted values."""
    return text.replace("\u2068", "").replace("\u2069", "")


# --- HTML -------------------------------------------------------------------------------------


def test_the_html_report_has_every_section_right_to_left_and_the_figures_of_the_database(
    process: Process, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    assert run_report(process, out) == f"wrote {out}\n"
    text = out.read_text(encoding="utf-8")
    page = Page(text)

    assert page.html == {"lang": "he", "dir": "rtl"}
    order = ["introduction", "background", "who-took-part", "by-channel", "by-sector",
             "collected", "questionnaire", "q-lack", "q-uses", "q-satisfaction", "q-visits",
             "q-dogs", "q-remarks", "ideas", "consensus", "next", "appendix", "funnel"]
    assert [s for s in page.sections if s in order] == order
    assert "q-sector" not in page.sections  # a profile question: under who took part
    headings = [plain(h) for _level, h in page.headings]
    for message in (texts.INTRODUCTION, texts.BACKGROUND, texts.WHO_TOOK_PART,
                    texts.COLLECTED, texts.QUESTIONNAIRE, texts.IDEAS, texts.CONSENSUS,
                    texts.NEXT_STEPS, texts.APPENDIX):
        assert he(message) in headings
    assert headings[0] == "שיפוץ פארק אלון" and "מה הכי חסר בפארק?" in headings
    # no intro or next given: both are clearly marked placeholders
    assert len(page.placeholders) == 2
    assert all(p.startswith(he(texts.PLACEHOLDER)) for p in page.placeholders)

    engine = make_engine(process.url)
    try:
        with UnitOfWork(make_session_factory(engine)) as uow:
            reached = uow.session.scalar(select(func.count(func.distinct(Run.participant_id))))
            lack = Counter(uow.session.scalars(select(Answer.value).where(
                Answer.step_id == "lack")))
            visits = sorted(uow.session.scalars(select(Answer.value).where(
                Answer.step_id == "visits")))
            remarks = uow.session.scalar(select(func.count()).select_from(Answer).where(
                Answer.step_id == "remarks"))
            ranked = [r.text for r in ranking(uow, "park-report") if r.wins or r.losses]
    finally:
        engine.dispose()

    funnel = page.table("funnel")
    assert funnel[he(texts.STARTED)][0] == str(reached) == "6"
    assert funnel[he(texts.CONSENTED)][0] == "5"
    assert funnel[he(texts.FINISHED)][0] == "4"
    assert lack == {"shade": 3, "water": 1, "light": 1}
    assert page.table("q-lack") == {"צל": ["3", "60%"], "ברזיות": ["1", "20%"],
                                    "תאורה": ["1", "20%"]}
    assert page.table("q-dogs") == {he("Yes"): ["2", "50%"], he("No"): ["2", "50%"]}
    assert list(page.table("q-satisfaction")) == ["1", "2", "3", "4", "5"]  # a scale in order
    number = page.table("q-visits", head=False)
    assert visits == [0, 1, 4, 7]
    assert number[he(texts.MEAN)] == ["3"] and number[he(texts.MEDIAN)] == ["2.5"]
    assert remarks == 4
    assert "q-remarks" not in page.tables  # free text: a count, no table of answers

    ideas = page.table("ideas")
    assert [row[0] for row in ideas.values()] == ranked
    assert ranked[0] == SHADE and TRICKY in ranked
    consensus = page.table("consensus")
    assert SHADE in consensus and WATER in consensus and set(consensus) <= set(ranked)

    # who took part: groups against targets; one group short of its target is marked
    sector = page.table("by-sector")
    assert sector["תושבים"][:3] == ["3", "60%", "50%"]
    assert sector["בעלי עסקים"][:3] == ["2", "40%", "45%"]
    assert page.table("by-channel")["WhatsApp"][:3] == ["1", "20%", "50%"]
    assert sorted(row[0] for row in page.short_rows) == ["WhatsApp", "בעלי עסקים"]

    # one file: every chart is inline, nothing is fetched from anywhere
    assert len(page.images) == 5  # lack, uses, satisfaction, dogs; the top ideas
    for src in page.images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(PNG)
    assert not re.search(r"(src|href)=\"(?!data:|#)", text) and "url(" not in text

    # privacy: no address, pseudonym, free text or unpublished idea; markup shown as typed
    for secret in process.secrets:
        assert secret not in text, secret
    assert "<b>ספסלים</b>" not in text and "&lt;b&gt;ספסלים&lt;/b&gt;" in text


def test_the_organisers_texts_are_paragraphs_with_html_escaped(
    process: Process, tmp_path: Path
) -> None:
    intro = tmp_path / "intro.md"
    intro.write_text("# רקע\n\nהעירייה <script>alert(1)</script> רצתה לשמוע.\nשורה שנייה.\n\n"
                     "**המטרה**: לתכנן יחד.\n", encoding="utf-8")
    after = tmp_path / "next.md"
    after.write_text("הוועדה תדון בתוצאות בחודש יוני.\n", encoding="utf-8")
    out = tmp_path / "report.html"
    run_report(process, out, "--intro", str(intro), "--next", str(after))
    text = out.read_text(encoding="utf-8")
    page = Page(text)
    assert page.placeholders == []
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert re.search(r'<p class="given" dir="auto">רקע</p>', text)
    assert "רצתה לשמוע.<br>\nשורה שנייה." in text
    assert "**המטרה**: לתכנן יחד." in text  # paragraphs only: no Markdown is interpreted
    assert "הוועדה תדון בתוצאות בחודש יוני." in text


def test_an_organisers_file_is_read_as_plain_paragraphs() -> None:
    assert paragraphs("## Background\n\nOne line\nand the next.\n\n\n  \nLast.\r\n") == [
        ("Background",), ("One line", "and the next."), ("Last.",)]
    assert paragraphs("") == [] and paragraphs(None) == [] and paragraphs("\n \n") == []


# --- Markdown ---------------------------------------------------------------------------------


def test_the_markdown_report_links_its_charts_beside_it(
    process: Process, tmp_path: Path
) -> None:
    out = tmp_path / "out" / "closing.md"
    written = run_report(process, out).splitlines()
    text = out.read_text(encoding="utf-8")
    assert written[0] == f"wrote {out}" and len(written) == 6
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert links == [Path(line.removeprefix("wrote ")).name for line in written[1:]]
    for link in links:
        assert (out.parent / link).read_bytes().startswith(PNG)
        assert "/" not in link
    assert text.startswith('<div dir="rtl" lang="he">\n\n# שיפוץ פארק אלון\n')
    assert text.rstrip().endswith("</div>")
    for message in (texts.INTRODUCTION, texts.WHO_TOOK_PART, texts.NEXT_STEPS,
                    texts.APPENDIX):
        assert f"\n## {he(message)}\n" in text
    assert f"\n### {he(texts.QUESTIONNAIRE)}\n" in text
    assert "\n#### מה הכי חסר בפארק?\n" in text
    assert "| צל | 3 | 60% |" in text
    assert f"> **{he(texts.PLACEHOLDER)}:**" in text
    for secret in process.secrets:
        assert secret not in text, secret
    # an idea's Markdown and HTML are escaped: it shows as typed, and the table holds
    assert r"\*\*שימו לב\*\* \| &lt;b&gt;ספסלים&lt;/b&gt; \[בכניסה\]" in text

    forced = tmp_path / "as-md.txt"  # by the flow's id, as the database knows it
    run_report(process, forced, "--format", "md", flow="park-report")
    assert forced.read_text(encoding="utf-8") == text.replace("closing-", "as-md-")


def test_an_unknown_flow_id_is_an_error(empty_database_url: str, tmp_path: Path) -> None:
    upgrade(empty_database_url)
    result = CliRunner().invoke(main, ["report", "no-such-flow", "--db", empty_database_url,
                                       "--out", str(tmp_path / "r.html")])
    assert result.exit_code == 1 and "no flow 'no-such-flow'" in result.output
    assert not (tmp_path / "r.html").exists()


# --- in a real browser ------------------------------------------------------------------------


@pytest.fixture
def chromium() -> Iterator[Path]:
    if not CHROMIUM.is_file() or shutil.which(str(CHROMIUM)) is None:
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if in_ci():
            pytest.fail(f"{message} (CI is set, so this is an error, not a skip)",
                        pytrace=False)
        pytest.skip(message)
    yield CHROMIUM


def test_the_report_renders_in_chromium_right_to_left(
    chromium: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from playwright.sync_api import sync_playwright

    process = build_process(f"sqlite:///{tmp_path / 'kolot.db'}", tmp_path)
    out = tmp_path / "report.html"
    run_report(process, out)
    screenshot = tmp_path / "report.png"
    fetched: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium),
                                             args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 1400})
            page.on("request", lambda request: fetched.append(request.url))
            page.goto(out.as_uri())
            assert page.evaluate("document.dir") == "rtl"
            assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
            headings = page.locator("main h2")
            shown = [headings.nth(i) for i in range(headings.count())]
            assert len(shown) == 6 and all(h.is_visible() for h in shown)
            assert [plain(h.inner_text()) for h in shown] == [
                he(m) for m in (texts.INTRODUCTION, texts.BACKGROUND, texts.WHO_TOOK_PART,
                                texts.COLLECTED, texts.NEXT_STEPS, texts.APPENDIX)]
            # right to left: each heading's text starts at the right edge of its column
            gaps = page.evaluate("""[...document.querySelectorAll("main h2")].map(h => {
                const range = document.createRange();
                range.selectNodeContents(h);
                const text = range.getBoundingClientRect(), box = h.getBoundingClientRect();
                return [text.left - box.left, box.right - text.right];
            })""")
            assert all(right < 2 < 50 < left for left, right in gaps), gaps
            images = page.evaluate(
                "[...document.images].map(i => i.complete && i.naturalWidth > 0)")
            assert images == [True] * 5
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    assert all(url.startswith(("file:", "data:")) for url in fetched), fetched
    assert screenshot.read_bytes().startswith(PNG)
    with capsys.disabled():
        print(f"\nscreenshot of the report: {screenshot}")
