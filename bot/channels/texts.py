"""What the channels themselves say or label, outside any flow, marked for gettext.

Translated with :func:`bot.i18n.translator` in the participant's language, like the
engine's sentences (``locales/<lang>/LC_MESSAGES/messages.po``).
"""

from __future__ import annotations

from bot.engine.texts import ngettext

__all__ = ["CHOOSE", "CUT_TO", "DONE", "FLOODING", "START_WORDS", "STILL_STOPPED", "STOPPED",
           "STOP_WORDS"]


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
FLOODING = _(
    "You are sending messages very fast, so I am skipping some of them. "
    "Please wait a few seconds, then send your answer again."
)
"""Once per flood, to a participant whose inputs are held back (see :mod:`bot.abuse`)."""
CUT_TO = ngettext(
    "Your message was too long, so I kept only its first {length} character.",
    "Your message was too long, so I kept only its first {length} characters.",
)
DONE = _("Done")
CHOOSE = _("Choose")
"""The button that opens a WhatsApp list of options (20 characters at most)."""

# Words that stop or resume all messages on channels without commands (WhatsApp), in any
# case, separated by "|". Twilio's standard opt-out and opt-in keywords, and each
# language's own words.
STOP_WORDS = _("stop|stopall|unsubscribe|cancel|end|quit|/stop")
START_WORDS = _("start|unstop|/start")
