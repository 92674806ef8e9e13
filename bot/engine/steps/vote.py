"""``vote``: participants compare ideas from an idea step, two at a time.

```yaml
- id: rank
  type: vote
  pool: my_idea          # ideas from this step (and seed ideas from the organiser)
  method: pairwise
  text: Which would help more?
  votes: 8               # then offer "more?"
```
The engine does not choose the ideas: the caller, which has the votes, picks each pair
(see ``bot/voting/exposure.py``) and hands it in. A participant never gets their own idea
or the same pair twice; "can't decide" is a skip, not a vote; ``done`` stops at any time.
"Report A/B" flags an idea (the pair is skipped); after the flow's ``flags_to_hide``
reports the idea is hidden until a moderator looks at it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from bot.engine import texts
from bot.engine.bidi import fill
from bot.engine.events import Button, Say
from bot.engine.flow import Step
from bot.engine.inputs import Press, Text
from bot.engine.steps.base import Accepted, Parsed, Rejected
from bot.engine.texts import Translator

__all__ = ["DEFAULT_VOTES", "KIND", "agree_pick", "agree_prompt", "pair_prompt", "shown"]

DEFAULT_VOTES = 8
PICKS = {"1": "a", "a": "a", "2": "b", "b": "b", "3": "skip", "4": "flag_a", "5": "flag_b",
         "flag_a": "flag_a", "flag_b": "flag_b"}


def pair_prompt(step: Step, offer: Mapping[str, Any], tr: Translator) -> Say:
    text = f"{step.text}\n\nA: {offer['a_text']}\nB: {offer['b_text']}"
    buttons = (
        Button("vote:a", "A"),
        Button("vote:b", "B"),
        Button("vote:skip", tr.gettext(texts.VOTE_CANT_DECIDE)),
        Button("vote:flag_a", tr.gettext(texts.VOTE_REPORT_A)),
        Button("vote:flag_b", tr.gettext(texts.VOTE_REPORT_B)),
    )  # "undo" is typed (or a channel's own button): a sixth button would crowd the rest
    return Say(text, step_id=step.id, buttons=buttons, hint=tr.gettext(texts.VOTE_HINT),
               kind="question")


AGREE_PICKS = {"1": "agree", "2": "disagree", "3": "pass", "4": "flag"}


def agree_prompt(step: Step, offer: Mapping[str, Any], tr: Translator) -> Say:
    buttons = (
        Button("vote:agree", tr.gettext(texts.AGREE)),
        Button("vote:disagree", tr.gettext(texts.DISAGREE)),
        Button("vote:pass", tr.gettext(texts.PASS)),
        Button("vote:flag", tr.gettext(texts.REPORT)),
    )
    return Say(f"{step.text}\n\n{offer['text']}", step_id=step.id, buttons=buttons,
               hint=tr.gettext(texts.AGREE_HINT), kind="question")


def picks(step: Step) -> int:
    return step.max_items or 2


def approve_prompt(step: Step, offer: Mapping[str, Any], tr: Translator) -> Say:
    k = picks(step)
    buttons = tuple(Button(f"vote:{n}", str(text))
                    for n, (_id, text) in enumerate(offer["ideas"], start=1))
    return Say(step.text, step_id=step.id, buttons=buttons, multiple=k > 1,
               hint=fill(texts.plural(tr, texts.APPROVE_HINT, k), k=k), kind="question")


def approve_pick(step: Step, offer: Mapping[str, Any], given: Text | Press) -> list[int] | None:
    """Positions (1-based) picked from the list; ``[]`` for none; None if not understood."""
    said = given.payload.removeprefix("vote:") if isinstance(given, Press) else given.text
    tokens = [t for t in re.split(r"[\s,;\u060c]+", said.strip()) if t]
    if tokens == ["0"]:
        return []
    if not tokens or not all(t.isdecimal() and len(t) <= 2 for t in tokens):
        return None
    chosen = sorted({int(t) for t in tokens})
    if len(chosen) > picks(step) or not all(1 <= n <= len(offer["ideas"]) for n in chosen):
        return None
    return chosen


def shown(step: Step, offer: Mapping[str, Any], tr: Translator) -> Say:
    """What the participant is looking at: a pair, one idea to agree with, or a list."""
    if "ideas" in offer:
        return approve_prompt(step, offer, tr)
    return agree_prompt(step, offer, tr) if "idea" in offer else pair_prompt(step, offer, tr)


def agree_pick(given: Text | Press, tr: Translator) -> str | None:
    """``agree``, ``disagree``, ``pass`` or ``flag``: by button, number or the word."""
    said = given.payload.removeprefix("vote:") if isinstance(given, Press) else given.text
    said = said.strip().casefold()
    if said.isdecimal() and len(said) <= 3:
        said = str(int(said))
    words = {
        tr.gettext(texts.AGREE).casefold(): "agree",
        tr.gettext(texts.DISAGREE).casefold(): "disagree",
        tr.gettext(texts.PASS).casefold(): "pass",
    }
    if said in ("agree", "disagree", "pass", "flag"):
        return said
    return AGREE_PICKS.get(said) or words.get(said)


class VoteKind:
    name = "vote"
    interactive = True
    collects = True

    def prompt(self, step: Step, tr: Translator) -> Say:
        return Say(step.text, step_id=step.id, kind="question")  # the pair comes with offer()

    def parse(self, step: Step, given: Text | Press, tr: Translator) -> Parsed:
        """``a``, ``b`` or ``skip`` (can't decide)."""
        said = given.payload.removeprefix("vote:") if isinstance(given, Press) else given.text
        said = said.strip().casefold()
        if said.isdecimal() and len(said) <= 3:  # "٢" as well as "2"
            said = str(int(said))
        pick = PICKS.get(said) or ("skip" if said == "skip" else None)
        if pick is None:
            return Rejected(tr.gettext(texts.VOTE_SORRY))
        return Accepted(pick)

    def display(self, step: Step, value: Any, tr: Translator) -> str:
        return str(value)


KIND = VoteKind()
