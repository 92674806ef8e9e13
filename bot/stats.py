"""Who takes part, and who is missing: the figures behind ``kolot stats FLOW``.

A backbone organisation steers outreach with these. The *funnel* says where people drop
out (reached, consented, each question, finished); the *breakdowns* say who the
participants are (channel, language, source, circle and the flow's profile fields), each
value's share set against the least share the flow's ``targets`` ask for, so an
under-represented group shows before the consultation closes, not after.

Everything is counted per participant, by their newest run of the flow (a restart
abandons the previous run: the person is counted once, where they are now). Breakdowns
count only participants who consented, because representation is about who took part.

Reading is kept apart from counting: :func:`report` is the only function that reads the
database, into one :class:`Person` per participant; :func:`build_report` and
:func:`render_text` are pure, so they are tested and reused without one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Executable, Subquery, func, select

from bot.engine import Flow, Step
from storage import UnitOfWork
from storage.models import AgreeVote, Answer, Idea, PairwiseVote, Participant, Run

__all__ = [
    "BUILTIN_DIMENSIONS",
    "NONE",
    "Breakdown",
    "Person",
    "Report",
    "Share",
    "Stage",
    "build_report",
    "default_dimensions",
    "question_steps",
    "render_text",
    "report",
]

BUILTIN_DIMENSIONS = ("channel", "language", "source", "circle")
"""Dimensions that come from the channel and the run, not from the profile; a profile
field with one of these names is shadowed by them."""

NONE = "(none)"
"""The value shown for participants without one (no circle, a profile field not asked)."""

_NOT_QUESTIONS = frozenset({"message", "branch", "end", "consent", "language"})
"""Steps that store no answer of the participant's own: no funnel stage for them."""


@dataclass(frozen=True)
class Stage:
    """One step of the funnel: how many participants got this far."""

    name: str
    count: int


@dataclass(frozen=True)
class Share:
    """One value of a dimension among the consented participants."""

    value: str
    count: int
    share: float
    """``count`` over all consented participants, 0-1 (0 when nobody consented)."""
    target: float | None
    """The least share the flow's ``targets`` ask for this value, if any."""
    short: bool
    """``share < target``: this group is under-represented."""


@dataclass(frozen=True)
class Breakdown:
    dimension: str
    shares: tuple[Share, ...]
    """Largest group first; ``(none)`` for participants without a value."""

    @property
    def total(self) -> int:
        return sum(s.count for s in self.shares)


@dataclass(frozen=True)
class Report:
    flow_id: str
    stages: tuple[Stage, ...]
    breakdowns: tuple[Breakdown, ...]

    def as_json(self) -> dict[str, Any]:
        """Plain data for ``--format json``: shares rounded to 3 places, like results."""
        return {
            "flow_id": self.flow_id,
            "stages": [{"name": s.name, "count": s.count} for s in self.stages],
            "breakdowns": [
                {
                    "dimension": b.dimension,
                    "shares": [
                        {
                            "value": s.value,
                            "count": s.count,
                            "share": round(s.share, 3),
                            "target": s.target,
                            "short": s.short,
                        }
                        for s in b.shares
                    ],
                }
                for b in self.breakdowns
            ],
        }


@dataclass(frozen=True)
class Person:
    """What the figures need of one participant, read from their newest run of the flow.

    ``language`` is the run's (what they were spoken to in), else the participant's;
    ``source`` the run's (the invite that brought them to this flow), else the
    participant's first one. ``done`` holds the question steps they answered.
    """

    channel: str
    language: str | None = None
    source: str | None = None
    circle: str | None = None
    profile: Mapping[str, Any] = field(default_factory=dict)
    consented: bool = False
    finished: bool = False
    done: frozenset[str] = frozenset()

    def value(self, dimension: str) -> str:
        """This person's value in ``dimension`` as the text targets name it."""
        raw: Any
        if dimension in BUILTIN_DIMENSIONS:
            raw = getattr(self, dimension)
        else:
            raw = self.profile.get(dimension)
        return _text(raw)


# --- pure: from people to figures -------------------------------------------------------


