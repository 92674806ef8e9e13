"""Step kinds, one module each; :data:`KINDS` maps a flow file's ``type`` to its kind."""

from __future__ import annotations

from bot.engine.steps import (
    branch,
    choice,
    consent,
    end,
    idea,
    language,
    message,
    multi_choice,
    number,
    scale,
    text,
    vote,
    yes_no,
)
from bot.engine.steps.base import Accepted, Kind, Parsed, Rejected

__all__ = ["KINDS", "Accepted", "Kind", "Parsed", "Rejected"]

KINDS: dict[str, Kind] = {
    m.KIND.name: m.KIND
    for m in (
        message, consent, language, choice, multi_choice, scale, number, yes_no, text, idea,
        vote, branch, end,
    )
}
