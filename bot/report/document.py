"""The report as a document in the flow's language: sections of paragraphs, tables and
charts, built once from :class:`~bot.report.data.ReportData` and written out by either
template (HTML or Markdown), so both say the same in the same order.

Every word comes from :mod:`bot.report.texts` through the flow's default language's
catalog; numbers and dates are written the way that language writes them (Babel). Charts
are drawn here (:mod:`bot.charts`), as PNG bytes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from babel import Locale, UnknownLocaleError

from bot import formatting
from bot.charts import bar_chart, share_chart
from bot.engine import Flow, Step
from bot.engine import texts as engine_texts
from bot.engine.bidi import fill, isolate
from bot.engine.texts import Translator
from bot.i18n import translator
from bot.languages import is_rtl_language
from bot.report import texts as t
from bot.report.data import CATEGORICAL, QuestionResult, ReportData
from bot.stats import BUILTIN_DIMENSIONS, NONE, Breakdown, Share

__all__ = [
    "TOP_IDEAS",
    "Document",
    "Facts",
    "Figure",
    "Paragraph",
    "Section",
    "Table",
    "build_document",
    "paragraphs",
]

TOP_IDEAS = 10
"""Ideas in the chart of the best ones (the table lists them all)."""
CHANNEL_NAMES = {"telegram": "Telegram", "whatsapp": "WhatsApp"}
"""Platforms by their own names; other channels (``console``) as they are stored."""
_HEADING = re.compile(r"^#{1,6}\s+")


@dataclass(frozen=True)
class Paragraph:
    kind: ClassVar[str] = "paragraph"
    lines: tuple[str, ...]
    style: str = ""
    """``""``; ``note`` (small print); ``placeholder`` (text still to be written);
    ``given`` (the organiser's own text: in Markdown, their formatting is kept)."""
    label: str = ""
    """Shown before the text, in bold (``Placeholder``)."""

    @property
    def text(self) -> str:
        return " ".join(self.lines)


@dataclass(frozen=True)
class Table:
    kind: ClassVar[str] = "table"
    head: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: frozenset[int] = frozenset()
    """Columns of figures: aligned to the end, digits in columns."""
    free: frozenset[int] = frozenset()
    """Columns of participants' or organisers' text, which may be in any direction."""
    flagged: tuple[bool, ...] = ()
    """Rows to mark (a group below its target)."""
    caption: str = ""


@dataclass(frozen=True)
class Figure:
    kind: ClassVar[str] = "figure"
    key: str
    """Unique in the document, safe in a file name: the Markdown report's PNG is
    ``<report>-<key>.png``."""
    title: str
    png: bytes


@dataclass(frozen=True)
class Facts:
    kind: ClassVar[str] = "facts"
    items: tuple[tuple[str, str], ...]
    caption: str = ""


Block = Paragraph | Table | Figure | Facts


@dataclass
class Section:
    anchor: str
    heading: str
    level: int
    blocks: list[Block] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    free: bool = False
    """The heading is a participant-facing text of the flow (a question)."""


@dataclass
class Document:
    language: str
    rtl: bool
    title: str
    subtitle: str
    made: str
    contents: str
    sections: list[Section]

    @property
    def figures(self) -> list[Figure]:
        found: list[Figure] = []

        def walk(sections: Sequence[Section]) -> None:
            for s in sections:
                found.extend(b for b in s.blocks if isinstance(b, Figure))
                walk(s.sections)

        walk(self.sections)
        return found


def paragraphs(text: str | None) -> list[tuple[str, ...]]:
    """An organiser's Markdown file as plain paragraphs (blank lines between them), each
    a tuple of its lines; heading marks (``## ``) are dropped, nothing else is read."""
    if not text:
        return []
    found = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip()):
        lines = tuple(_HEADING.sub("", line.strip()) for line in block.splitlines())
        lines = tuple(line for line in lines if line)
        if lines:
            found.append(lines)
    return found