def question_steps(flow: Flow) -> tuple[Step, ...]:
    """The steps that take an answer (ideas and votes included), in flow order."""
    return tuple(s for s in flow.steps if s.type not in _NOT_QUESTIONS)


def default_dimensions(flow: Flow) -> tuple[str, ...]:
    """Channel, language, source, circle; the profile fields the flow asks for, in flow
    order; then any other dimension its targets name (so every target is reported)."""
    names = [*BUILTIN_DIMENSIONS]
    names += [s.profile for s in flow.steps if s.profile]
    names += list(flow.outreach.targets)
    return tuple(dict.fromkeys(names))


def funnel(flow: Flow, people: Sequence[Person]) -> tuple[Stage, ...]:
    stages = [
        Stage("reached", len(people)),
        Stage("consented", sum(p.consented for p in people)),
    ]
    stages += [
        Stage(f"answered {s.id}", sum(s.id in p.done for p in people))
        for s in question_steps(flow)
    ]
    stages.append(Stage("finished", sum(p.finished for p in people)))
    return tuple(stages)


def breakdown(
    dimension: str, people: Sequence[Person], targets: Mapping[str, float]
) -> Breakdown:
    """Shares of ``dimension``'s values among ``people``; a value a target names but
    nobody has is listed with 0, so a group no one has reached yet is not invisible."""
    counts = Counter(p.value(dimension) for p in people)
    for value in targets:
        counts.setdefault(value, 0)
    total = len(people)
    shares = [_share(value, n, total, targets.get(value)) for value, n in counts.items()]
    shares.sort(key=lambda s: (-s.count, s.value == NONE, s.value))
    return Breakdown(dimension, tuple(shares))


def build_report(
    flow: Flow, people: Sequence[Person], *, dimensions: Sequence[str] | None = None
) -> Report:
    """The funnel over everyone reached; breakdowns over those who consented."""
    consented = [p for p in people if p.consented]
    targets = flow.outreach.targets
    names = default_dimensions(flow) if dimensions is None else tuple(dimensions)
    return Report(
        flow.id,
        funnel(flow, people),
        tuple(breakdown(d, consented, targets.get(d, {})) for d in names),
    )


def render_text(report: Report) -> str:
    """Aligned plain-text tables: the funnel (each stage as a share of those reached),
    then one table per breakdown, with shares under target marked by how far."""
    reached = report.stages[0].count if report.stages else 0
    lines = [f"Flow {report.flow_id}", "", "Funnel"]
    lines += _table([(s.name, s.count, _percent(s.count, reached), "") for s in report.stages])
    for b in report.breakdowns:
        lines += ["", f"By {b.dimension} ({b.total} consented)"]
        rows = [(s.value, s.count, _percent(s.count, b.total), _target_note(s))
                for s in b.shares]
        lines += _table(rows) if rows else ["  (nobody yet)"]
    return "\n".join(lines) + "\n"


def _share(value: str, count: int, total: int, target: float | None) -> Share:
    share = count / total if total else 0.0
    return Share(value, count, share, target, target is not None and share < target)


def _text(raw: Any) -> str:
    """A stored value as text: option ids as they are, lists as ``a;b`` (like the CSV
    export), true/false in lower case, nothing as ``(none)``."""
    if raw is None or raw == "" or raw == []:
        return NONE
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, list):
        return ";".join(_text(v) for v in raw)
    return str(raw)


def _percent(count: int, total: int) -> str:
    return f"{100 * count / total:.1f}%" if total else "-"


def _target_note(share: Share) -> str:
    if share.target is None:
        return ""
    target = f"target {round(share.target * 100, 1):g}%"
    if not share.short:
        return f"({target})"
    gap = 100 * (share.target - share.share)
    return f"({target}: short by {gap:.1f} points)"


def _table(rows: Sequence[tuple[str, int, str, str]]) -> list[str]:
    width = max((len(r[0]) for r in rows), default=0)
    digits = max((len(str(r[1])) for r in rows), default=1)
    return [
        f"  {name:<{width}}  {count:>{digits}}  {percent:>6}  {note}".rstrip()
        for name, count, percent, note in rows
    ]


