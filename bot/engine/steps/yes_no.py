"""``yes_no``: a question answered yes or no; the answer is stored as ``true``/``false``.

```yaml
- id: mentor
  type: yes_no
  text: Have you ever had a mentor at work?
```
Buttons Yes/No; typed words are recognised in the participant's language (the catalog's
list of yes and no words), and ``1``/``2`` pick the buttons by number.
"""

from __future__ import annotations

from typing import Any

from bot.engine import texts
from bot.engine.events import Button, Say
from bot.engine.flow import Step
from bot.engine.inputs import Press, Text
from bot.engine.steps.base import Accepted, Parsed, Rejected, question
from bot.engine.texts import Translator


def yes_no_buttons(tr: Translator) -> tuple[Button, Button]:
    return Button("yes", tr.gettext(texts.YES)), Button("no", tr.gettext(texts.NO))


def parse_yes_no(given: Text | Press, tr: Translator) -> bool | None:
    """True, False, or None when the input is neither."""
    if isinstance(given, Press):
        return {"yes": True, "no": False}.get(given.payload)
    word = given.text.strip().casefold().rstrip(".!")
    if word in ("1",):
        return True
    if word in ("2",):
        return False
    if word in texts.words(tr, texts.YES_WORDS) or word == tr.gettext(texts.YES).casefold():
        return True
    if word in texts.words(tr, texts.NO_WORDS) or word == tr.gettext(texts.NO).casefold():
        return False
    return None


class YesNoKind:
    name = "yes_no"
    interactive = True
    collects = True
    sorry = texts.SORRY_YES_NO

    def prompt(self, step: Step, tr: Translator) -> Say:
        return question(step, tr, tr.gettext(texts.HINT_YES_NO), yes_no_buttons(tr))

    def parse(self, step: Step, given: Text | Press, tr: Translator) -> Parsed:
        answer = parse_yes_no(given, tr)
        if answer is None:
            return Rejected(tr.gettext(self.sorry))
        return Accepted(answer)

    def display(self, step: Step, value: Any, tr: Translator) -> str:
        return tr.gettext(texts.YES if value else texts.NO)


KIND = YesNoKind()
