"""``number``: a number, optionally bounded by ``min``/``max`` and limited to whole numbers.

```yaml
- id: years
  type: number
  text: How many years have you worked?
  min: 0
  max: 60
  integer: true      # only whole numbers (default false)
  optional: true     # the participant may answer "skip"
```
"12", "12.5", "12,5", "1,000,000" and Arabic-Indic digits are understood; "1,000" (a thousand,
or one with a decimal comma?) is asked again rather than guessed. Whole numbers are stored
as integers.
"""

from __future__ import annotations

from typing import Any

from bot.engine import texts
from bot.engine.bidi import fill
from bot.engine.events import Say
from bot.engine.flow import Step
from bot.engine.inputs import Press, Text
from bot.engine.steps.base import (
    Accepted,
    Parsed,
    Rejected,
    ambiguous_comma,
    as_number,
    fmt,
    plain,
    question,
)
from bot.engine.texts import Translator


class NumberKind:
    name = "number"
    interactive = True
    collects = True

    def prompt(self, step: Step, tr: Translator) -> Say:
        if step.min is not None and step.max is not None:
            hint = fill(tr.gettext(texts.HINT_NUMBER_RANGE), min=fmt(step.min), max=fmt(step.max))
        elif step.min is not None:
            hint = fill(tr.gettext(texts.HINT_NUMBER_MIN), min=fmt(step.min))
        elif step.max is not None:
            hint = fill(tr.gettext(texts.HINT_NUMBER_MAX), max=fmt(step.max))
        else:
            hint = tr.gettext(texts.HINT_NUMBER)
        return question(step, tr, hint)

    def parse(self, step: Step, given: Text | Press, tr: Translator) -> Parsed:
        typed = given.payload if isinstance(given, Press) else given.text
        number = as_number(typed)
        if number is None:
            if ambiguous_comma(typed):
                return Rejected(tr.gettext(texts.SORRY_COMMA))
            return Rejected(tr.gettext(texts.SORRY_NUMBER))
        if step.integer and not float(number).is_integer():
            return Rejected(tr.gettext(texts.SORRY_WHOLE))
        low, high = step.min, step.max
        if (low is not None and number < low) or (high is not None and number > high):
            if low is not None and high is not None:
                sorry = fill(tr.gettext(texts.SORRY_RANGE), min=fmt(low), max=fmt(high))
            elif low is not None:
                sorry = fill(tr.gettext(texts.SORRY_TOO_LOW), min=fmt(low))
            else:
                sorry = fill(tr.gettext(texts.SORRY_TOO_HIGH), max=fmt(high))
            return Rejected(sorry)
        return Accepted(plain(number))

    def display(self, step: Step, value: Any, tr: Translator) -> str:
        return fmt(value)


KIND = NumberKind()
