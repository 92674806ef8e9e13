"""Everything a flow collected, in open formats, for ``kolot export`` (PRINCIPLES rule 1).

An export is four tables and a data dictionary, built once by :func:`build` and written
as JSON, CSV or xlsx by :func:`write_json`, :func:`write_csv` and :func:`write_xlsx`:

- ``answers``: one row per participant (their newest run that has answers, as
  ``kolot answers``), one column per question in flow order (ideas and votes have
  their own tables);
- ``ideas``: every idea with its author, status and, per voting kind the flow uses, its
  figures (pairwise rank and score, agree counts and consensus, approve share);
- ``votes``: one row per vote: who, in which step, on which ideas, what, when;
- ``participation``: the funnel and breakdowns of ``kolot stats``;
- ``dictionary``: one row per column of those tables, saying what it holds; for an
  answer column, the question and its options ``id = label``.

People appear only by pseudonym: no table has a channel address, a name, a phone number
or a chat id. The text of an idea the screen rejected for personal details is left out
for the same reason (its status and reason stay). Values keep their types in JSON;
CSV and xlsx flatten lists to ``a;b``, like ``kolot answers``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bot.clock import utc_now
from bot.engine import Flow, Step
from bot.engine.steps import KINDS
from bot.languages import is_rtl_language
from bot.results import agreement, approvals, ranking
from bot.stats import report
from storage import UnitOfWork
from storage.models import AgreeVote, Idea, PairwiseVote, Participant, Run

__all__ = ["Column", "Export", "Table", "build", "write_csv", "write_json", "write_xlsx"]

XLSX_ROWS = 1_048_575
"""Rows under the header that fit an Excel sheet; a longer table goes on in ``votes-2``..."""
_NOT_ANSWERS = frozenset({"idea", "vote"})
"""Question kinds whose data is in the ideas and votes tables, not in answers."""
_WITHHELD = frozenset({"personal_data"})
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    meaning: str
    values: str = ""
    """The values it takes and what each means, where there are few: ``id = label; ...``."""


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.names, row, strict=True)) for row in self.rows]


@dataclass(frozen=True)
class Export:
    flow_id: str
    version: int
    title: str
    language: str
    """The flow's default language: the language of its texts in the dictionary."""
    exported_at: datetime
    tables: tuple[Table, ...]

    @property
    def right_to_left(self) -> bool:
        return is_rtl_language(self.language)

    @property
    def dictionary(self) -> Table:
        columns = (
            Column("table", "text", "The table (file, sheet) the column is in."),
            Column("column", "text", "The column's name, as in the table's first row."),
            Column("type", "text", "What its cells hold.",
                   "text; integer; number; true/false; time (UTC); option id; option ids"),
            Column("meaning", "text", "What it says; for an answer, the question asked."),
            Column("values", "text", "The values it takes, where there are few."),
        )
        rows = tuple((t.name, c.name, c.type, c.meaning, c.values)
                     for t in self.tables for c in t.columns)
        return Table("dictionary", columns, rows)

    def as_json(self) -> dict[str, Any]:
        return {
            "flow": {"id": self.flow_id, "version": self.version, "title": self.title,
                     "default_language": self.language},
            "exported_at": self.exported_at.isoformat(),
            "tables": {t.name: [{k: _json_value(v) for k, v in r.items()} for r in t.records()]
                       for t in self.tables},
            "dictionary": self.dictionary.records(),
        }


# --- reading ----------------------------------------------------------------------------


def build(uow: UnitOfWork, flow: Flow, *, now: datetime | None = None) -> Export:
    """Read everything of ``flow`` (the file's, or the newest stored version) into tables."""
    methods = {s.method for s in flow.steps if s.type == "vote"}
    return Export(
        flow.id, flow.version, flow.title, flow.default_language, now or utc_now(),
        (_answers(uow, flow), _ideas(uow, flow, methods), _votes(uow, flow),
         _participation(uow, flow)),
    )


PARTICIPANT = "The participant's pseudonym: the same person in every table of this export, " \
              "never their name, phone number or chat id."


