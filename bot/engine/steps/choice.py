"""``choice``: one option out of a list; the answer is the option's ``id``.

```yaml
- id: sector
  type: choice
  text: Where do you work?
  options:
    - {id: public, label: Public sector}
    - {id: business, label: Business}
    - {id: civil, label: Civil society}
  profile: sector          # also stored on the participant's profile
```
Answered by a button, by the option's number ("2") or by typing its label in any case.
Keep labels short: WhatsApp cuts reply buttons at 20 characters and list rows at 24.
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
    match_option,
    option_buttons,
    question,
)
from bot.engine.texts import Translator


class ChoiceKind:
    name = "choice"
    interactive = True
    collects = True

    def prompt(self, step: Step, tr: Translator) -> Say:
        return question(step, tr, tr.gettext(texts.HINT_CHOICE), option_buttons(step.options))

    def parse(self, step: Step, given: Text | Press, tr: Translator) -> Parsed:
        if isinstance(given, Press):
            found = next((o for o in step.options if o.id == given.payload), None)
        else:
            found = match_option(step.options, given.text)
        if found is None:
            sorry = tr.gettext(texts.SORRY_CHOICE)
            return Rejected(fill(sorry, first=1, last=len(step.options)))
        return Accepted(found.id)

    def display(self, step: Step, value: Any, tr: Translator) -> str:
        return next((o.label for o in step.options if o.id == value), str(value))


KIND = ChoiceKind()
