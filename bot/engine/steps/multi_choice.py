"""``multi_choice``: several options out of a list; the answer is a list of option ids.

```yaml
- id: topics
  type: multi_choice
  text: Which topics matter most? Choose up to two.
  max: 2          # at most this many (default: all)
  min: 1          # at least this many (default 1)
  options:
    - {id: childcare, label: Childcare}
    - {id: mentoring, label: Mentoring}
    - {id: flexible, label: Flexible hours}
```
Typed answers list numbers or labels separated by commas ("1,3", "childcare, mentoring");
a button press carries the chosen ids joined by commas. The stored list follows the order
of the options, whatever order they were typed in.
"""

from __future__ import annotations

import re
from typing import Any

from bot.engine import texts
from bot.engine.bidi import fill
from bot.engine.events import Say
from bot.engine.flow import Option, Step
from bot.engine.inputs import Press, Text
from bot.engine.steps.base import (
    Accepted,
    Parsed,
    Rejected,
    match_option,
    option_buttons,
    question,
)
from bot.engine.texts import Translator

_SEPARATORS = re.compile(r"\s*[,;\u060c]\s*")
_AND = re.compile(r"\s+(?:and|&)\s+")
_SPACES = re.compile(r"\s+")


def _limits(step: Step) -> tuple[int, int]:
    low = int(step.min) if step.min is not None else 1
    high = int(step.max) if step.max is not None else len(step.options)
    return low, high


def _tokens(step: Step, given: Text | Press) -> list[str]:
    if isinstance(given, Press):
        return [t for t in given.payload.split(",") if t]
    text = given.text.strip()
    if match_option(step.options, text) is not None:
        return [text]
    parts: list[str] = []
    for chunk in _SEPARATORS.split(text):
        if match_option(step.options, chunk) is not None:
            parts.append(chunk)  # a whole label, even one with "and" in it: "Sit and rest"
        else:
            parts.extend(p for p in _AND.split(chunk) if p)
    if len(parts) == 1 and all(t.isdecimal() for t in _SPACES.split(text)):
        parts = _SPACES.split(text)
    return parts


class MultiChoiceKind:
    name = "multi_choice"
    interactive = True
    collects = True

    def prompt(self, step: Step, tr: Translator) -> Say:
        low, high = _limits(step)
        if low > 1:  # "up to 3" alone would hide that one is not enough
            hint = fill(tr.gettext(texts.MULTI_HINT_RANGE), min=low, max=high)
        else:
            hint = fill(texts.plural(tr, texts.MULTI_HINT, high), max=high)
        return question(step, tr, hint, option_buttons(step.options), multiple=True)

    def parse(self, step: Step, given: Text | Press, tr: Translator) -> Parsed:
        chosen: set[str] = set()
        for token in _tokens(step, given):
            option: Option | None
            if isinstance(given, Press):
                option = next((o for o in step.options if o.id == token), None)
            else:
                option = match_option(step.options, token)
            if option is None:
                sorry = tr.gettext(texts.SORRY_MULTI)
                return Rejected(fill(sorry, first=1, last=len(step.options)))
            chosen.add(option.id)
        low, high = _limits(step)
        if len(chosen) < max(low, 1):
            if not chosen:
                sorry = tr.gettext(texts.SORRY_MULTI)
                return Rejected(fill(sorry, first=1, last=len(step.options)))
            return Rejected(fill(texts.plural(tr, texts.SORRY_MULTI_FEW, low), min=low))
        if len(chosen) > high:
            return Rejected(fill(texts.plural(tr, texts.SORRY_MULTI_MANY, high), max=high))
        return Accepted([o.id for o in step.options if o.id in chosen])

    def display(self, step: Step, value: Any, tr: Translator) -> str:
        labels = {o.id: o.label for o in step.options}
        return ", ".join(labels.get(v, str(v)) for v in value or [])


KIND = MultiChoiceKind()
