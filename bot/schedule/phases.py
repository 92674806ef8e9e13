"""A run waiting for a phase: what the participant is told, and when the question goes.

The engine asks questions; whether a question's phase is open is a matter of dates in the
flow's time zone, said in the participant's language (Babel), so it is decided here,
around the engine: a question whose phase has not opened is not asked yet (the
participant hears when it opens, and gets it when it does); after the phase, or after
the last phase, they hear that it has closed.
"""

from __future__ import annotations

from datetime import datetime

from bot import formatting
from bot.engine import Flow, Translator
from bot.engine.bidi import fill
from bot.schedule import texts

__all__ = ["waiting_note"]


def waiting_note(
    flow: Flow, step_id: str | None, now: datetime, language: str, tr: Translator
) -> str | None:
    """Why the question at ``step_id`` is not asked now, or ``None`` if it may be."""
    outreach = flow.outreach
    zone = outreach.timezone
    if outreach.over(now) and step_id is not None:
        ended = max(p.ends for p in outreach.phases)
        return fill(tr.gettext(texts.PROCESS_CLOSED),
                    day=formatting.day(ended, language, zone))
    if step_id is None or not flow.has_step(step_id):
        return None
    phase_id = flow.step(step_id).phase
    if phase_id is None:
        return None
    phase = outreach.phase(phase_id)
    if now < phase.starts:
        return fill(tr.gettext(texts.PHASE_NOT_YET),
                    day=formatting.day(phase.starts, language, zone),
                    time=formatting.time_of_day(phase.starts, language, zone))
    if now >= phase.ends:
        return fill(tr.gettext(texts.PHASE_OVER), day=formatting.day(phase.ends, language, zone))
    return None
