"""What a closing report says, read from the database once: :func:`gather`.

:class:`ReportData` is plain data, in no language yet: figures, option ids with their counts,
the flow's own texts. The renderers (:mod:`bot.report.render`) put it into words and charts.
What is left out is left out here, so no renderer can publish it by mistake: no channel
address, name or pseudonym is read at all, and free-text answers are counted, never kept.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import func, select

from bot.engine import Flow, Step
from bot.engine.outreach import Phase
from bot.export import answers_records
from bot.results import Agreement, Approval, RankedIdea, agreement, approvals, ranking
from bot.stats import Report, report
from storage import UnitOfWork
from storage.models import AgreeVote, Idea, PairwiseVote, Run

__all__ = [
    "CATEGORICAL",
    "IdeaResults",
    "OptionCount",
    "QuestionResult",
    "ReportData",
    "Votes",
    "default_groups",
    "gather",
]

CATEGORICAL = frozenset({"choice", "multi_choice", "yes_no", "scale"})
"""Question kinds whose answers are counted per option (and charted)."""
QUESTIONS = frozenset({*CATEGORICAL, "number", "text"})
"""Question kinds the questionnaire results cover (ideas and votes have their own part)."""
IDEA_STATUSES = ("approved", "pending", "rejected", "hidden", "withdrawn", "merged")


@dataclass(frozen=True)
class OptionCount:
    value: str
    """The stored answer as text: an option id, ``true``/``false``, a scale's number."""
    label: str
    """The option's label in the flow's default language; empty for yes/no (the
    renderer says Yes and No in the report's language) and for a scale's numbers."""
    count: int
    share: float
    """``count`` over everyone who answered the question, 0-1."""


@dataclass(frozen=True)
class QuestionResult:
    step_id: str
    kind: str
    text: str
    answered: int
    options: tuple[OptionCount, ...] = ()
    """Choice, multiple choice, yes/no, scale: every option, in the flow's order (a value
    no longer in the flow, from an earlier version, after them)."""
    mean: float | None = None
    median: float | None = None
    lowest: float | None = None
    highest: float | None = None
    """Number and scale answers."""

    @property
    def charted(self) -> bool:
        return self.kind in CATEGORICAL and self.answered > 0


@dataclass(frozen=True)
class Votes:
    pairwise: int = 0
    """Comparisons that chose one of the two ideas (a "can't decide" is no vote)."""
    agree: int = 0
    """Agree, disagree and pass."""
    approve: int = 0
    """Ideas picked from a list."""
    voters: int = 0


@dataclass(frozen=True)
class IdeaResults:
    by_status: Mapping[str, int] = field(default_factory=dict)
    ranked: tuple[RankedIdea, ...] = ()
    """Published ideas with at least one comparison, best first, ranked among themselves
    (an idea nobody compared yet takes no place)."""
    agreement: tuple[Agreement, ...] = ()
    groups: str | None = None
    """The profile field whose groups consensus must span (None: everyone is one group)."""
    approvals: tuple[Approval, ...] = ()
    votes: Votes = field(default_factory=Votes)

    @property
    def received(self) -> int:
        return sum(self.by_status.values())

    @property
    def published(self) -> int:
        return self.by_status.get("approved", 0)


@dataclass(frozen=True)
class ReportData:
    flow: Flow
    made: datetime
    participation: Report
    """The funnel and breakdowns of ``kolot stats``."""
    questions: tuple[QuestionResult, ...]
    ideas: IdeaResults
    first_activity: datetime | None = None
    last_activity: datetime | None = None
    intro: str | None = None
    """The organiser's background and goals (Markdown paragraphs), if given."""
    next_steps: str | None = None
    """The organiser's word on what happens next, if given."""

    @property
    def language(self) -> str:
        return self.flow.default_language

    @property
    def title(self) -> str:
        return self.flow.title or self.flow.id

    @property
    def phases(self) -> tuple[Phase, ...]:
        return self.flow.outreach.phases

    @property
    def has_ideas(self) -> bool:
        return any(s.type == "idea" for s in self.flow.steps) or self.ideas.received > 0

    def stage(self, name: str) -> int:
        return next((s.count for s in self.participation.stages if s.name == name), 0)


def default_groups(flow: Flow) -> str | None:
    """The profile field consensus is measured across by default: the first one the
    flow's targets name, else the first one it asks with options, else none."""
    fields = [s.profile for s in flow.steps if s.profile]
    for name in flow.outreach.targets:
        if name in fields:
            return name
    return next((s.profile for s in flow.steps if s.profile and s.type in CATEGORICAL), None)


