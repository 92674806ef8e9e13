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

from bot.engine import texts
from bot.engine.steps.yes_no import YesNoKind


class ConsentKind(YesNoKind):
    """Asked and answered like a yes/no question, but its answer is not data: it decides
    whether anything is stored at all."""

    name = "consent"
    collects = False
    sorry = texts.SORRY_CONSENT


KIND = ConsentKind()
