"""What the votes say: the ranked ideas of a flow, for `kolot results` and for reports."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import select

from bot.voting.consensus import Tally, group_consensus
from bot.voting.scores import decided_matrix, rank
from storage import UnitOfWork
from storage.models import Idea

__all__ = ["Agreement", "Approval", "RankedIdea", "agreement", "approvals", "ranking"]


@dataclass(frozen=True)
class RankedIdea:
    rank: int
    idea: int
    text: str
    language: str
    score: float
    """0-100: the estimated chance of beating a randomly chosen other idea."""
    wins: int
    losses: int
    provisional: bool

    def as_json(self) -> dict[str, object]:
        return asdict(self)


def ranking(uow: UnitOfWork, flow_id: str) -> list[RankedIdea]:
    """The flow's approved ideas, best first, scored from its pairwise votes."""
    ideas = uow.session.execute(
        select(Idea.id, Idea.text, Idea.language)
        .where(Idea.flow_id == flow_id, Idea.status == "approved")
        .order_by(Idea.id)
    ).all()
    index = {int(row.id): n for n, row in enumerate(ideas)}
    wins = decided_matrix(len(ideas), uow.votes.decided(flow_id), index)
    return [
        RankedIdea(
            rank=place,
            idea=int(ideas[r.index].id),
            text=str(ideas[r.index].text),
            language=str(ideas[r.index].language),
            score=round(r.score, 1),
            wins=r.wins,
            losses=r.losses,
            provisional=r.provisional,
        )
        for place, r in enumerate(rank(wins), start=1)
    ]


@dataclass(frozen=True)
class Agreement:
    idea: int
    text: str
    agree: int
    disagree: int
    passed: int
    consensus: float
    """Group-informed consensus, 0-1 (see bot.voting.consensus)."""

    def as_json(self) -> dict[str, object]:
        return asdict(self)


def agreement(uow: UnitOfWork, flow_id: str, group_by: str | None = None) -> list[Agreement]:
    """Agree/disagree/pass counts per approved idea, highest consensus first; groups are
    the voters' values of the profile field ``group_by`` (one group for all if None)."""
    ideas = {
        int(row.id): str(row.text)
        for row in uow.session.execute(
            select(Idea.id, Idea.text).where(Idea.flow_id == flow_id, Idea.status == "approved")
        )
    }
    tallies: dict[int, dict[str, Tally]] = {i: {} for i in ideas}
    for idea, choice, profile in uow.votes.agree_rows(flow_id):
        if idea not in tallies or choice not in ("agree", "disagree", "pass"):
            continue
        group = str((profile or {}).get(group_by, "")) if group_by else ""
        current = tallies[idea].get(group, Tally())
        tallies[idea][group] = Tally(
            agree=current.agree + (choice == "agree"),
            disagree=current.disagree + (choice == "disagree"),
            passed=current.passed + (choice == "pass"),
        )
    found = [
        Agreement(
            idea=i,
            text=ideas[i],
            agree=sum(t.agree for t in groups.values()),
            disagree=sum(t.disagree for t in groups.values()),
            passed=sum(t.passed for t in groups.values()),
            consensus=round(group_consensus(groups), 3),
        )
        for i, groups in tallies.items()
        if groups
    ]
    return sorted(found, key=lambda a: (-a.consensus, a.idea))


@dataclass(frozen=True)
class Approval:
    idea: int
    text: str
    approved: int
    shown: int

    @property
    def share(self) -> float:
        return self.approved / self.shown if self.shown else 0.0

    def as_json(self) -> dict[str, object]:
        return {**asdict(self), "share": round(self.share, 3)}


def approvals(uow: UnitOfWork, flow_id: str) -> list[Approval]:
    """For approve voting: how often each approved idea was picked from the lists it was
    shown in, highest share first."""
    texts = {
        int(row.id): str(row.text)
        for row in uow.session.execute(
            select(Idea.id, Idea.text).where(Idea.flow_id == flow_id, Idea.status == "approved")
        )
    }
    picked: dict[int, int] = {}
    shown: dict[int, int] = {}
    for idea, choice, _profile in uow.votes.agree_rows(flow_id):
        if idea in texts and choice in ("approve", "skip"):
            shown[idea] = shown.get(idea, 0) + 1
            picked[idea] = picked.get(idea, 0) + (choice == "approve")
    found = [Approval(i, texts[i], picked[i], shown[i]) for i in shown]
    return sorted(found, key=lambda a: (-a.share, -a.shown, a.idea))
