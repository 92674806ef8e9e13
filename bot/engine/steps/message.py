"""``message``: says something and moves on without waiting.

```yaml
- id: welcome
  type: message
  text: Hello! The Civil Service Commission is asking how to promote women to senior roles.
```
"""

from __future__ import annotations

from typing import Any

from bot.engine.events import Say
from bot.engine.flow import Step
from bot.engine.inputs import Press, Text
from bot.engine.steps.base import Parsed, Rejected
from bot.engine.texts import Translator


class MessageKind:
    name = "message"
    interactive = False
    collects = False

    def prompt(self, step: Step, tr: Translator) -> Say:
        return Say(text=step.text, step_id=step.id, kind="info")

    def parse(self, step: Step, given: Text | Press, tr: Translator) -> Parsed:
        return Rejected("")  # never waits for input

    def display(self, step: Step, value: Any, tr: Translator) -> str:
        return ""


KIND = MessageKind()
