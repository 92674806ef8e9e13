"""``/lang`` at any point: a menu of the flow's languages, or a switch by name; the open
question is asked again in the new language and every answer is kept."""

from __future__ import annotations

import gettext
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

from bot.engine import (
    AnswerSaved,
    Flow,
    LanguageChosen,
    Press,
    RunState,
    Say,
    Text,
    Translator,
    load_source,
    start,
    step,
)

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
FLOW_EN = """\
id: park
version: 1
default_language: en
languages: [en, he]
steps:
  - {id: consent, type: consent, text: Do you agree?}
  - id: area
    type: choice
    text: Where do you live?
    options: [{id: north, label: North}, {id: south, label: South}]
  - {id: visits, type: number, text: How many visits a month?, min: 0, max: 60}
  - {id: bye, type: end, text: Thanks!}
"""
HEBREW = {
    "Do you agree?": "האם את/ה מסכים/ה?",
    "Where do you live?": "איפה את/ה גר/ה?",
    "North": "צפון",
    "South": "דרום",
    "How many visits a month?": "כמה ביקורים בחודש?",
    "Thanks!": "תודה!",
}


class Catalog:
    def __init__(self, messages: dict[str, str]) -> None:
        self.messages = messages

    def gettext(self, message: str, /) -> str:
        return self.messages.get(message, message)

    def ngettext(self, singular: str, plural: str, n: int, /) -> str:
        return self.gettext(singular if n == 1 else plural)


HE_UI = Catalog({
    "Reply with a number from {min} to {max}.": "השיבו במספר בין {min} ל-{max}.",
    "Reply with the number of your answer.": "השיבו במספר התשובה.",
    "You have already completed this. Thank you! To start again, send /restart.": (
        "כבר סיימת. תודה!"
    ),
})


class TwoLanguages:
    """The test's Localiser: English as written, Hebrew by replacing texts."""

    def __init__(self, source: str = FLOW_EN) -> None:
        self.en = load_source(source)
        hebrew = source
        for source, translated in HEBREW.items():
            hebrew = hebrew.replace(source, translated)
        he = load_source(hebrew)
        steps = tuple(
            replace(step, options=tuple(
                replace(option, aliases=(english.label,))
                for option, english in zip(step.options, self.en.step(step.id).options,
                                           strict=True)
            ))
            for step in he.steps
        )
        self.he = replace(self.en, title=he.title, steps=steps)

    def languages(self) -> Sequence[tuple[str, str]]:
        return [("en", "English"), ("he", "עברית")]

    def flow(self, language: str) -> Flow:
        return self.he if language == "he" else self.en

    def translator(self, language: str) -> Translator:
        return HE_UI if language == "he" else gettext.NullTranslations()


def walk(state: RunState, *inputs: Text | Press, localiser: TwoLanguages | None):
    events_seen = []
    for given in inputs:
        flow = localiser.flow(state.language) if localiser else load_source(FLOW_EN)
        tr = localiser.translator(state.language) if localiser else gettext.NullTranslations()
        state, events = step(flow, state, given, NOW, tr=tr, localiser=localiser)
        events_seen.append(events)
    return state, events_seen


def begun(localiser: TwoLanguages) -> RunState:
    state, _ = start(localiser.en, NOW, language="en")
    state, _ = walk(state, Text("yes"), Text("North"), localiser=localiser)
    return state  # at "visits", with area answered


def texts(events: list) -> list[str]:
    return [e.text for e in events if isinstance(e, Say)]


def test_lang_shows_the_languages_each_named_in_itself() -> None:
    localiser = TwoLanguages()
    state, [events] = walk(begun(localiser), Text("/lang"), localiser=localiser)
    [menu] = events
    assert isinstance(menu, Say) and menu.text.startswith("Which language would you like?")
    assert [(b.payload, b.label) for b in menu.buttons] == [("lang:en", "English"),
                                                            ("lang:he", "עברית")]
    assert state.choosing_language and state.step == "visits"


