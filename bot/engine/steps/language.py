"""``language``: which of the flow's languages to continue in, asked in the flow itself.

```yaml
- id: language
  type: language
  text: "בחרו שפה · اختاروا اللغة · Choose your language"
```
The options are the flow's ``languages``, each named in itself. The choice is the
participant's own: it is kept for later flows and wins over any hint from the channel.
Everything after it, the consent included, is in the chosen language; ``/lang`` changes it
again at any time. Nothing is stored as an answer, so it may come before the consent step.
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


class LanguageKind:
    name = "language"
    interactive = True
    collects = False

    def prompt(self, step: Step, tr: Translator) -> Say:
        hint = tr.gettext(texts.HINT_CHOICE)
        return question(step, tr, hint, option_buttons(step.options))

    def parse(self, step: Step, given: Text | Press, tr: Translator) -> Parsed:
        typed = given.payload if isinstance(given, Press) else given.text
        option = match_option(step.options, typed)
        if option is None:
            sorry = tr.gettext(texts.SORRY_CHOICE)
            return Rejected(fill(sorry, first=1, last=len(step.options)))
        return Accepted(option.id)

    def display(self, step: Step, value: Any, tr: Translator) -> str:
        return next((o.label for o in step.options if o.id == value), str(value))


KIND = LanguageKind()
