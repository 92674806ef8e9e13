"""``/pending``: each idea awaiting moderation as a message with Approve and Reject
buttons; a tap moderates it as ``kolot ideas approve`` / ``reject --reason rules`` do
(a rejected idea's author is told why in the idea's language, never who decided).

An idea waits for moderation while ``pending`` (the flow moderates before publishing) or
``hidden`` (flagged by voters too often, until someone looks). The idea's row is locked
while it is moderated, so two admins tapping at once moderate it once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.admin import texts
from bot.admin.turn import Turn
from bot.engine import Button, Flow
from bot.moderation import decide
from storage.models import Idea

__all__ = ["AWAITING", "KIND", "REJECT_REASON", "SHOWN", "moderate", "pending"]

KIND = "idea"
"""The conversation state of an idea's message: ``{"do": "idea", "idea": id}``."""
AWAITING = ("pending", "hidden")
SHOWN = 10
"""Ideas sent per ``/pending``: the rest after these are done."""
REJECT_REASON = "rules"
"""What a rejected idea's author is told: it does not keep to the rules of discourse."""
_APPROVE, _REJECT = "approve", "reject"


def pending(turn: Turn, flow: Flow) -> int:
    """Send the ideas awaiting moderation; returns how many were shown."""
    waiting = [idea for idea in turn.uow.ideas.listed(flow.id) if idea.status in AWAITING]
    if not waiting:
        turn.reply(turn.text(texts.NO_PENDING, flow=flow.id))
        return 0
    buttons = (Button(_APPROVE, turn.tr.gettext(texts.APPROVE)),
               Button(_REJECT, turn.tr.gettext(texts.REJECT)))
    for idea in waiting[:SHOWN]:
        text = turn.text(texts.PENDING_IDEA, id=idea.id, step=idea.step_id,
                         language=idea.language, text=idea.text)
        turn.reply(text, buttons, {"do": KIND, "idea": idea.id, "flow": flow.id})
    if len(waiting) > SHOWN:
        turn.reply(turn.text(texts.PENDING_MORE, shown=SHOWN, total=len(waiting),
                             flow=flow.id))
    return min(len(waiting), SHOWN)


def moderate(turn: Turn, state: dict[str, Any], choice: str) -> None:
    """Approve or reject the idea the tapped message shows, once; the decision is recorded
    in the audit trail (``idea.approve``, ``idea.reject``), a tap that changes nothing is
    not."""
    if choice not in (_APPROVE, _REJECT):
        return
    uow = turn.uow
    idea_id = int(state.get("idea", 0))
    idea = uow.session.scalars(
        select(Idea).where(Idea.id == idea_id).with_for_update()
        .execution_options(populate_existing=True)).first()
    if idea is None:
        turn.settle(turn.text(texts.IDEA_GONE, id=idea_id))
        return
    if idea.status not in AWAITING:
        turn.settle(turn.text(texts.MODERATED_BEFORE, id=idea.id, status=idea.status))
        return
    subject, was = f"idea:{idea.id}", idea.status
    if choice == _APPROVE:
        decide(uow, idea, "approved", None, now=turn.now)
        turn.audit("idea.approve", subject, flow=idea.flow_id, was=was)
        turn.settle(turn.text(texts.APPROVED, id=idea.id, text=idea.text))
        return
    decide(uow, idea, "rejected", REJECT_REASON, now=turn.now)
    turn.audit("idea.reject", subject, flow=idea.flow_id, reason=REJECT_REASON, was=was)
    turn.settle(turn.text(texts.REJECTED, id=idea.id, text=idea.text))
