"""What Kolot says about a participant's own data (``/mydata``, ``/delete``) and about a
consent text that changed, marked for gettext like the engine's sentences."""

from __future__ import annotations

from bot.engine.texts import ngettext

__all__ = [
    "CONSENT_AGREED_AGAIN",
    "CONSENT_CHANGED",
    "CONSENT_REFUSED_AGAIN",
    "DELETED",
    "DELETE_ASK",
    "DELETE_CONFIRM_WORDS",
    "DELETE_KEPT",
    "DELETE_NO",
    "DELETE_WORDS",
    "DELETE_YES",
    "MYDATA_WORDS",
]


def _(message: str) -> str:
    """Marks a message id for extraction; translated where a translator is at hand."""
    return message


# Words that ask for one's data or its erasure on channels without commands (WhatsApp), in
# any case, separated by "|"; translators add their own language's words.
MYDATA_WORDS = _("/mydata|mydata|my data")
DELETE_WORDS = _("/delete|delete my data")
DELETE_CONFIRM_WORDS = _("delete|erase")
"""Typed instead of tapping "Yes, erase" (the first word is the one the question names)."""

MYDATA_INTRO = _("This is everything Kolot keeps about you.")
MYDATA_CHANNEL = _("Channel: {channel}, address: {address}")
MYDATA_LANGUAGE = _("Language: {language}")
MYDATA_SINCE = _("First message: {date}")
MYDATA_PROFILE = _("About you: {fields}")
MYDATA_FLOW = _("In “{title}”:")
MYDATA_CONSENT = _("You agreed to the terms on {date}.")
MYDATA_NO_ANSWERS = _("No answers stored.")
MYDATA_IDEAS = ngettext("You proposed {n} idea:", "You proposed {n} ideas:")
MYDATA_VOTES = ngettext(
    "You cast {n} vote. Votes are counted without your name.",
    "You cast {n} votes. Votes are counted without your name.",
)
MYDATA_FUTURE_YES = _("You agreed to hear about future consultations.")
MYDATA_FUTURE_NO = _("You don't want to hear about future consultations.")
MYDATA_STOPPED = _("You asked for no more messages on {date}.")
MYDATA_FILE = _("The same, as a file (JSON), for your records.")
MYDATA_FILE_MISSING = _("A file with the same data can't be sent on this channel just now.")
MYDATA_END = _("To erase all of it, send /delete.")
MYDATA_NOTHING = _("Kolot keeps nothing about you except your address on this channel.")

DELETE_ASK = _(
    "This erases your answers, what you told us about yourself, your ideas and your address "
    "on this channel. Votes you cast stay only as anonymous counts, so published results "
    "don't change. This can't be undone. Erase everything? (You can also send the word "
    "delete.)"
)
DELETE_YES = _("Yes, erase")
DELETE_NO = _("No, keep")
DELETE_KEPT = _("Nothing was erased.")
DELETED = _(
    "Everything Kolot kept about you has been erased; your votes remain only as anonymous "
    "counts. If you write again, you start afresh. Goodbye!"
)

CONSENT_CHANGED = _(
    "The terms of this consultation have changed since you agreed. Please read them again "
    "and tell me whether you agree, so we can go on."
)
CONSENT_AGREED_AGAIN = _("Thank you. Let's continue where you left off.")
CONSENT_REFUSED_AGAIN = _(
    "Understood. Your answers to this consultation have been deleted and nothing more will "
    "be stored. If you change your mind, send /restart."
)