def test_picking_a_language_asks_the_open_question_again_in_it_and_keeps_answers() -> None:
    localiser = TwoLanguages()
    before = begun(localiser)
    for pick in (Text("2"), Text("עברית"), Text("HE"), Press("lang:he")):
        state, [_, events] = walk(before, Text("/lang"), pick, localiser=localiser)
        assert events[0] == LanguageChosen("he")
        assert texts(events) == ["כמה ביקורים בחודש?"]
        assert events[1].hint == "השיבו במספר בין \u20680\u2069 ל-\u206860\u2069."
        assert (state.language, state.step, state.choosing_language) == ("he", "visits", False)
        assert dict(state.answers) == {"area": "north"}
    state, [events] = walk(state, Text("7"), localiser=localiser)
    assert AnswerSaved("visits", 7) in events and texts(events) == ["תודה!"]


def test_lang_with_a_name_switches_at_once_and_an_unknown_one_shows_the_menu() -> None:
    localiser = TwoLanguages()
    state, [events] = walk(begun(localiser), Text("/lang he"), localiser=localiser)
    assert events[0] == LanguageChosen("he") and state.language == "he"
    state, [events] = walk(state, Text("/lang klingon"), localiser=localiser)
    assert state.choosing_language and events[0].kind == "reprompt"
    assert [b.label for b in events[0].buttons] == ["English", "עברית"]


def test_after_the_menu_an_answer_is_still_an_answer() -> None:
    localiser = TwoLanguages()
    state, [_, events] = walk(begun(localiser), Text("/lang"), Text("12"), localiser=localiser)
    assert AnswerSaved("visits", 12) in events
    assert not state.choosing_language and state.status == "finished"


def test_a_flow_in_one_language_says_so_and_asks_again() -> None:
    state, _ = start(load_source(FLOW_EN), NOW, language="en")
    state, [events] = walk(state, Text("/lang"), localiser=None)
    assert texts(events) == ["This conversation is available in this language only.",
                             "Do you agree?"]
    assert not state.choosing_language


def test_switching_after_the_end_answers_in_the_new_language() -> None:
    localiser = TwoLanguages()
    state, _ = walk(begun(localiser), Text("3"), localiser=localiser)
    assert state.status == "finished"
    state, [events] = walk(state, Text("/lang he"), localiser=localiser)
    assert texts(events) == ["כבר סיימת. תודה!"] and state.language == "he"


def test_the_state_remembers_the_menu_through_json() -> None:
    localiser = TwoLanguages()
    state, _ = walk(begun(localiser), Text("/lang"), localiser=localiser)
    assert RunState.from_json(state.to_json()) == state


def test_in_a_translated_flow_the_default_languages_labels_still_work() -> None:
    localiser = TwoLanguages()
    state, _ = start(localiser.en, NOW, language="en")
    state, _ = walk(state, Text("/lang he"), Text("yes"), localiser=localiser)
    for typed in ("דרום", "South", "south", "٢", "۲", "2"):  # Arabic-Indic, Eastern too
        _, [events] = walk(state, Text(typed), localiser=localiser)
        assert AnswerSaved("area", "south") in events, typed


FLOW_WITH_STEP = FLOW_EN.replace(
    "steps:\n", "steps:\n  - {id: lang, type: language, text: Choose your language}\n"
)


def test_a_language_step_before_consent_switches_everything_after_it() -> None:
    localiser = TwoLanguages(FLOW_WITH_STEP)
    flow = load_source(FLOW_WITH_STEP)
    state, events = start(flow, NOW, language="en")
    [asked] = events
    assert [(b.payload, b.label) for b in asked.buttons] == [("en", "en"), ("he", "he")]
    state, events = step(flow, state, Text("2"), NOW, localiser=localiser)
    assert events[0] == LanguageChosen("he")
    assert texts(events) == ["האם את/ה מסכים/ה?"]  # the consent, in the chosen language
    assert state.language == "he" and state.step == "consent" and not state.answers


def test_a_language_step_without_a_localiser_still_records_the_choice() -> None:
    flow = load_source(FLOW_WITH_STEP)
    state, _ = start(flow, NOW, language="en")
    state, events = step(flow, state, Text("he"), NOW)
    assert events[0] == LanguageChosen("he") and state.language == "he"
    state, events = step(flow, state, Text("klingon"), NOW)  # now at consent: a re-prompt
    assert state.step == "consent" and events[0].kind == "reprompt"
