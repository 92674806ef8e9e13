"""``consent``: what the process is for and what is done with the data; nothing is stored
before the participant agrees.

```yaml
- id: consent
  type: consent
  text: Your answers are used only for this consultation and published only in aggregate. Do you agree?
```
Yes records the consent with the time and a hash of the exact text agreed to. No ends the
run politely, storing nothing. ``kolot validate`` rejects a flow that asks a question whose
answer is stored before its consent step.
"""  # noqa: E501 - the example is the contract flow's text, verbatim

from __future__ import annotations

from typing import Any

from bot.engine import texts
from bot.engine.events import Say
from bot.engine.flow import Step
from bot.engine.inputs import Press, Text
from bot.engine.steps.base import Accepted, Parsed, Rejected, question
from bot.engine.steps.yes_no import parse_yes_no, yes_no_buttons
from bot.engine.texts import Translator


class ConsentKind:
    name = "consent"
    interactive = True
    collects = False

    def prompt(self, step: Step, tr: Translator) -> Say:
        return question(step, tr, tr.gettext(texts.HINT_YES_NO), yes_no_buttons(tr))

    def parse(self, step: Step, given: Text | Press, tr: Translator) -> Parsed:
        answer = parse_yes_no(given, tr)
        if answer is None:
            return Rejected(tr.gettext(texts.SORRY_CONSENT))
        return Accepted(answer)

    def display(self, step: Step, value: Any, tr: Translator) -> str:
        return tr.gettext(texts.YES if value else texts.NO)


KIND = ConsentKind()
