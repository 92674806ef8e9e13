"""What the abuse-limit tests share: flows of many text questions, and what the database
says about one participant. A module of its own, because test modules can't import each
other or a ``conftest`` by name.

Without Redis the flood windows count on the service's clock (``bot.abuse.LocalWindows``),
so "25 messages in 7 seconds" and "ten seconds later" are moves of the injected clock, not
sleeps.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

TESTS = Path(__file__).resolve().parents[1]
for folder in ("telegram", "whatsapp"):  # their harnesses and payload builders, by name
    if str(TESTS / folder) not in sys.path:
        sys.path.append(str(TESTS / folder))

from bot.server import Runtime  # noqa: E402
from storage.models import Answer, Base, Participant, ProcessedInput, Run  # noqa: E402

QUESTIONS = 30


def questions_flow(questions: int = QUESTIONS) -> str:
    """Consent, then ``questions`` free-text questions ``q01``, ``q02``...: every applied
    input answers one, so the answers count what was applied."""
    steps = "\n".join(f"  - {{id: q{n:02d}, type: text, text: Question {n}?}}"
                      for n in range(1, questions + 1))
    return f"""\
id: many
version: 1
title: Many questions
default_language: en
languages: [he, ar, en]
steps:
  - {{id: consent, type: consent, text: Do you agree?}}
{steps}
  - {{id: bye, type: end, text: Thanks!}}
"""


LONG_FLOW = """\
id: long
version: 1
title: Long answers
default_language: en
languages: [he, ar, en]
steps:
  - {id: consent, type: consent, text: Do you agree?}
  - {id: story, type: text, text: Tell us everything., max_length: 6000}
  - {id: short, type: text, text: And in a few words?}
  - {id: bye, type: end, text: Thanks!}
"""
"""``story`` takes more than the cut leaves; ``short`` (2,000 at most) takes less."""

YES = {"he": "כן", "ar": "نعم", "en": "yes"}
WORDS = {"he": "מילה", "ar": "كلمة", "en": "word"}


@dataclass
class Seen:
    """One participant as the database has them."""

    answers: dict[str, Any]
    step: str | None
    inputs: int
    stopped: bool


def seen(runtime: Runtime, channel: str, address: str) -> Seen:
    with runtime.session_factory() as session:
        participant = session.scalars(select(Participant).where(
            Participant.channel == channel, Participant.address == address)).one()
        answers = {step: value for step, value in session.execute(
            select(Answer.step_id, Answer.value).where(Answer.participant_id == participant.id))}
        run = session.scalars(select(Run).where(Run.participant_id == participant.id)
                              .order_by(Run.id.desc())).first()
        inputs = session.scalar(select(func.count()).select_from(ProcessedInput)
                                .where(ProcessedInput.participant_id == participant.id))
        return Seen(answers, run.state.get("step") if run else None, int(inputs or 0),
                    participant.stopped_at is not None)


def counts(runtime: Runtime) -> dict[str, int]:
    """Rows in every table."""
    with runtime.session_factory() as session:
        return {table.name: int(session.scalar(select(func.count()).select_from(table)) or 0)
                for table in Base.metadata.sorted_tables}


def words(language: str, characters: int) -> str:
    """Text of ``characters`` characters: the language's word for "word", over and over."""
    text = ""
    while len(text) < characters:
        text += WORDS[language] + " "
    return text[:characters]
