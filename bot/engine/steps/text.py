"""``text``: a free-text answer, stored as written (surrounding spaces trimmed).

```yaml
- id: barrier
  type: text
  text: What is the biggest barrier you have seen?
  max_length: 500     # default 2000
  min_length: 3       # default 1
```
An answer over ``max_length`` is not cut: the participant is told the length and the limit
and asked to shorten it, so nothing they wrote is silently lost.
"""

from __future__ import annotations

from typing import Any

from bot.engine import texts
from bot.engine.bidi import fill
from bot.engine.events import Say
from bot.engine.flow import Step
from bot.engine.inputs import Press, Text
from bot.engine.steps.base import Accepted, Parsed, Rejected, question
from bot.engine.texts import Translator

DEFAULT_MAX_LENGTH = 2000


class TextKind:
    name = "text"
    interactive = True
    collects = True

    def prompt(self, step: Step, tr: Translator) -> Say:
        return question(step, tr, tr.gettext(texts.HINT_TEXT))

    def parse(self, step: Step, given: Text | Press, tr: Translator) -> Parsed:
        if isinstance(given, Press):
            return Rejected(tr.gettext(texts.SORRY_EMPTY))
        answer = given.text.strip()
        if not answer:
            return Rejected(tr.gettext(texts.SORRY_EMPTY))
        limit = step.max_length or DEFAULT_MAX_LENGTH
        if len(answer) > limit:
            return Rejected(fill(tr.gettext(texts.SORRY_TOO_LONG), length=len(answer), max=limit))
        if step.min_length and len(answer) < step.min_length:
            low = step.min_length
            return Rejected(fill(texts.plural(tr, texts.SORRY_TOO_SHORT, low), min=low))
        return Accepted(answer)

    def display(self, step: Step, value: Any, tr: Translator) -> str:
        return str(value)


KIND = TextKind()