# --- the one reader ---------------------------------------------------------------------


def report(uow: UnitOfWork, flow: Flow, *, dimensions: Sequence[str] | None = None) -> Report:
    """The flow's funnel and breakdowns, read in a few statements whatever its size:
    the newest run per participant, then who answered which question on that run, who
    gave ideas, and who voted (per vote step, by the idea step its pool is)."""
    session = uow.session
    newest = _newest_runs(flow.id)
    done: dict[int, set[str]] = {}
    questions = question_steps(flow)
    asked = [s.id for s in questions if s.type not in ("idea", "vote")]
    for participant_id, step_id in session.execute(_answered(flow.id, newest, asked)):
        done.setdefault(participant_id, set()).add(step_id)
    for s in questions:
        if s.type not in ("idea", "vote"):
            continue
        statement = _gave_ideas(flow.id, s.id) if s.type == "idea" else _voted(flow.id, s.pool)
        for participant_id in session.scalars(statement):
            done.setdefault(participant_id, set()).add(s.id)
    people = [
        _person(row, frozenset(done.get(row.participant_id, ())))
        for row in session.execute(_people(newest))
    ]
    return build_report(flow, people, dimensions=dimensions)


def _newest_runs(flow_id: str) -> Subquery:
    """Each participant's newest run of the flow (runs' ids grow with time, as the
    answers export also assumes)."""
    return (
        select(func.max(Run.id).label("run_id"))
        .where(Run.flow_id == flow_id)
        .group_by(Run.participant_id)
        .subquery()
    )


def _people(newest: Subquery) -> Executable:
    return (
        select(
            Run.participant_id,
            Run.status,
            Run.state,
            Run.circle,
            Run.source.label("run_source"),
            Participant.channel,
            Participant.language,
            Participant.profile,
            Participant.source,
        )
        .join(newest, Run.id == newest.c.run_id)
        .join(Participant, Participant.id == Run.participant_id)
        .order_by(Run.participant_id)
    )


def _answered(flow_id: str, newest: Subquery, step_ids: Sequence[str]) -> Executable:
    """Who has a stored answer to each question on their newest run (an older run's
    answers belong to a pass they restarted)."""
    return (
        select(Answer.participant_id, Answer.step_id)
        .join(newest, Answer.run_id == newest.c.run_id)
        .where(Answer.flow_id == flow_id, Answer.step_id.in_(step_ids))
        .distinct()
    )


def _gave_ideas(flow_id: str, step_id: str) -> Executable:
    """Everyone who submitted an idea in the step, whatever became of it (a rejected or
    withdrawn idea was still given)."""
    return (
        select(Idea.participant_id)
        .where(Idea.flow_id == flow_id, Idea.step_id == step_id,
               Idea.participant_id.is_not(None))
        .distinct()
    )


def _voted(flow_id: str, pool: str | None) -> Executable:
    """Everyone with at least one vote (pairwise, agree or approve) on the pool's ideas;
    votes carry no step, so a vote step is known by the idea step it draws from."""
    pairwise = (
        select(PairwiseVote.participant_id)
        .join(Idea, Idea.id == PairwiseVote.idea_low)
        .where(PairwiseVote.flow_id == flow_id, PairwiseVote.participant_id.is_not(None))
    )
    agree = (
        select(AgreeVote.participant_id)
        .join(Idea, Idea.id == AgreeVote.idea_id)
        .where(AgreeVote.flow_id == flow_id, AgreeVote.participant_id.is_not(None))
    )
    if pool is not None:
        pairwise = pairwise.where(Idea.step_id == pool)
        agree = agree.where(Idea.step_id == pool)
    union = pairwise.union(agree).subquery()
    return select(union.c.participant_id)


def _person(row: Any, done: frozenset[str]) -> Person:
    state: Mapping[str, Any] = row.state or {}
    return Person(
        channel=str(row.channel),
        language=state.get("language") or row.language,
        source=row.run_source or row.source,
        circle=row.circle,
        profile=dict(row.profile or {}),
        consented=bool(state.get("consented")),
        finished=row.status == "finished",
        done=done,
    )
