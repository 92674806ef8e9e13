"""What the engine decides: typed events that a service layer carries out.

The engine sends nothing and stores nothing. ``Say`` is a message to deliver; the
``Answer*``, ``Profile*`` and ``Consent*`` events are facts to persist; ``RunEnded``
closes the run. Storage applies them in one transaction with the new state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "AgreeCast",
    "AnswerRemoved",
    "AnswerSaved",
    "ApproveCast",
    "Button",
    "ConsentDeclined",
    "ConsentGiven",
    "Event",
    "IdeaFlagged",
    "IdeaSubmitted",
    "IdeaWithdrawn",
    "LanguageChosen",
    "PairWanted",
    "ProfileRemoved",
    "ProfileSaved",
    "RunEnded",
    "Say",
    "VoteCast",
    "VoteUndone",
]


@dataclass(frozen=True, slots=True)
class Button:
    payload: str
    label: str


@dataclass(frozen=True, slots=True)
class Say:
    """A message to the participant.

    ``buttons`` are the choices a channel may render as buttons (the console numbers them);
    ``hint`` says how to answer by typing, for channels that can't show buttons;
    ``kind`` lets a channel style questions, plain information and re-prompts apart.
    """

    text: str
    step_id: str | None = None
    buttons: tuple[Button, ...] = ()
    hint: str | None = None
    kind: Literal["question", "info", "reprompt"] = "info"
    multiple: bool = False


@dataclass(frozen=True, slots=True)
class AnswerSaved:
    step_id: str
    value: Any


@dataclass(frozen=True, slots=True)
class AnswerRemoved:
    """The participant went back to ``step_id``; its answer is open again."""

    step_id: str


@dataclass(frozen=True, slots=True)
class ProfileSaved:
    field: str
    value: Any


@dataclass(frozen=True, slots=True)
class ProfileRemoved:
    """Going back over the only answer that set ``field``: the profile no longer has it."""

    field: str


@dataclass(frozen=True, slots=True)
class IdeaSubmitted:
    """A participant proposed an idea in an ``idea`` step: it goes to moderation."""

    step_id: str
    text: str


@dataclass(frozen=True, slots=True)
class IdeaWithdrawn:
    """The author took back their last idea of ``step_id`` before moving on to voting."""

    step_id: str
    text: str


@dataclass(frozen=True, slots=True)
class PairWanted:
    """A ``vote`` step needs the next two ideas: the caller picks them (it has the votes)
    and hands them to :func:`bot.engine.offer`."""

    step_id: str


@dataclass(frozen=True, slots=True)
class VoteCast:
    """A participant chose ``winner`` between ideas ``a`` and ``b`` (None: can't decide)."""

    step_id: str
    a: int
    b: int
    winner: int | None


@dataclass(frozen=True, slots=True)
class AgreeCast:
    """A participant agreed, disagreed or passed on one idea (``agree`` voting)."""

    step_id: str
    idea: int
    choice: str


@dataclass(frozen=True, slots=True)
class ApproveCast:
    """From the ideas ``shown``, the participant supported ``picked`` (maybe none)."""

    step_id: str
    shown: tuple[int, ...]
    picked: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class VoteUndone:
    """The participant took back their vote on the pair ``a``, ``b``."""

    step_id: str
    a: int
    b: int | None
    """None: an ``agree`` answer on idea ``a``."""
    others: tuple[int, ...] = ()
    """``approve``: every idea of the list taken back, ``a`` included."""


@dataclass(frozen=True, slots=True)
class IdeaFlagged:
    """A participant reported an idea while voting."""

    step_id: str
    idea: int


@dataclass(frozen=True, slots=True)
class LanguageChosen:
    """The participant chose the language to talk in (not a hint: a choice to keep)."""

    language: str


@dataclass(frozen=True, slots=True)
class ConsentGiven:
    step_id: str
    text_sha256: str


@dataclass(frozen=True, slots=True)
class ConsentDeclined:
    step_id: str


@dataclass(frozen=True, slots=True)
class RunEnded:
    status: Literal["finished", "declined"]


Event = (
    Say
    | AnswerSaved
    | AnswerRemoved
    | ProfileSaved
    | ProfileRemoved
    | LanguageChosen
    | IdeaSubmitted
    | IdeaWithdrawn
    | PairWanted
    | VoteCast
    | AgreeCast
    | ApproveCast
    | VoteUndone
    | IdeaFlagged
    | ConsentGiven
    | ConsentDeclined
    | RunEnded
)