def build_document(data: ReportData) -> Document:
    words = _Words(data)
    return Document(
        language=data.language,
        rtl=is_rtl_language(data.language),
        title=data.title,
        subtitle=words(t.CLOSING_REPORT),
        made=words(t.MADE_ON, day=words.day(data.made), flow=data.flow.id),
        contents=words(t.CONTENTS),
        sections=[
            _introduction(data, words),
            _given(words, "background", t.BACKGROUND, data.intro, t.BACKGROUND_MISSING),
            _who(data, words),
            _collected(data, words),
            _given(words, "next", t.NEXT_STEPS, data.next_steps, t.NEXT_MISSING),
            _appendix(data, words),
        ],
    )


class _Words:
    """Translation and formatting in the report's language."""

    def __init__(self, data: ReportData) -> None:
        self.language = data.language
        self.zone = data.flow.outreach.timezone
        self.flow = data.flow
        self.tr: Translator = translator(data.language)

    def __call__(self, message: str, **values: object) -> str:
        text = self.tr.gettext(message)
        return fill(text, **values) if values else text

    def plural(self, message: tuple[str, str], n: int, **values: object) -> str:
        return fill(self.tr.ngettext(message[0], message[1], n), **values)

    def number(self, value: float, places: int = 1) -> str:
        return formatting.number(round(value, places), self.language)

    def percent(self, share: float) -> str:
        return self(t.PERCENT, share=self.number(100 * share))

    def day(self, moment: datetime) -> str:
        return formatting.day(moment, self.language, self.zone, "long")

    def moment(self, moment: datetime) -> str:
        return formatting.moment(moment, self.language, self.zone, "short")

    def language_name(self, code: str) -> str:
        try:
            name = Locale.parse(code.replace("-", "_")).get_display_name(self.language)
        except (UnknownLocaleError, ValueError):
            return code
        return name or code

    def yes_no(self, value: str) -> str:
        return self(engine_texts.YES) if value == "true" else self(engine_texts.NO)


# --- introduction ------------------------------------------------------------------------


def _introduction(data: ReportData, words: _Words) -> Section:
    facts: list[tuple[str, str]] = []
    if data.first_activity is not None and data.last_activity is not None:
        start, end = words.day(data.first_activity), words.day(data.last_activity)
        facts.append((words(t.PERIOD),
                      start if start == end else words(t.PERIOD_VALUE, start=start, end=end)))
    facts += [
        (words(t.STARTED), words.number(data.stage("reached"))),
        (words(t.CONSENTED), words.number(data.stage("consented"))),
        (words(t.FINISHED), words.number(data.stage("finished"))),
    ]
    by = {b.dimension: b for b in data.participation.breakdowns}
    for dimension, label in (("channel", t.CHANNELS), ("language", t.LANGUAGES)):
        present = [s.value for s in by[dimension].shares if s.count] if dimension in by else []
        if present:
            facts.append((words(label), ", ".join(_value(words, dimension, v) for v in present)))
    ideas = data.ideas
    if data.has_ideas:
        facts += [(words(t.IDEAS_RECEIVED), words.number(ideas.received)),
                  (words(t.IDEAS_PUBLISHED), words.number(ideas.published))]
    votes = ideas.votes
    for count, label in ((votes.voters, t.VOTERS), (votes.pairwise, t.PAIRWISE_VOTES),
                         (votes.agree, t.AGREE_VOTES), (votes.approve, t.APPROVE_VOTES)):
        if count:
            facts.append((words(label), words.number(count)))
    return Section("introduction", words(t.INTRODUCTION), 2, [
        Paragraph((words(t.INTRO_TEXT, title=data.title),)),
        Facts(tuple(facts), caption=words(t.KEY_FIGURES)),
    ])


def _given(words: _Words, anchor: str, heading: str, text: str | None,
           missing: str) -> Section:
    """A section of the organiser's own text, or a placeholder that says how to give it."""
    given = paragraphs(text)
    blocks: list[Block] = [Paragraph(lines, "given") for lines in given]
    if not blocks:
        blocks = [Paragraph((words(missing),), "placeholder", words(t.PLACEHOLDER))]
    return Section(anchor, words(heading), 2, blocks)


