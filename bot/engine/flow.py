"""The flow model: what an organiser's YAML file means once it has been checked.

Frozen dataclasses, built only by :mod:`bot.engine.loader` after validation, so the
engine can trust every reference in them (targets exist, options are unique, min <= max).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.engine.conditions import Condition
from bot.engine.outreach import Outreach

__all__ = ["Flow", "Option", "Rule", "Step"]


@dataclass(frozen=True, slots=True)
class Option:
    id: str
    label: str
    aliases: tuple[str, ...] = ()
    """Other labels a participant may type for it: in a translated flow, the label in the
    flow's default language, so "North" still works in the Hebrew conversation."""


@dataclass(frozen=True, slots=True)
class Rule:
    """One branch rule: when ``condition`` holds, go to ``next``."""

    source: str
    condition: Condition
    next: str


@dataclass(frozen=True, slots=True)
class Step:
    """One step of any kind; fields a kind does not use stay at their defaults."""

    id: str
    type: str
    text: str = ""
    next: str | None = None
    optional: bool = False
    profile: str | None = None
    options: tuple[Option, ...] = ()
    min: float | None = None
    max: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    integer: bool = False
    max_items: int | None = None
    """``idea``: how many ideas one participant may give."""
    discourse: str = ""
    """``idea``: the rules of discourse shown before the question."""
    pool: str | None = None
    """``vote``: the idea step whose ideas are compared."""
    method: str = "pairwise"
    """``vote``: ``pairwise`` or ``agree``."""
    votes: int | None = None
    """``vote``: votes before asking whether to go on."""
    show: int | None = None
    """``vote`` with ``approve``: ideas per list."""
    rules: tuple[Rule, ...] = ()
    otherwise: str | None = None
    phase: str | None = None
    """Asked only while this phase of the process is open."""
    line: int = 0


@dataclass(frozen=True, slots=True)
class Flow:
    id: str
    version: int
    title: str
    default_language: str
    languages: tuple[str, ...]
    steps: tuple[Step, ...]
    source_name: str = "<flow>"
    sha256: str = ""
    moderation: str = "post"
    flags_to_hide: int = 3
    outreach: Outreach = field(default_factory=Outreach)
    """Phases with dates, reminders, quiet hours, access (see :mod:`bot.engine.outreach`)."""
    retention_days: int | None = None
    """Days after the flow closes (its last phase ends) that participants' personal data is
    kept; ``None``: kept until removed by hand (see :mod:`bot.retention`)."""
    _index: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self._index:
            self._index.update({s.id: i for i, s in enumerate(self.steps)})

    def step(self, step_id: str) -> Step:
        return self.steps[self._index[step_id]]

    def has_step(self, step_id: str) -> bool:
        return step_id in self._index

    def following(self, step: Step) -> str | None:
        """The step after ``step`` when nothing else decides: ``next``, else file order."""
        if step.next is not None:
            return step.next
        i = self._index[step.id] + 1
        return self.steps[i].id if i < len(self.steps) else None

    @property
    def first(self) -> Step:
        return self.steps[0]
