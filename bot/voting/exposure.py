"""Which two ideas to show next, so that new ideas get seen and votes are informative.

All Our Ideas was criticised for letting ideas added late starve behind old ones. Here the
first idea of a pair is drawn with weight ``1 / (appearances + 1)``, so the least shown are
the likeliest, with a share :data:`EXPLORE` of uniform draws so nothing is ever certain;
the second prefers ideas of similar current strength (``exp(-|theta_a - theta_b|)``), since
a close pair says more than a foregone one, times the same appearance weight. A participant
never gets their own idea, and never the same pair twice (in either order).

Pure and seeded: the caller passes the counts, the strengths, what the participant has
seen and a ``random.Random``.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence

import numpy as np
from numpy.typing import NDArray

__all__ = ["EXPLORE", "next_pair"]

EXPLORE = 0.1


def _draw(weights: NDArray[np.float64], rng: random.Random) -> int:
    point = rng.random() * float(weights.sum())
    index = int(np.searchsorted(np.cumsum(weights), point, side="right"))
    return min(index, len(weights) - 1)


def next_pair(
    appearances: Sequence[int] | NDArray[np.int64],
    theta: Sequence[float] | NDArray[np.float64],
    *,
    own: Collection[int],
    seen: Collection[tuple[int, int]],
    rng: random.Random,
    hidden: Collection[int] = (),
) -> tuple[int, int] | None:
    """The next pair ``(a, b)`` for one participant, or ``None`` when none is left.

    ``appearances[i]``: how often idea ``i`` has been shown to anyone; ``theta``: current
    strengths; ``own``: the participant's ideas; ``seen``: pairs they have had;
    ``hidden``: ideas not to show (pending, rejected, flagged).
    """
    shown = np.asarray(appearances, dtype=np.float64)
    strength = np.asarray(theta, dtype=np.float64)
    n = shown.shape[0]
    allowed = np.ones(n, dtype=bool)
    for i in (*own, *hidden):
        if 0 <= i < n:
            allowed[i] = False
    partners: dict[int, set[int]] = {}
    for a, b in seen:
        partners.setdefault(a, set()).add(b)
        partners.setdefault(b, set()).add(a)
    freshness = 1.0 / (shown + 1.0)
    candidates = allowed.copy()
    while candidates.sum() >= 2:
        if rng.random() < EXPLORE:
            first_weights = candidates.astype(np.float64)
        else:
            first_weights = np.where(candidates, freshness, 0.0)
        a = _draw(first_weights, rng)
        others = allowed.copy()
        others[a] = False
        for b in partners.get(a, ()):
            if 0 <= b < n:
                others[b] = False
        if not others.any():
            candidates[a] = False  # every pair with it is used up for this participant
            continue
        closeness = np.exp(-np.abs(strength - strength[a]))
        second_weights = np.where(others, closeness * freshness, 0.0)
        if rng.random() < EXPLORE:
            second_weights = others.astype(np.float64)
        b = _draw(second_weights, rng)
        return (a, b)
    return None
