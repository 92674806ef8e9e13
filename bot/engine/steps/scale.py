"""``scale``: a whole number between ``min`` and ``max``, offered as one button per value.

```yaml
- id: importance
  type: scale
  text: How important is this issue to you?
  min: 1
  max: 5
```
The answer is stored as a number. Keep scales short (up to 10 values) so they fit as buttons.
"""

from __future__ import annotations

from typing import Any

from bot.engine import texts
from bot.engine.bidi import fill
from bot.engine.events import Button, Say
from bot.engine.flow import Step
from bot.engine.inputs import Press, Text
from bot.engine.steps.base import Accepted, Parsed, Rejected, as_number, fmt, plain, question
from bot.engine.texts import Translator


def _bounds(step: Step) -> tuple[int, int]:
    low = step.min if step.min is not None else 1
    high = step.max if step.max is not None else 5
    return int(low), int(high)


class ScaleKind:
    name = "scale"
    interactive = True
    collects = True

    def prompt(self, step: Step, tr: Translator) -> Say:
        low, high = _bounds(step)
        buttons = [Button(str(n), str(n)) for n in range(low, high + 1)]
        hint = fill(tr.gettext(texts.HINT_SCALE), min=low, max=high)
        return question(step, tr, hint, buttons)

    def parse(self, step: Step, given: Text | Press, tr: Translator) -> Parsed:
        low, high = _bounds(step)
        number = as_number(given.payload if isinstance(given, Press) else given.text)
        if number is None or not float(number).is_integer() or not low <= number <= high:
            return Rejected(fill(tr.gettext(texts.SORRY_RANGE), min=low, max=high))
        return Accepted(plain(number))

    def display(self, step: Step, value: Any, tr: Translator) -> str:
        return fmt(value)


KIND = ScaleKind()