def _answers(uow: UnitOfWork, flow: Flow) -> Table:
    records = uow.answers.latest_by_participant(flow.id)
    steps = [s for s in flow.steps if s.type not in _NOT_ANSWERS and _collects(s)]
    known = {s.id for s in flow.steps}
    older = sorted({k for _, answers in records for k in answers if k not in known})
    newest = (select(func.max(Run.id).label("run_id")).where(Run.flow_id == flow.id)
              .group_by(Run.participant_id).subquery())
    who = {
        row.pseudonym: (row.channel, (row.state or {}).get("language") or row.language)
        for row in uow.session.execute(
            select(Participant.pseudonym, Participant.channel, Participant.language, Run.state)
            .join(Run, Run.participant_id == Participant.id)
            .join(newest, Run.id == newest.c.run_id))
    }
    taken = known | set(older)

    def own(name: str) -> str:  # a question may be called "language": ours give way
        while name in taken:
            name = f"_{name}"
        return name

    columns = (
        Column(own("participant"), "text", PARTICIPANT),
        Column(own("channel"), "text", "The messaging app they answered in.",
               "telegram; whatsapp; console (the organisers' chat simulator)"),
        Column(own("language"), "text", "The language they were spoken to in (he, ar, "
               "en...)."),
        *(_question(s) for s in steps),
        *(Column(o, "any", f"The answer to step {o}, which this version of the flow no "
                 "longer has.") for o in older),
    )
    rows = tuple(
        (pseudonym, *who.get(pseudonym, (None, None)),
         *(answers.get(s.id) for s in steps), *(answers.get(o) for o in older))
        for pseudonym, answers in records
    )
    return Table("answers", columns, rows)


def _collects(step: Step) -> bool:
    kind = KINDS.get(step.type)
    return kind is not None and kind.collects


def _question(step: Step) -> Column:
    options = "; ".join(f"{o.id} = {o.label}" for o in step.options)
    meaning = step.text + (f" (profile field {step.profile})" if step.profile else "")
    if step.type == "choice":
        return Column(step.id, "option id", meaning, options)
    if step.type == "multi_choice":
        return Column(step.id, "option ids", f"{meaning} (several: a;b in CSV and xlsx, a "
                      "list in JSON)", options)
    if step.type == "yes_no":
        return Column(step.id, "true/false", meaning)
    if step.type in ("number", "scale"):
        bounds = " to ".join(f"{b:g}" for b in (step.min, step.max) if b is not None)
        kind = "integer" if step.type == "scale" or step.integer else "number"
        return Column(step.id, kind, meaning, bounds)
    return Column(step.id, "text", meaning)


STATUSES = ("pending = waiting for moderation; approved = shown in voting; rejected = not "
            "published (see reason); hidden = reported by voters, until reviewed; withdrawn "
            "= by its author; merged = folded into a similar idea (merged_into)")
REASONS = ("personal_data; link; blocked_words; duplicate; rules (the automatic screen or "
           "a moderator); flagged (reported by voters)")


def _ideas(uow: UnitOfWork, flow: Flow, methods: set[str]) -> Table:
    columns = [
        Column("idea", "integer", "The idea's number: the votes table names ideas by it."),
        Column("step", "text", "The idea step it was given in (or seeded into)."),
        Column("author", "text", "The author's pseudonym; empty for an organiser's seed idea "
               "or an author who deleted their data."),
        Column("text", "text", "The idea as written; empty when the screen rejected it for "
               "personal details (kept out of exports)."),
        Column("language", "text", "The language it was written in."),
        Column("status", "text", "Where it stands in moderation.", STATUSES),
        Column("reason", "text", "Why it was rejected, hidden or merged.", REASONS),
        Column("merged_into", "integer", "For a merged idea: the idea it was folded into."),
        Column("flags", "integer", "How many voters reported it."),
        Column("created_at", "time (UTC)", "When it was given."),
    ]
    figures: dict[int, dict[str, Any]] = {}
    extra: list[Column] = []
    if "pairwise" in methods:
        extra += [
            Column("rank", "integer", "Place among the approved ideas by pairwise score, "
                   "1 = best, as `kolot results` shows it; empty until a vote decides on "
                   "the idea."),
            Column("score", "number", "0-100: the estimated chance of beating a randomly "
                   "chosen other idea (pairwise, Bradley-Terry; see docs/voting.md)."),
            Column("wins", "integer", "Pairwise votes it won."),
            Column("losses", "integer", "Pairwise votes it lost."),
            Column("provisional", "true/false", "Fewer than 15 comparisons: the score may "
                   "still move a lot."),
        ]
        for r in ranking(uow, flow.id):  # unvoted ideas unranked, as in `kolot results`
            voted = bool(r.wins or r.losses)
            figures.setdefault(r.idea, {}).update(
                rank=r.rank if voted else None, score=r.score if voted else None,
                wins=r.wins, losses=r.losses, provisional=r.provisional if voted else None)
    if "agree" in methods:
        extra += [
            Column("agree", "integer", "Voters who agreed."),
            Column("disagree", "integer", "Voters who disagreed."),
            Column("passed", "integer", "Voters who passed (no opinion)."),
            Column("consensus", "number", "0-1: (agrees + 1) / (seen + 2), over everyone."),
        ]
        for a in agreement(uow, flow.id):
            figures.setdefault(a.idea, {}).update(
                agree=a.agree, disagree=a.disagree, passed=a.passed, consensus=a.consensus)
    if "approve" in methods:
        extra += [
            Column("approved", "integer", "Lists it was picked from."),
            Column("shown", "integer", "Lists it was shown in."),
            Column("share", "number", "0-1: approved / shown."),
        ]
        for p in approvals(uow, flow.id):
            figures.setdefault(p.idea, {}).update(
                approved=p.approved, shown=p.shown, share=round(p.share, 3))
    rows = []
    for row in uow.session.execute(
        select(Idea, Participant.pseudonym)
        .outerjoin(Participant, Participant.id == Idea.participant_id)
        .where(Idea.flow_id == flow.id).order_by(Idea.id)
    ):
        idea: Idea = row[0]
        text = None if idea.status == "rejected" and idea.reason in _WITHHELD else idea.text
        found = figures.get(idea.id, {})
        rows.append((idea.id, idea.step_id, row.pseudonym, text, idea.language, idea.status,
                     idea.reason, idea.merged_into, idea.flags, idea.created_at,
                     *(found.get(c.name) for c in extra)))
    return Table("ideas", (*columns, *extra), tuple(rows))


