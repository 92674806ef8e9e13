"""``idea``: participants propose ideas, one per message, for others to vote on.

```yaml
- id: my_idea
  type: idea
  text: What one change would help most?
  rules: Be respectful. One idea per message. No names of people.
  max_ideas: 2
  max_length: 280
```
The rules of discourse are shown before the question. Each idea is confirmed back to its
author and goes to moderation (the flow's ``moderation: pre`` holds it until approved;
``post``, the default, shows it at once). Until ``max_ideas`` are in, the participant may
send another or say ``done``. Ideas keep the language they were written in.
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

__all__ = ["DEFAULT_MAX_LENGTH", "DEFAULT_MIN_LENGTH", "KIND", "limit"]

DEFAULT_MAX_LENGTH = 280
DEFAULT_MIN_LENGTH = 10


def limit(step: Step) -> int:
    return step.max_items or 1


class IdeaKind:
    name = "idea"
    interactive = True
    collects = True

    def prompt(self, step: Step, tr: Translator) -> Say:
        hint = fill(tr.gettext(texts.IDEA_HINT), max=step.max_length or DEFAULT_MAX_LENGTH)
        asked = question(step, tr, hint)
        if step.discourse:
            return Say(f"{step.discourse}\n\n{asked.text}", step_id=step.id, hint=asked.hint,
                       kind="question")
        return asked

    def parse(self, step: Step, given: Text | Press, tr: Translator) -> Parsed:
        if isinstance(given, Press):
            return Rejected(tr.gettext(texts.SORRY_IDEA_FIRST))
        idea = " ".join(given.text.split())
        longest = step.max_length or DEFAULT_MAX_LENGTH
        shortest = step.min_length or DEFAULT_MIN_LENGTH
        if len(idea) > longest:
            return Rejected(fill(tr.gettext(texts.SORRY_TOO_LONG), length=len(idea), max=longest))
        if len(idea) < shortest:
            return Rejected(fill(texts.plural(tr, texts.SORRY_TOO_SHORT, shortest), min=shortest))
        return Accepted(idea)

    def display(self, step: Step, value: Any, tr: Translator) -> str:
        return "; ".join(str(v) for v in value) if isinstance(value, list) else str(value)


KIND = IdeaKind()
