"""What the votes say: the ranked ideas of a flow, for `kolot results` and for reports."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from sqlalchemy import select

from bot.voting.scores import decided_matrix, rank
from storage import UnitOfWork
from storage.models import Idea

__all__ = ["RankedIdea", "ranking"]


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