def _votes(uow: UnitOfWork, flow: Flow) -> Table:
    steps: dict[tuple[str | None, str], str] = {}
    for s in flow.steps:
        if s.type == "vote":
            steps.setdefault((s.pool, s.method), s.id)
            steps.setdefault((s.pool, ""), s.id)

    def step_of(pool: str, method: str) -> str | None:
        return (steps.get((pool, method)) or steps.get((None, method))
                or steps.get((pool, "")))

    found: list[tuple[Any, ...]] = []
    pairs = uow.session.execute(
        select(PairwiseVote.id, Participant.pseudonym, Idea.step_id, PairwiseVote.idea_low,
               PairwiseVote.idea_high, PairwiseVote.winner_id, PairwiseVote.voted_at)
        .outerjoin(Participant, Participant.id == PairwiseVote.participant_id)
        .join(Idea, Idea.id == PairwiseVote.idea_low)
        .where(PairwiseVote.flow_id == flow.id)
    )
    for n, voter, pool, low, high, winner, at in pairs:
        choice = "skip" if winner is None else "a" if winner == low else "b"
        found.append((at, 0, n, voter, step_of(pool, "pairwise"), "pairwise", low, high,
                      choice, winner, at))
    singles = uow.session.execute(
        select(AgreeVote.id, Participant.pseudonym, Idea.step_id, AgreeVote.idea_id,
               AgreeVote.choice, AgreeVote.voted_at)
        .outerjoin(Participant, Participant.id == AgreeVote.participant_id)
        .join(Idea, Idea.id == AgreeVote.idea_id)
        .where(AgreeVote.flow_id == flow.id)
    )
    for n, voter, pool, idea, choice, at in singles:
        method = "approve" if choice in ("approve", "skip") else "agree"
        found.append((at, 1, n, voter, step_of(pool, method), method, idea, None, choice,
                      None, at))
    found.sort(key=lambda r: r[:3])
    columns = (
        Column("voter", "text", PARTICIPANT + " Empty if they deleted their data."),
        Column("step", "text", "The vote step."),
        Column("method", "text", "How it was voted.",
               "pairwise = the better of two; agree = agree, disagree or pass on one; "
               "approve = picked or not from a short list"),
        Column("idea_a", "integer", "The idea voted on; pairwise: the lower-numbered of the "
               "two (not necessarily the one shown first)."),
        Column("idea_b", "integer", "Pairwise: the other idea of the pair."),
        Column("choice", "text", "The vote.",
               "a = idea_a won; b = idea_b won; skip = can't decide (pairwise) or not "
               "picked (approve); agree; disagree; pass; approve = picked"),
        Column("winner", "integer", "Pairwise: the idea chosen; empty for can't decide."),
        Column("voted_at", "time (UTC)", "When."),
    )
    return Table("votes", columns, tuple(r[3:] for r in found))


