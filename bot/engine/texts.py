"""Every participant-facing sentence the engine itself says, marked for gettext.

The engine never hard-codes what a participant reads: each sentence here is a gettext
message id, translated by the :class:`Translator` the caller passes in (Babel catalogs
under ``locales/``; ``gettext.NullTranslations`` gives the English ids). Words that the
engine must *recognise* (yes, no, back, skip) are translatable lists, so a language adds
its own words without code.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Protocol

__all__ = ["Translator", "words"]


class Translator(Protocol):
    """The part of ``gettext.NullTranslations`` / ``babel.support.Translations`` we use."""

    def gettext(self, message: str, /) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int, /) -> str: ...


def _(message: str) -> str:
    """Marks a message id for extraction; translation happens where a Translator is at hand."""
    return message


Plural = tuple[str, str]


def ngettext(singular: str, plural: str) -> Plural:
    """Marks a singular/plural pair for extraction (Babel knows this name and takes both);
    :func:`plural` translates it for a count, with the language's own plural rules."""
    return singular, plural


def plural(tr: Translator, message: Plural, n: int) -> str:
    return tr.ngettext(message[0], message[1], n)


# Words recognised in any case, separated by "|". Translators add their own language's words.
YES_WORDS = _("yes|y|yeah|yep|ok|okay|sure|agree|i agree")
NO_WORDS = _("no|n|nope|disagree|i disagree")
BACK_WORDS = _("back|/back")
SKIP_WORDS = _("skip|/skip")
RESTART_WORDS = _("/restart")
HELP_WORDS = _("/help")
DONE_WORDS = _("done|/done|that's all|no more")
UNDO_WORDS = _("undo|/undo")
WITHDRAW_WORDS = _("withdraw|/withdraw")

YES = _("Yes")
NO = _("No")
SKIP = _("Skip")

HINT_CHOICE = _("Reply with the number of your answer.")
HINT_SCALE = _("Reply with a number from {min} to {max}.")
HINT_NUMBER_RANGE = _("Reply with a number from {min} to {max}.")
HINT_NUMBER = _("Reply with a number.")
HINT_NUMBER_MIN = _("Reply with a number of at least {min}.")
HINT_NUMBER_MAX = _("Reply with a number of at most {max}.")
HINT_TEXT = _("Write your answer in one message.")
HINT_YES_NO = _("Reply yes or no.")
HINT_OPTIONAL = _("You can skip this question: send skip.")
HINT_BACK = _("To change your previous answer, send back.")

MULTI_HINT = ngettext(
    "Choose up to {max} answer: reply with its number.",
    "Choose up to {max} answers: reply with the numbers separated by commas, for example 1,3.",
)
MULTI_HINT_RANGE = _(
    "Choose at least {min} and at most {max}: reply with the numbers separated by commas, "
    "for example 1,3.",
)

SORRY_CHOICE = _(
    "Sorry, I didn't catch that. Please reply with one of the numbers {first} to {last}."
)
SORRY_MULTI_FEW = ngettext(
    "Please choose at least {min} answer.", "Please choose at least {min} answers."
)
SORRY_MULTI_MANY = ngettext(
    "Please choose no more than {max} answer.", "Please choose no more than {max} answers."
)
SORRY_MULTI = _(
    "Sorry, I didn't catch that. Please reply with numbers from {first} to {last}, "
    "separated by commas."
)
SORRY_NUMBER = _("Sorry, that is not a number. Please reply with a number.")
SORRY_WHOLE = _("Please reply with a whole number.")
SORRY_COMMA = _(
    "Please write the number without a comma between thousands, for example 1000, "
    "or with a point for a fraction, for example 1.5."
)
SORRY_RANGE = _("Please reply with a number from {min} to {max}.")
SORRY_TOO_LOW = _("Please reply with a number no lower than {min}.")
SORRY_TOO_HIGH = _("Please reply with a number no higher than {max}.")
SORRY_YES_NO = _("Sorry, I didn't catch that. Please reply yes or no.")
SORRY_EMPTY = _("Please write your answer as text.")
SORRY_TOO_SHORT = ngettext(
    "Please write at least {min} character.", "Please write at least {min} characters."
)
SORRY_TOO_LONG = _(
    "That is {length} characters; the limit is {max}. Please shorten your answer and send it again."
)
SORRY_NO_SKIP = _("This question can't be skipped.")
SORRY_NO_BACK = _("This is the first question, there is nothing to go back to.")
SORRY_CONSENT = _("Please reply yes to agree, or no if you don't want to take part.")

