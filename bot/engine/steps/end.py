"""``end``: the last words of a run. The run is finished and its answers complete.

```yaml
- id: thanks
  type: end
  text: Thank you for taking part!
```
A flow may have several ``end`` steps (one per branch). Falling off the last step of the
file also ends the run, without a closing message.
"""

from __future__ import annotations

from typing import Any

from bot.engine.events import Say
from bot.engine.flow import Step
from bot.engine.inputs import Press, Text
from bot.engine.steps.base import Parsed, Rejected
from bot.engine.texts import Translator


class EndKind:
    name = "end"
    interactive = False
    collects = False

    def prompt(self, step: Step, tr: Translator) -> Say:
        return Say(text=step.text, step_id=step.id, kind="info")

    def parse(self, step: Step, given: Text | Press, tr: Translator) -> Parsed:
        return Rejected("")

    def display(self, step: Step, value: Any, tr: Translator) -> str:
        return ""


KIND = EndKind()
