"""What the channels themselves say or label, outside any flow, marked for gettext.

Translated with :func:`bot.i18n.translator` in the participant's language, like the
engine's sentences (``locales/<lang>/LC_MESSAGES/messages.po``).
"""

from __future__ import annotations

__all__ = ["DONE", "STILL_STOPPED", "STOPPED"]


def _(message: str) -> str:
    """Marks a message id for extraction; translated where a translator is at hand."""
    return message


STOPPED = _(
    "You will get no more messages from us. Your answers so far are kept. "
    "To continue where you left off, send /start."
)
STILL_STOPPED = _(
    "You asked for no more messages, so I am not taking answers now. "
    "To continue where you left off, send /start."
)
DONE = _("Done")
