"""Agree/disagree voting (Pol.is style): shares, and consensus across groups.

The group-informed consensus of an idea is the product over groups (e.g. sectors) of
``(agrees + 1) / (seen + 2)``: high only when every group tends to agree, so an idea one
large group loves and another rejects does not pass as consensus. ``seen`` counts agree,
disagree and pass; the +1/+2 keep a group that has barely seen the idea from deciding it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from math import prod

__all__ = ["Tally", "group_consensus"]


@dataclass(frozen=True)
class Tally:
    agree: int = 0
    disagree: int = 0
    passed: int = 0

    @property
    def seen(self) -> int:
        return self.agree + self.disagree + self.passed

    def share(self, part: int) -> float:
        return part / self.seen if self.seen else 0.0


def group_consensus(by_group: Mapping[str, Tally]) -> float:
    """Product over groups of (agrees + 1) / (seen + 2); 0-1."""
    if not by_group:
        return 0.0
    return prod((t.agree + 1) / (t.seen + 2) for t in by_group.values())
