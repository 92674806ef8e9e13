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

from bot.engine.steps.choice import ChoiceKind


class LanguageKind(ChoiceKind):
    """Asked and answered like a choice among the languages; its answer is not data."""

    name = "language"
    collects = False


KIND = LanguageKind()