PREVIOUS_ANSWER = _("Your previous answer: {answer}")
WELCOME_BACK = _("Welcome back! Let's continue where you left off.")
CONSENT_DECLINED = _(
    "Understood. Nothing you wrote has been stored. If you change your mind, send /restart."
)
ALREADY_FINISHED = _("You have already completed this. Thank you! To start again, send /restart.")
ALREADY_DECLINED = _("You chose not to take part. To start again, send /restart.")
HELP = _(
    "I ask the questions of this consultation one at a time; answer with the buttons or "
    "by typing. /back changes your previous answer, /lang changes the language, /restart "
    "starts again, /stop stops all messages, /mydata shows what is kept about you and "
    "/delete erases it. Here is where you are:"
)
UNREADABLE_MEDIA = _(
    "Sorry, I can only read text messages and button taps. Please answer the question below."
)
UNREADABLE_EDIT = _(
    "Editing a message you already sent doesn't change your answer. To change your "
    "previous answer, send /back."
)
UNREADABLE_STALE = _("That button belongs to an earlier question. Here is the current one:")


def words(tr: Translator, message: str) -> frozenset[str]:
    """The set of recognised words for a ``*_WORDS`` message, lower-cased."""
    return _split(tr.gettext(message))


@lru_cache(maxsize=512)
def _split(translated: str) -> frozenset[str]:
    """Every input asks for several word lists; split each translation once."""
    return frozenset(w.strip().casefold() for w in translated.split("|") if w.strip())

IDEA_HINT = _("Write one idea in a message, up to {max} characters.")
IDEA_THANKS = _("Thank you! Your idea: {idea}")
IDEA_CHECKED_FIRST = _("Others will see it once it has been checked.")
IDEA_ANOTHER = ngettext(
    "You can send {n} more idea, or send done to go on.",
    "You can send up to {n} more ideas, or send done to go on.",
)
SORRY_IDEA_FIRST = _("Please write your idea first, in one message.")

VOTE_CANT_DECIDE = _("Can't decide")
VOTE_REPORT_A = _("Report A")
VOTE_REPORT_B = _("Report B")
VOTE_HINT = _("Reply 1 or 2, or 3 if you can't decide. Send undo to take back your last "
              "vote, done to stop.")
VOTE_SORRY = _("Please reply 1 or 2, or 3 if you can't decide.")
VOTE_MORE = ngettext(
    "You have compared {n} pair. Would you like to compare more?",
    "You have compared {n} pairs. Would you like to compare more?",
)
VOTE_NONE_LEFT = _("You have compared every pair there is for now. Thank you!")
VOTE_UNDONE = _("Your last vote is taken back. Here is that pair again.")
VOTE_NOTHING_TO_UNDO = _("There is no vote to take back yet.")
AGREE = _("Agree")
DISAGREE = _("Disagree")
PASS = _("Pass")
AGREE_HINT = _("Reply 1 to agree, 2 to disagree or 3 to pass. Send undo to take back your "
               "last answer, done to stop.")
AGREE_SORRY = _("Please reply 1 to agree, 2 to disagree or 3 to pass.")
REPORT = _("Report")
VOTE_MORE_AGREE = ngettext(
    "You have given your view on {n} idea. Would you like to see more?",
    "You have given your view on {n} ideas. Would you like to see more?",
)
APPROVE_HINT = ngettext(
    "Choose the one you support most: reply with its number, or 0 for none.",
    "Choose up to {k} you support: reply with their numbers, for example 1,3, or 0 for none.",
)
APPROVE_SORRY = ngettext(
    "Please reply with the number of one idea from 1 to {last}, or 0 for none.",
    "Please reply with up to {k} numbers from 1 to {last}, or 0 for none.",
)
IDEA_WITHDRAWN = _("Your idea “{idea}” is withdrawn; nobody will vote on it.")
IDEA_NOTHING_TO_WITHDRAW = _("There is no idea of yours to withdraw here.")
