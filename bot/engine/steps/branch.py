"""``branch``: chooses the next step from the answers so far, silently.

```yaml
- id: route
  type: branch
  rules:
    - when: importance >= 4 and sector == "public"
      next: barrier
  otherwise: thanks
```
Rules are tried in order; the first whose ``when`` holds wins. Without a match the run goes
to ``otherwise``, or to the next step in the file when ``otherwise`` is absent. Conditions
name answers by step id and profile fields as ``profile.NAME``; operators are
``== != < <= > >= in``, ``not in``, ``and``, ``or``, ``not`` and parentheses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.engine.conditions import evaluate
from bot.engine.events import Say
from bot.engine.flow import Flow, Step
from bot.engine.inputs import Press, Text
from bot.engine.steps.base import Parsed, Rejected
from bot.engine.texts import Translator


class BranchKind:
    name = "branch"
    interactive = False
    collects = False

    def prompt(self, step: Step, tr: Translator) -> Say:
        return Say(text="", step_id=step.id)

    def parse(self, step: Step, given: Text | Press, tr: Translator) -> Parsed:
        return Rejected("")

    def display(self, step: Step, value: Any, tr: Translator) -> str:
        return ""

    def route(
        self, flow: Flow, step: Step, answers: Mapping[str, Any], profile: Mapping[str, Any]
    ) -> str | None:
        for rule in step.rules:
            if evaluate(rule.condition, answers, profile):
                return rule.next
        if step.otherwise is not None:
            return step.otherwise
        return flow.following(step)


KIND = BranchKind()