# --- who took part ---------------------------------------------------------------------------


def _who(data: ReportData, words: _Words) -> Section:
    consented = data.stage("consented")
    section = Section("who-took-part", words(t.WHO_TOOK_PART), 2, [
        Paragraph((words.plural(t.WHO_TEXT, consented, people=words.number(consented)),)),
    ])
    for breakdown in data.participation.breakdowns:
        if not _shown_breakdown(data.flow, breakdown):
            continue
        heading, free = _dimension_heading(words, breakdown.dimension)
        sub = Section(f"by-{_anchor(breakdown.dimension)}", heading, 3, free=free)
        if breakdown.total == 0 and not breakdown.shares:
            sub.blocks.append(Paragraph((words(t.NOBODY_YET),)))
        else:
            sub.blocks.append(_breakdown_table(words, breakdown))
        section.sections.append(sub)
    return section


def _shown_breakdown(flow: Flow, breakdown: Breakdown) -> bool:
    """Not a free-text or number profile field (its values are answers, not groups); not
    source or circle when nobody came through an invite and no target asks."""
    dimension = breakdown.dimension
    step = _profile_step(flow, dimension)
    if dimension not in BUILTIN_DIMENSIONS and step is not None and (
            step.type not in CATEGORICAL):
        return False
    if dimension in ("source", "circle") and dimension not in flow.outreach.targets:
        return any(s.value != NONE for s in breakdown.shares)
    return True


def _breakdown_table(words: _Words, breakdown: Breakdown) -> Table:
    rows = []
    for share in breakdown.shares:
        rows.append((
            _value(words, breakdown.dimension, share.value),
            words.number(share.count),
            words.percent(share.share),
            "—" if share.target is None else words.percent(share.target),
            _target_note(words, share),
        ))
    return Table(
        (words(t.GROUP), words(t.PEOPLE), words(t.SHARE), words(t.TARGET), ""),
        tuple(rows), numeric=frozenset({1, 2, 3}), free=frozenset({0}),
        flagged=tuple(s.short for s in breakdown.shares),
    )


def _target_note(words: _Words, share: Share) -> str:
    if share.target is None:
        return ""
    if not share.short:
        return words(t.TARGET_MET)
    return words(t.BELOW_TARGET, points=words.number(100 * (share.target - share.share)))


def _dimension_heading(words: _Words, dimension: str) -> tuple[str, bool]:
    builtin = {"channel": t.CHANNEL, "language": t.LANGUAGE, "source": t.SOURCE,
               "circle": t.CIRCLE}
    if dimension in builtin:
        return words(builtin[dimension]), False
    step = _profile_step(words.flow, dimension)
    return (step.text, True) if step is not None and step.text else (dimension, True)


def _value(words: _Words, dimension: str, value: str) -> str:
    """A group's name in the report: an option's label, a language's name, Yes or No."""
    if value == NONE:
        return words(t.NOT_GIVEN)
    if dimension == "channel":
        return CHANNEL_NAMES.get(value, value)
    if dimension == "language":
        return words.language_name(value)
    step = _profile_step(words.flow, dimension)
    if step is None:
        return value
    if step.type == "yes_no" and value in ("true", "false"):
        return words.yes_no(value)
    labels = {o.id: o.label for o in step.options}
    return ", ".join(labels.get(part, part) for part in value.split(";"))


def _profile_step(flow: Flow, dimension: str) -> Step | None:
    return next((s for s in flow.steps if s.profile == dimension), None)


# --- what was collected ------------------------------------------------------------------------


def _collected(data: ReportData, words: _Words) -> Section:
    section = Section("collected", words(t.COLLECTED), 2)
    section.sections.append(_questionnaire(data, words))
    if data.has_ideas:
        section.sections.append(_ideas(data, words))
    ideas = data.ideas
    if ideas.agreement:
        section.sections.append(_consensus(data, words))
    if ideas.approvals:
        section.sections.append(Section("support", words(t.SUPPORT), 3, [
            Paragraph((words(t.SUPPORT_TEXT),)),
            Table((words(t.IDEA), words(t.SUPPORTED), words(t.SHOWN), words(t.SHARE)),
                  tuple((a.text, words.number(a.approved), words.number(a.shown),
                         words.percent(a.share)) for a in ideas.approvals),
                  numeric=frozenset({1, 2, 3}), free=frozenset({0})),
        ]))
    return section


