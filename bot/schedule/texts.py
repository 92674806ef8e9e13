"""What the process says about time, outside any step: phases, reminders, choosing a flow.

Marked for gettext and translated in the participant's language like the engine's own
sentences; an organiser's own reminder or announcement text (in the flow file, translated
in its catalogs) replaces the default where given.
"""

from __future__ import annotations

__all__ = [
    "CHOOSE_FLOW",
    "CLOSED_CIRCLE",
    "DEADLINE",
    "NUDGE",
    "PHASE_NOT_YET",
    "PHASE_OVER",
    "PROCESS_CLOSED",
]


def _(message: str) -> str:
    """Marks a message id for extraction; translated where a translator is at hand."""
    return message


PHASE_NOT_YET = _("This part opens on {day} at {time}. I will write to you then.")
PHASE_OVER = _("This part closed on {day}. Thank you for taking part!")
PROCESS_CLOSED = _("This consultation closed on {day}. Thank you for taking part!")
NUDGE = _("You haven't finished yet: {title}. Reply to carry on where you left off.")
DEADLINE = _("{title}: this part closes on {day} at {time}. There is still time to take part.")
CHOOSE_FLOW = _("Which consultation would you like to take part in?")
CLOSED_CIRCLE = _(
    "This consultation is open by invitation only. If you have an invitation link or code, "
    "use it to join."
)
