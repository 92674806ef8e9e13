"""What the admin commands say, marked for gettext like every other sentence Kolot writes.

English is the source language; an admin whose chosen language has translations in the
catalogs (``locales/``) reads them in it. Figures (``/stats``) come from
:func:`bot.stats.render_text`, as ``kolot stats`` prints them.
"""

from __future__ import annotations


def _(message: str) -> str:
    """Marks a message id for extraction; translated where a translator is at hand."""
    return message


HELP = _(
    "Admin commands:\n"
    "/stats [FLOW]: the funnel, and who takes part\n"
    "/pending [FLOW]: ideas awaiting moderation, to approve or reject\n"
    "/results [FLOW]: the top ideas with their scores\n"
    "/broadcast [FLOW]: a message to the participants, after you see how many it reaches\n"
    "/close PHASE [FLOW]: close a phase now and send its results\n"
    "\n"
    "Flows: {flows}. FLOW may be left out while only one is deployed. Anything else you "
    "write goes to the consultation, as for any participant."
)
WHICH_FLOW = _("Which flow? Add its id: {command} FLOW (flows: {flows}).")
NO_SUCH_FLOW = _("There is no flow “{flow}”. Flows: {flows}.")

NO_PENDING = _("No ideas await moderation in {flow}.")
PENDING_IDEA = _("Idea {id} ({step}, {language}):\n{text}")
PENDING_MORE = _("These are {shown} of the {total} ideas awaiting moderation in {flow}. Send "
                 "/pending again for more once these are done.")
APPROVE = _("Approve")
REJECT = _("Reject")
APPROVED = _("✓ Approved, idea {id}:\n{text}")
REJECTED = _("✗ Rejected, idea {id} (its author is told it does not keep to the rules of "
             "discourse):\n{text}")
MODERATED_BEFORE = _("Idea {id} was moderated already ({status}): nothing changed.")
IDEA_GONE = _("Idea {id} is no longer there.")

NO_VOTES = _("No votes yet in {flow}.")
RESULTS_PAIRWISE = _("The top ideas of {flow} (score 0-100, wins-losses):")
RESULTS_AGREE = _("Agreement in {flow} (consensus 0-1, agree/disagree/pass):")
RESULTS_APPROVE = _("Approval in {flow} (share approved of those shown):")
PROVISIONAL = _("provisional")

CHOOSE_BROADCAST = _("Which broadcast? Choose a prepared file from {folder}, or write a new "
                     "message.")
NO_BROADCAST_FILES = _("There are no prepared broadcast files in {folder}. Write a new "
                       "message instead.")
WRITE_BUTTON = _("New message: {flow}")
WRITE_PROMPT = _("Write the message for the participants of {flow}, in {language} (the "
                 "flow's language). Before anything is sent you will see how many it "
                 "reaches, and confirm.")
CONFIRM = _("Confirm")
CANCEL = _("Cancel")
AUDIENCE = _("Broadcast {name} to the participants of {flow}: {count} recipients.\n"
             "By language: {languages}\n"
             "By channel: {channels}\n"
             "Goes: {when}\n"
             "\n"
             "{text}")
GOES_NOW = _("now")
NOBODY = _("Broadcast {name} to the participants of {flow} would reach nobody (nobody in "
           "its audience consented and can be reached). Nothing was sent.")
SENT = _("✓ Broadcast {name}: written to the outbox for {count} recipients, who get it "
         "as the senders work through it.")
SCHEDULED = _("✓ Broadcast {name} is scheduled for {when}; its recipients are written to "
              "the outbox then, the audience of that moment.")
STARTED_BEFORE = _("Broadcast {name} was started before ({count} recipients): nothing more "
                   "was sent.")
OTHER_FILE = _("A broadcast named {name} was started from a different file: nothing was "
               "sent. To send a new message, give it a new name.")
CANCELLED = _("Cancelled: nothing was sent.")
EXPIRED = _("This has expired: nothing was sent. Send /broadcast to start again.")
FILE_PROBLEMS = _("{file} has mistakes; nothing was sent. Fix them and choose it again:\n"
                  "{problems}")
FILE_GONE = _("{file} is no longer in {folder}.")

CLOSE_WHICH = _("Which phase? /close PHASE (phases of {flow}: {phases}).")
NO_PHASES = _("{flow} has no phases to close.")
NO_SUCH_PHASE = _("{flow} has no phase “{phase}”. Phases: {phases}.")
CLOSED = _("Closed {phase} of {flow}: the results were sent to {count} participants.")
CLOSED_BEFORE = _("{phase} of {flow} was closed before: nothing was sent again.")