def _questionnaire(data: ReportData, words: _Words) -> Section:
    section = Section("questionnaire", words(t.QUESTIONNAIRE), 3)
    profile = [s for s in data.flow.steps if s.profile and s.type in CATEGORICAL]
    shown = [q for q in data.questions
             if not any(s.id == q.step_id for s in profile)]
    if not data.questions:
        section.blocks.append(Paragraph((words(t.NO_QUESTIONS),)))
    if profile:
        names = ", ".join(fill("{q}", q=s.text) for s in profile)
        section.blocks.append(Paragraph((words(t.PROFILE_ELSEWHERE, questions=names),),
                                        "note"))
    for question in shown:
        section.sections.append(_question(words, question))
    return section


def _question(words: _Words, question: QuestionResult) -> Section:
    sub = Section(f"q-{_anchor(question.step_id)}", question.text or question.step_id, 4,
                  free=True)
    sub.blocks.append(Paragraph((words(t.ANSWERS, count=words.number(question.answered)),)))
    if question.answered == 0:
        sub.blocks.append(Paragraph((words(t.NO_ANSWERS),), "note"))
        return sub
    if question.kind == "text":
        sub.blocks.append(Paragraph((words(t.FREE_TEXT),), "note"))
        return sub
    if question.kind in CATEGORICAL:
        ordered = question.kind in ("scale", "yes_no")
        options = list(question.options)
        if not ordered:
            options.sort(key=lambda o: -o.count)
        labels = [_option_label(words, question, o.value, o.label) for o in options]
        sub.blocks.append(Figure(
            f"q-{_anchor(question.step_id)}", question.text,
            share_chart([(label, o.share) for label, o in zip(labels, options, strict=True)],
                        title=question.text, language=words.language, ordered=ordered),
        ))
        sub.blocks.append(Table(
            (words(t.ANSWER), words(t.PEOPLE), words(t.SHARE)),
            tuple((label, words.number(o.count), words.percent(o.share))
                  for label, o in zip(labels, options, strict=True)),
            numeric=frozenset({1, 2}), free=frozenset({0}),
        ))
        if question.kind == "multi_choice":
            sub.blocks.append(Paragraph((words(t.SEVERAL_ANSWERS),), "note"))
    if question.mean is not None and question.median is not None:
        facts = [(words(t.MEAN), words.number(question.mean)),
                 (words(t.MEDIAN), words.number(question.median))]
        if question.lowest is not None and question.highest is not None:
            facts += [(words(t.LOWEST), words.number(question.lowest)),
                      (words(t.HIGHEST), words.number(question.highest))]
        sub.blocks.append(Facts(tuple(facts)))
    return sub


def _option_label(words: _Words, question: QuestionResult, value: str, label: str) -> str:
    if question.kind == "yes_no" and value in ("true", "false"):
        return words.yes_no(value)
    return label or value


def _ideas(data: ReportData, words: _Words) -> Section:
    ideas = data.ideas
    section = Section("ideas", words(t.IDEAS), 3)
    if not ideas.ranked:
        section.blocks.append(Paragraph((words(t.NO_COMPARISONS if ideas.published
                                               else t.NO_IDEAS),)))
        return section
    section.blocks.append(Paragraph((words(t.IDEAS_TEXT),)))
    top = ideas.ranked[:TOP_IDEAS]
    title = words(t.TOP_IDEAS)
    section.blocks.append(Figure("ideas", title, bar_chart(
        [(r.text, r.score) for r in top], title=title, language=words.language,
        unit=" " + words(t.POINTS))))
    section.blocks.append(Table(
        (words(t.RANK), words(t.IDEA), words(t.SCORE), words(t.WON), words(t.LOST)),
        tuple((words.number(r.rank), r.text,
               isolate(words.number(r.score) + "*") if r.provisional
               else words.number(r.score),
               words.number(r.wins), words.number(r.losses)) for r in ideas.ranked),
        numeric=frozenset({0, 2, 3, 4}), free=frozenset({1}),
    ))
    if any(r.provisional for r in ideas.ranked):
        section.blocks.append(Paragraph(("* " + words(t.PROVISIONAL),), "note"))
    return section