def _participation(uow: UnitOfWork, flow: Flow) -> Table:
    figures = report(uow, flow)
    reached = figures.stages[0].count if figures.stages else 0
    rows: list[tuple[Any, ...]] = [
        ("funnel", s.name, s.count, round(s.count / reached, 3) if reached else 0.0, None, None)
        for s in figures.stages
    ]
    rows += [
        (b.dimension, s.value, s.count, round(s.share, 3), s.target, s.short)
        for b in figures.breakdowns for s in b.shares
    ]
    columns = (
        Column("dimension", "text", "funnel: how far participants got; otherwise who the "
               "consented participants are, by channel, language, source (invite), circle "
               "and each profile field."),
        Column("value", "text", "The funnel's stage, or the group; (none) for those "
               "without a value."),
        Column("count", "integer", "Participants (by their newest run)."),
        Column("share", "number", "0-1: of those reached (funnel) or of those who "
               "consented (the other dimensions)."),
        Column("target", "number", "0-1: the least share the flow's targets ask for."),
        Column("short", "true/false", "Under its target: a group to reach out to."),
    )
    return Table("participation", columns, tuple(rows))


# --- writing ----------------------------------------------------------------------------


def write_json(export: Export, path: Path) -> None:
    text = json.dumps(export.as_json(), ensure_ascii=False, indent=2) + "\n"
    path.write_text(text, encoding="utf-8")


def write_csv(export: Export, folder: Path) -> list[Path]:
    """One file per table and ``dictionary.csv``, in UTF-8 with a byte order mark: Excel
    reads a CSV without one in the computer's legacy code page, which garbles Hebrew and
    Arabic; with it, Excel, LibreOffice and Python's ``utf-8-sig`` all read it right.
    A text starting with ``= + - @`` gets a leading ``'`` so a spreadsheet does not run
    it as a formula (participants wrote these texts)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for table in (*export.tables, export.dictionary):
        path = folder / f"{table.name}.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(table.names)
            writer.writerows([_csv_value(v) for v in row] for row in table.rows)
        written.append(path)
    return written


def write_xlsx(export: Export, path: Path) -> None:
    """One sheet per table and a ``dictionary`` sheet; the header row bold and frozen,
    sheets right to left for a Hebrew or Arabic flow. Times are UTC (Excel has no zones);
    a table longer than a sheet goes on in ``votes-2``, ``votes-3``..."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    book.properties.title = f"{export.title or export.flow_id} (v{export.version})"
    book.properties.created = export.exported_at.astimezone(UTC).replace(tzinfo=None)
    bold = Font(bold=True)
    for table in (*export.tables, export.dictionary):
        chunks = [table.rows[i:i + XLSX_ROWS] for i in range(0, len(table.rows), XLSX_ROWS)]
        for n, rows in enumerate(chunks or [()], start=1):
            sheet = book.create_sheet(table.name if n == 1 else f"{table.name}-{n}")
            sheet.freeze_panes = "A2"
            sheet.sheet_view.rightToLeft = export.right_to_left
            for i, width in enumerate(_widths(table.names, rows), start=1):
                sheet.column_dimensions[get_column_letter(i)].width = width
            header = []
            for name in table.names:
                cell = WriteOnlyCell(sheet, name)
                cell.font = bold
                header.append(cell)
            sheet.append(header)
            for row in rows:
                sheet.append([_xlsx_cell(sheet, v, WriteOnlyCell) for v in row])
    book.save(path)


def _widths(names: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> list[float]:
    """Column widths that fit the header and the first rows' values, within reason."""
    widths = [len(n) for n in names]
    for row in rows[:200]:
        for i, value in enumerate(row):
            widths[i] = max(widths[i], len(_csv_value(value)))
    return [min(max(w + 2, 8), 60) for w in widths]


def _flat(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(_flat(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


def _csv_value(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    text = _flat(value)
    return f"'{text}" if isinstance(value, str) and text.startswith(_FORMULA_STARTS) else text


def _xlsx_cell(sheet: Any, value: Any, cell_type: Any) -> Any:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None)
    if value is None or isinstance(value, bool | int | float):
        return value
    cell = cell_type(sheet, ILLEGAL_CHARACTERS_RE.sub("", _flat(value)))
    cell.data_type = "s"  # text is text, even if it starts with "=" (no formulas)
    return cell


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