def gather(
    uow: UnitOfWork,
    flow: Flow,
    *,
    intro: str | None = None,
    next_steps: str | None = None,
    groups: str | None = None,
    now: datetime | None = None,
) -> ReportData:
    """Everything the closing report of ``flow`` shows, in a handful of statements.

    ``groups``: the profile field for consensus across groups (default
    :func:`default_groups`). Without ``next_steps``, the flow's own ``results.next`` text is
    used where the flow has one.
    """
    chosen_groups = groups if groups is not None else default_groups(flow)
    records = answers_records(uow, flow.id)
    first, last = uow.session.execute(
        select(func.min(Run.started_at), func.max(Run.updated_at)).where(Run.flow_id == flow.id)
    ).one()
    return ReportData(
        flow=flow,
        made=now or datetime.now(UTC),
        participation=report(uow, flow),
        questions=tuple(question_results(flow, records)),
        ideas=_ideas(uow, flow.id, chosen_groups),
        first_activity=_aware(first),
        last_activity=_aware(last),
        intro=intro,
        next_steps=next_steps if next_steps is not None else _flow_next(flow),
    )


def question_results(
    flow: Flow, records: Sequence[Mapping[str, Any]]
) -> list[QuestionResult]:
    """Per question of the flow, in flow order, its counts from one record per
    participant (``{step id: answer}``, as :func:`bot.export.answers_records` gives)."""
    found = []
    for step in flow.steps:
        if step.type not in QUESTIONS:
            continue
        given = [r[step.id] for r in records if r.get(step.id) not in (None, "", [])]
        found.append(_question(step, given))
    return found


class _Summary(NamedTuple):
    mean: float | None = None
    median: float | None = None
    lowest: float | None = None
    highest: float | None = None


def _question(step: Step, given: Sequence[Any]) -> QuestionResult:
    answered = len(given)
    if step.type == "text":
        return QuestionResult(step.id, step.type, step.text, answered)  # counted, not kept
    numbers = [float(v) for v in given
               if isinstance(v, int | float) and not isinstance(v, bool)]
    summary = _Summary()
    if step.type in ("number", "scale") and numbers:
        summary = _Summary(statistics.fmean(numbers), statistics.median(numbers),
                           min(numbers), max(numbers))
    if step.type == "number":
        return QuestionResult(step.id, step.type, step.text, answered, (), *summary)
    counts: Counter[str] = Counter()
    for value in given:
        counts.update(_text(v) for v in (value if isinstance(value, list) else [value]))
    known = _options(step)
    options = [*known, *((v, v) for v in counts if v not in dict(known))]
    return QuestionResult(
        step.id, step.type, step.text, answered,
        tuple(OptionCount(value, label, counts[value], counts[value] / answered if answered
                          else 0.0) for value, label in options),
        *summary,
    )


def _options(step: Step) -> list[tuple[str, str]]:
    """``(stored value as text, label)`` of each possible answer, in the flow's order."""
    if step.type == "yes_no":
        return [("true", ""), ("false", "")]
    if step.type == "scale":
        low, high = int(step.min if step.min is not None else 1), int(
            step.max if step.max is not None else 5)
        return [(str(n), str(n)) for n in range(low, high + 1)]
    return [(o.id, o.label) for o in step.options]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _ideas(uow: UnitOfWork, flow_id: str, groups: str | None) -> IdeaResults:
    session = uow.session
    by_status = {
        str(status): int(n)
        for status, n in session.execute(
            select(Idea.status, func.count()).where(Idea.flow_id == flow_id)
            .group_by(Idea.status)
        )
    }
    ordered = {s: by_status[s] for s in IDEA_STATUSES if s in by_status}
    ordered |= {s: n for s, n in sorted(by_status.items()) if s not in ordered}
    choices = {
        str(choice): int(n)
        for choice, n in session.execute(
            select(AgreeVote.choice, func.count()).where(AgreeVote.flow_id == flow_id)
            .group_by(AgreeVote.choice)
        )
    }
    pairwise = select(PairwiseVote.participant_id).where(
        PairwiseVote.flow_id == flow_id, PairwiseVote.participant_id.is_not(None))
    agreeing = select(AgreeVote.participant_id).where(
        AgreeVote.flow_id == flow_id, AgreeVote.participant_id.is_not(None))
    voters = pairwise.union(agreeing).subquery()
    votes = Votes(
        pairwise=int(session.scalar(
            select(func.count()).select_from(PairwiseVote)
            .where(PairwiseVote.flow_id == flow_id, PairwiseVote.winner_id.is_not(None))
        ) or 0),
        agree=sum(int(choices.get(c, 0)) for c in ("agree", "disagree", "pass")),
        approve=int(choices.get("approve", 0)),
        voters=int(session.scalar(select(func.count()).select_from(voters)) or 0),
    )
    return IdeaResults(
        by_status=ordered,
        ranked=tuple(replace(r, rank=place) for place, r in enumerate(
            (r for r in ranking(uow, flow_id) if r.wins or r.losses), start=1)),
        agreement=tuple(agreement(uow, flow_id, groups)),
        groups=groups,
        approvals=tuple(approvals(uow, flow_id)),
        votes=votes,
    )


def _flow_next(flow: Flow) -> str | None:
    """The flow's ``results.next`` (what participants are told at the close), if any."""
    closing = getattr(flow.outreach, "results", None)
    text = getattr(closing, "next", "") if closing is not None else ""
    return str(text) if text else None


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back; they are UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