def _consensus(data: ReportData, words: _Words) -> Section:
    ideas = data.ideas
    if ideas.groups:
        heading, _free = _dimension_heading(words, ideas.groups)
        text = words(t.CONSENSUS_TEXT, groups=heading)
    else:
        text = words(t.CONSENSUS_ALL)
    return Section("consensus", words(t.CONSENSUS), 3, [
        Paragraph((text,)),
        Table(
            (words(t.IDEA), words(t.AGREE), words(t.DISAGREE), words(t.PASS),
             words(t.CONSENSUS_SCORE)),
            tuple((a.text, words.number(a.agree), words.number(a.disagree),
                   words.number(a.passed), words.number(a.consensus, 2))
                  for a in ideas.agreement),
            numeric=frozenset({1, 2, 3, 4}), free=frozenset({0}),
        ),
    ])


# --- appendix ------------------------------------------------------------------------------------


def _appendix(data: ReportData, words: _Words) -> Section:
    section = Section("appendix", words(t.APPENDIX), 2)
    reached = data.stage("reached")
    stages = []
    for stage in data.participation.stages:
        stages.append((_stage_name(data.flow, words, stage.name), words.number(stage.count),
                       words.percent(stage.count / reached) if reached else "—"))
    section.sections.append(Section("funnel", words(t.FUNNEL), 3, [Table(
        (words(t.STAGE), words(t.PEOPLE), words(t.OF_STARTED)), tuple(stages),
        numeric=frozenset({1, 2}), free=frozenset({0}),
    )]))
    ideas = data.ideas
    if ideas.by_status:
        section.sections.append(Section("ideas-by-status", words(t.IDEAS_BY_STATUS), 3, [Table(
            (words(t.STATUS), words(t.COUNT)),
            tuple((words(t.STATUSES[s]) if s in t.STATUSES else s, words.number(n))
                  for s, n in ideas.by_status.items()),
            numeric=frozenset({1}),
        )]))
    votes = ideas.votes
    counted = [(label, n) for label, n in ((t.PAIRWISE_VOTES, votes.pairwise),
                                           (t.AGREE_VOTES, votes.agree),
                                           (t.APPROVE_VOTES, votes.approve),
                                           (t.VOTERS, votes.voters)) if n]
    if counted:
        section.sections.append(Section("votes", words(t.VOTES), 3, [Table(
            (words(t.KIND), words(t.COUNT)),
            tuple((words(label), words.number(n)) for label, n in counted),
            numeric=frozenset({1}),
        )]))
    if data.phases:
        section.sections.append(Section("phases", words(t.PHASES), 3, [Table(
            (words(t.PHASE), words(t.STARTS), words(t.ENDS)),
            tuple((p.id, words.moment(p.starts), words.moment(p.ends)) for p in data.phases),
            free=frozenset({0}),
        )]))
    section.sections.append(Section("method", words(t.METHOD), 3, [
        Paragraph((words(t.METHOD_PEOPLE),)),
        Paragraph((words(t.METHOD_PRIVACY),)),
    ]))
    return section


def _stage_name(flow: Flow, words: _Words, name: str) -> str:
    fixed = {"reached": t.STARTED, "consented": t.CONSENTED, "finished": t.FINISHED}
    if name in fixed:
        return words(fixed[name])
    step_id = name.removeprefix("answered ")
    text = flow.step(step_id).text if flow.has_step(step_id) else step_id
    return words(t.ANSWERED_STAGE, question=_short(text or step_id))


def _short(text: str, width: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1].rstrip() + "…"


def _anchor(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-").lower() or "x"
