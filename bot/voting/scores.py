"""Scores from pairwise votes: Bradley-Terry strengths and the All Our Ideas score.

Votes are tallied into a win matrix (``wins[i, j]``: how often idea ``i`` was chosen over
``j``), which a database gives with one ``GROUP BY``; the strengths are the maximum
likelihood Bradley-Terry parameters (``choix``, iterative Luce spectral ranking), lightly
regularised so an idea that has never lost gets a large but finite strength.

The score shown to people is the All Our Ideas one: the estimated chance, 0-100, that the
idea beats a randomly chosen other idea, ``mean_j sigmoid(theta_i - theta_j)``. An idea with
fewer than :data:`PROVISIONAL_BELOW` comparisons is marked provisional.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import choix
import numpy as np
from numpy.typing import NDArray

__all__ = ["PROVISIONAL_BELOW", "Ranked", "decided_matrix", "rank", "strengths", "win_matrix"]

PROVISIONAL_BELOW = 15
REGULARISATION = 0.01


def win_matrix(n_items: int, votes: Iterable[tuple[int, int, int]]) -> NDArray[np.float64]:
    """``(winner, loser, count)`` rows as a dense matrix."""
    wins = np.zeros((n_items, n_items), dtype=np.float64)
    for winner, loser, count in votes:
        wins[winner, loser] += count
    return wins


def decided_matrix(
    n_items: int, decided: Sequence[tuple[int, int]], index: Mapping[int, int]
) -> NDArray[np.float64]:
    """Raw ``(winner, loser)`` rows (database ids) counted into a win matrix, with numpy."""
    if not decided:
        return np.zeros((n_items, n_items))
    ids = np.asarray(decided, dtype=np.int64)
    lookup = np.full(int(ids.max()) + 1, -1, dtype=np.int64)
    for idea, position in index.items():
        if idea < lookup.shape[0]:
            lookup[idea] = position
    winners, losers = lookup[ids[:, 0]], lookup[ids[:, 1]]
    known = (winners >= 0) & (losers >= 0)  # votes on ideas no longer shown don't count
    counts = np.bincount(
        winners[known] * n_items + losers[known], minlength=n_items * n_items
    )
    return counts.reshape(n_items, n_items).astype(np.float64)


def strengths(wins: NDArray[np.float64]) -> NDArray[np.float64]:
    """Bradley-Terry log-strengths, centred on 0; all 0 when nothing has been compared."""
    n = wins.shape[0]
    if n < 2 or not wins.any():
        return np.zeros(n)
    params = choix.ilsr_pairwise_dense(wins, alpha=REGULARISATION, max_iter=500, tol=1e-10)
    return np.asarray(params - params.mean(), dtype=np.float64)


def chance_to_win(theta: NDArray[np.float64]) -> NDArray[np.float64]:
    """For each idea, the chance (0-1) it beats a randomly chosen other idea."""
    n = theta.shape[0]
    if n < 2:
        return np.full(n, 0.5)
    p = 1.0 / (1.0 + np.exp(-(theta[:, None] - theta[None, :])))
    np.fill_diagonal(p, 0.0)
    return np.asarray(p.sum(axis=1) / (n - 1), dtype=np.float64)


@dataclass(frozen=True)
class Ranked:
    index: int
    score: float
    """0-100: the estimated chance of beating a randomly chosen other idea."""
    wins: int
    losses: int

    @property
    def comparisons(self) -> int:
        return self.wins + self.losses

    @property
    def provisional(self) -> bool:
        return self.comparisons < PROVISIONAL_BELOW


def rank(wins: NDArray[np.float64]) -> Sequence[Ranked]:
    """Ideas best first, with their score and vote counts."""
    score = chance_to_win(strengths(wins)) * 100
    won = wins.sum(axis=1)
    lost = wins.sum(axis=0)
    order = np.argsort(-score, kind="stable")
    return [Ranked(int(i), float(score[i]), int(won[i]), int(lost[i])) for i in order]
