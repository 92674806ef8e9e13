"""The report's fixed wording, marked for gettext and shown in the flow's default language.

The templates hold no words of their own: every heading, column name and sentence is a
message id here, translated with the catalogs in ``locales/`` (:func:`bot.i18n.translator`)
like the engine's own sentences, so organisers get the report in the language of their
process. Values are inserted with :func:`bot.engine.bidi.fill`, which keeps a number or a
Latin name in a Hebrew sentence in its place.
"""

from __future__ import annotations


def _(message: str) -> str:
    """Marks a message id for extraction; translated where a translator is at hand."""
    return message


def ngettext(singular: str, plural: str) -> tuple[str, str]:
    """Marks a singular/plural pair for extraction (Babel knows the name and takes both)."""
    return singular, plural


# --- the document ------------------------------------------------------------------------
CLOSING_REPORT = _("Closing report")
CONTENTS = _("Contents")
MADE_ON = _("Made on {day} from the data of the flow {flow}.")
PLACEHOLDER = _("Placeholder")

# --- sections, in order --------------------------------------------------------------------
INTRODUCTION = _("Introduction")
BACKGROUND = _("Background and goals")
WHO_TOOK_PART = _("Who took part")
COLLECTED = _("What was collected")
QUESTIONNAIRE = _("Questionnaire results")
IDEAS = _("Ideas")
CONSENSUS = _("Consensus across groups")
SUPPORT = _("Support in lists of ideas")
NEXT_STEPS = _("What happens next")
APPENDIX = _("Appendix: figures")

# --- introduction ----------------------------------------------------------------------------
INTRO_TEXT = _(
    "This report sums up {title}: who took part, what they answered and which ideas they "
    "supported. Answers are given only as totals and shares; free-text answers are counted "
    "but not quoted."
)
KEY_FIGURES = _("Key figures")
PERIOD = _("Period")
PERIOD_VALUE = _("{start} to {end}")
CHANNELS = _("Channels")
LANGUAGES = _("Languages")
STARTED = _("Started the conversation")
CONSENTED = _("Agreed to take part")
FINISHED = _("Finished")
IDEAS_RECEIVED = _("Ideas received")
IDEAS_PUBLISHED = _("Ideas published for voting")
VOTERS = _("People who voted")
PAIRWISE_VOTES = _("Comparisons of two ideas")
AGREE_VOTES = _("Views on single ideas (agree, disagree, pass)")
APPROVE_VOTES = _("Ideas supported in lists")

# --- texts the organiser gives -----------------------------------------------------------
BACKGROUND_MISSING = _(
    "To be written: why this process was run, what it set out to learn, and who decides "
    "what is done with the results. Give the text with: kolot report FLOW --intro FILE.md"
)
NEXT_MISSING = _(
    "To be written: what will be done with these results, by whom and by when, and how the "
    "participants will hear about it. Give the text with: kolot report FLOW --next FILE.md"
)

# --- who took part -------------------------------------------------------------------------
WHO_TEXT = ngettext(
    "The shares are of the {people} person who agreed to take part. A target is the least "
    "share the organisers aimed for; a group below its target is marked.",
    "The shares are of the {people} people who agreed to take part. A target is the least "
    "share the organisers aimed for; a group below its target is marked.",
)
CHANNEL = _("Channel")
LANGUAGE = _("Language")
SOURCE = _("Where they came from (invite)")
CIRCLE = _("Circle")
GROUP = _("Group")
PEOPLE = _("People")
SHARE = _("Share")
TARGET = _("Target")
BELOW_TARGET = _("{points} points below the target")
TARGET_MET = _("target met")
NOT_GIVEN = _("Not given")
NOBODY_YET = _("Nobody yet.")

# --- questionnaire ---------------------------------------------------------------------------
ANSWERS = _("Answers: {count}")
ANSWER = _("Answer")
SEVERAL_ANSWERS = _(
    "Several answers could be chosen, so the shares add up to more than 100%."
)
MEAN = _("Mean")
MEDIAN = _("Median")
LOWEST = _("Lowest")
HIGHEST = _("Highest")
FREE_TEXT = _(
    "Free-text answers are not quoted in this report, to protect the people who wrote them; "
    "the organisers read them in the data export."
)
PROFILE_ELSEWHERE = _("The profile questions ({questions}) are shown under “Who took part”.")
NO_QUESTIONS = _("This process asked no questions.")
NO_ANSWERS = _("No answers yet.")

# --- ideas ---------------------------------------------------------------------------------------
IDEAS_TEXT = _(
    "Participants proposed ideas and compared them two at a time. The score is the estimated "
    "chance, from 0 to 100, that an idea is preferred to another idea picked at random."
)
TOP_IDEAS = _("The ideas with the highest scores")
POINTS = _("points")
RANK = _("Rank")
IDEA = _("Idea")
SCORE = _("Score")
WON = _("Won")
LOST = _("Lost")
PROVISIONAL = _("provisional: compared too few times")
NO_COMPARISONS = _("No ideas have been compared yet.")
NO_IDEAS = _("No ideas have been published yet.")
CONSENSUS_TEXT = _(
    "Participants said whether they agree with each idea. Consensus is high only when an "
    "idea is agreed with in every group of “{groups}”, not only in the largest one."
)
CONSENSUS_ALL = _(
    "Participants said whether they agree with each idea. Consensus, from 0 to 1, is high "
    "when most of those who gave their view agree."
)
AGREE = _("Agree")
DISAGREE = _("Disagree")
PASS = _("Pass")
CONSENSUS_SCORE = _("Consensus")
SUPPORT_TEXT = _("How often each idea was picked from the lists of ideas it was shown in.")
SUPPORTED = _("Picked")
SHOWN = _("Shown")

# --- appendix ------------------------------------------------------------------------------------
FUNNEL = _("How far people got")
STAGE = _("Stage")
OF_STARTED = _("Share of those who started")
ANSWERED_STAGE = _("Answered: {question}")
IDEAS_BY_STATUS = _("Ideas by status")
STATUS = _("Status")
COUNT = _("Number")
STATUSES = {
    "approved": _("Published"),
    "pending": _("Waiting for moderation"),
    "rejected": _("Rejected by moderation"),
    "hidden": _("Hidden after reports"),
    "withdrawn": _("Withdrawn by the author"),
    "merged": _("Merged into another idea"),
}
VOTES = _("Votes")
KIND = _("Kind")
PHASES = _("Phases")
PHASE = _("Phase")
STARTS = _("Starts")
ENDS = _("Ends")
METHOD = _("How the figures were made")
METHOD_PEOPLE = _(
    "Each person is counted once, by their latest pass through the conversation; only "
    "people who agreed to take part are counted in the groups and the answers."
)
METHOD_PRIVACY = _(
    "The report holds no names, phone numbers or chat addresses and quotes no free-text "
    "answers. Only ideas that were published for voting are quoted."
)
PERCENT = _("{share}%")
