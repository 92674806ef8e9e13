"""The engine's two entry points: :func:`start` a run and :func:`step` it by one input.

Both are pure: they read only their arguments (the flow, the state, the input, the time and
a translator) and return the new state with the events to carry out. The same inputs always
give the same result, which is what makes flows testable as data.
"""

from __future__ import annotations

import gettext
import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from bot.engine import language, texts
from bot.engine.bidi import fill
from bot.engine.errors import EngineError
from bot.engine.events import (
    AgreeCast,
    AnswerRemoved,
    AnswerSaved,
    ApproveCast,
    ConsentDeclined,
    ConsentGiven,
    Event,
    IdeaFlagged,
    IdeaSubmitted,
    IdeaWithdrawn,
    LanguageChosen,
    PairWanted,
    ProfileRemoved,
    ProfileSaved,
    RunEnded,
    Say,
    VoteCast,
    VoteUndone,
)
from bot.engine.flow import Flow, Step
from bot.engine.inputs import Command, Input, Press, Start, Text, Unreadable
from bot.engine.language import Localiser
from bot.engine.state import RunState
from bot.engine.steps import KINDS, Rejected, idea, vote
from bot.engine.steps.branch import BranchKind
from bot.engine.steps.yes_no import parse_yes_no, yes_no_buttons
from bot.engine.texts import Translator

__all__ = ["ask", "command_of", "jump", "offer", "start", "step"]

_NULL = gettext.NullTranslations()
_NOTES = {
    "media": texts.UNREADABLE_MEDIA,
    "edit": texts.UNREADABLE_EDIT,
    "stale": texts.UNREADABLE_STALE,
}

Result = tuple[RunState, list[Event]]


def start(
    flow: Flow,
    now: datetime,
    *,
    language: str | None = None,
    profile: Mapping[str, Any] | None = None,
    tr: Translator = _NULL,
) -> Result:
    """A new run at the flow's first step. ``profile`` carries what earlier flows learnt."""
    state = RunState(
        flow_id=flow.id,
        version=flow.version,
        flow_sha256=flow.sha256,
        language=language or flow.default_language,
        profile=dict(profile or {}),
    )
    events: list[Event] = []
    return _advance(flow, state, flow.first.id, events, tr), events


def step(
    flow: Flow,
    state: RunState,
    given: Input,
    now: datetime,
    *,
    tr: Translator = _NULL,
    localiser: Localiser | None = None,
) -> Result:
    """Apply one input to a run. A run that has ended answers politely and stays ended.

    ``restart`` (the command, or its word typed) begins the flow again from the top, as
    :func:`start` would, keeping the language and profile: a new run, which the caller
    stores as such. It works on an ended run too, as the polite answer there suggests.
    ``/lang`` changes the language through ``localiser`` (see :mod:`bot.engine.language`).
    """
    events: list[Event] = []
    if command_of(given, tr) == "restart":
        return start(flow, now, language=state.language, profile=state.profile, tr=tr)
    if isinstance(given, Unreadable) or command_of(given, tr) == "help":
        note = _NOTES[given.what] if isinstance(given, Unreadable) else texts.HELP
        events.append(Say(tr.gettext(note), kind="info"))
        _ask_again(flow, state, events, tr)
        return state, events
    is_lang, requested = language.asked_for(given, tr)
    if is_lang or state.choosing_language:
        switched = _language(flow, state, given, is_lang, requested, tr, localiser)
        if switched is not None:
            return switched
        state = state.evolve(choosing_language=False)  # not a language: an answer, maybe
    if state.status != "active" or state.step is None:
        message = texts.ALREADY_DECLINED if state.status == "declined" else texts.ALREADY_FINISHED
        events.append(Say(tr.gettext(message), kind="info"))
        return state, events

    current = flow.step(state.step)
    kind = KINDS[current.type]

    if isinstance(given, Start):
        events.append(Say(tr.gettext(texts.WELCOME_BACK), kind="info"))
        events.append(_question(state, current, tr))
        return state, events

    command = command_of(given, tr)
    if command == "back":
        return _back(flow, state, current, events, tr)
    if command == "skip":
        if not current.optional:
            events.append(_reprompt(current, tr.gettext(texts.SORRY_NO_SKIP), tr))
            return state, events
        moved = state.evolve(history=(*state.history, current.id))
        return _advance(flow, moved, flow.following(current), events, tr), events

    assert isinstance(given, (Text, Press))
    if current.type == "idea":
        return _idea(flow, state, current, given, events, tr)
    if current.type == "vote":
        return _vote(flow, state, current, given, events, tr)
    parsed = kind.parse(current, given, tr)
    if isinstance(parsed, Rejected):
        events.append(_reprompt(current, parsed.reason, tr))
        return state, events

    if current.type == "consent":
        if parsed.value is not True:
            events.append(ConsentDeclined(current.id))
            events.append(Say(tr.gettext(texts.CONSENT_DECLINED), kind="info"))
            events.append(RunEnded("declined"))
            return state.evolve(status="declined", step=None), events
        digest = hashlib.sha256(current.text.encode("utf-8")).hexdigest()
        events.append(ConsentGiven(current.id, digest))
        moved = state.evolve(consented=True)
        return _advance(flow, moved, flow.following(current), events, tr), events

    if current.type == "language":
        code = str(parsed.value)
        events.append(LanguageChosen(code))
        moved = state.evolve(language=code, history=(*state.history, current.id))
        if localiser is not None:  # everything from here on in the chosen language
            flow, tr = localiser.flow(code), localiser.translator(code)
        return _advance(flow, moved, flow.following(current), events, tr), events

    answers = dict(state.answers)
    profile = state.profile
    overwritten = state.overwritten
    if kind.collects and state.consented:
        answers[current.id] = parsed.value
        events.append(AnswerSaved(current.id, parsed.value))
        if current.profile:
            before = {"had": current.profile in profile, "value": profile.get(current.profile)}
            overwritten = {**overwritten, current.id: before}
            profile = {**profile, current.profile: parsed.value}
            events.append(ProfileSaved(current.profile, parsed.value))
    moved = state.evolve(
        answers=answers,
        profile=profile,
        overwritten=overwritten,
        history=(*state.history, current.id),
    )
    return _advance(flow, moved, flow.following(current), events, tr), events


def ask(flow: Flow, state: RunState, *, tr: Translator = _NULL) -> Result:
    """The open question again, unasked by the participant: its phase has opened, or a
    reminder brings it back. An ended run says so."""
    events: list[Event] = []
    _ask_again(flow, state, events, tr)
    return state, events


def jump(flow: Flow, state: RunState, step_id: str, *, tr: Translator = _NULL) -> Result:
    """Take the participant to ``step_id`` (a phase that opens invites everyone who
    finished to its vote), their answers kept; a finished run becomes active again."""
    events: list[Event] = []
    moved = state.evolve(status="active", offer=None, asking_more=False)
    return _advance(flow, moved, step_id, events, tr), events


def command_of(given: Input, tr: Translator) -> str | None:
    """The command an input is (``back``, ``skip``, ``restart``, ``help``), in the run's
    language.

    Public so that a caller storing runs can tell a restart apart before stepping: it
    begins a new run rather than overwriting the current one.
    """
    if isinstance(given, Command):
        return given.name
    if isinstance(given, Text):
        word = given.text.strip().casefold()
        if word in texts.words(tr, texts.BACK_WORDS):
            return "back"
        if word in texts.words(tr, texts.SKIP_WORDS):
            return "skip"
        if word in texts.words(tr, texts.RESTART_WORDS):
            return "restart"
        if word in texts.words(tr, texts.HELP_WORDS):
            return "help"
    return None


def _back(
    flow: Flow, state: RunState, current: Step, events: list[Event], tr: Translator
) -> Result:
    if not state.history:
        events.append(_reprompt(current, tr.gettext(texts.SORRY_NO_BACK), tr))
        return state, events
    previous = flow.step(state.history[-1])
    answers = dict(state.answers)
    old = answers.pop(previous.id, None)
    if previous.id in state.answers:
        events.append(AnswerRemoved(previous.id))
    profile, overwritten = _restore_profile(state, previous, events)
    if previous.id in state.answers:
        shown = KINDS[previous.type].display(previous, old, tr)
        events.append(Say(fill(tr.gettext(texts.PREVIOUS_ANSWER), answer=shown), kind="info"))
    events.append(KINDS[previous.type].prompt(previous, tr))
    moved = state.evolve(
        step=previous.id,
        answers=answers,
        profile=profile,
        overwritten=overwritten,
        history=state.history[:-1],
    )
    return moved, events


def _idea(
    flow: Flow, state: RunState, current: Step, given: Text | Press, events: list[Event],
    tr: Translator,
) -> Result:
    """One idea per message until the step's limit, or ``done`` once there is one."""
    given_so_far = list(state.answers.get(current.id) or [])
    said = given.text.strip().casefold() if isinstance(given, Text) else ""
    if said in texts.words(tr, texts.WITHDRAW_WORDS):
        if not given_so_far:
            events.append(_reprompt(current, tr.gettext(texts.IDEA_NOTHING_TO_WITHDRAW), tr))
            return state, events
        withdrawn, kept = given_so_far[-1], given_so_far[:-1]
        answers = {k: v for k, v in state.answers.items() if k != current.id}
        if kept:
            answers[current.id] = kept
        if state.consented:
            events.append(IdeaWithdrawn(current.id, withdrawn))
            events.append(AnswerSaved(current.id, kept) if kept else AnswerRemoved(current.id))
        events.append(Say(fill(tr.gettext(texts.IDEA_WITHDRAWN), idea=withdrawn),
                          step_id=current.id, kind="info"))
        events.append(KINDS[current.type].prompt(current, tr))
        return state.evolve(answers=answers), events
    if said in texts.words(tr, texts.DONE_WORDS):
        if not given_so_far and not current.optional:
            events.append(_reprompt(current, tr.gettext(texts.SORRY_IDEA_FIRST), tr))
            return state, events
        moved = state.evolve(history=(*state.history, current.id))
        return _advance(flow, moved, flow.following(current), events, tr), events
    parsed = idea.KIND.parse(current, given, tr)
    if isinstance(parsed, Rejected):
        events.append(_reprompt(current, parsed.reason, tr))
        return state, events
    text = str(parsed.value)
    ideas = [*given_so_far, text]
    answers = {**state.answers, current.id: ideas}
    if state.consented:  # validate puts consent first; nothing is kept without it anyway
        events.append(IdeaSubmitted(current.id, text))
        events.append(AnswerSaved(current.id, ideas))
    thanks = fill(tr.gettext(texts.IDEA_THANKS), idea=text)
    if flow.moderation == "pre":
        thanks = f"{thanks}\n{tr.gettext(texts.IDEA_CHECKED_FIRST)}"
    events.append(Say(thanks, step_id=current.id, kind="info"))
    left = idea.limit(current) - len(ideas)
    if left > 0:
        events.append(Say(fill(texts.plural(tr, texts.IDEA_ANOTHER, left), n=left),
                          step_id=current.id, kind="question"))
        return state.evolve(answers=answers), events
    moved = state.evolve(answers=answers, history=(*state.history, current.id))
    return _advance(flow, moved, flow.following(current), events, tr), events


def offer(
    flow: Flow,
    state: RunState,
    pair: tuple[int, str, int, str] | tuple[int, str] | list[tuple[int, str]] | None,
    *,
    tr: Translator = _NULL,
) -> Result:
    """Show what the caller picked for the open ``vote`` step: ``(a id, a text, b id,
    b text)`` for a pair, ``(id, text)`` for an ``agree`` idea; ``None`` when nothing is
    left, and the run moves on."""
    events: list[Event] = []
    if state.step is None or flow.step(state.step).type != "vote":
        return state, events
    current = flow.step(state.step)
    if pair is None:
        events.append(Say(tr.gettext(texts.VOTE_NONE_LEFT), step_id=current.id, kind="info"))
        return _finish_voting(flow, state, current, events, tr), events
    if isinstance(pair, list):
        moved = state.evolve(offer={"ideas": [[i, text] for i, text in pair]})
    elif len(pair) == 2:
        idea_id, text = pair
        moved = state.evolve(offer={"idea": idea_id, "text": text})
    else:
        a, a_text, b, b_text = pair
        moved = state.evolve(offer={"a": a, "a_text": a_text, "b": b, "b_text": b_text})
    events.append(vote.shown(current, moved.offer or {}, tr))
    return moved, events


def _question(state: RunState, current: Step, tr: Translator) -> Event:
    """The open question as it stands, for asking again: a vote's pair or its "more?"."""
    if current.type == "vote":
        if state.asking_more:
            return _more(current, state.cast, tr)
        if state.offer:
            return vote.shown(current, state.offer, tr)
        return PairWanted(current.id)
    return KINDS[current.type].prompt(current, tr)


def _more(current: Step, cast: int, tr: Translator) -> Say:
    asked = texts.VOTE_MORE_AGREE if current.method == "agree" else texts.VOTE_MORE
    return Say(
        fill(texts.plural(tr, asked, cast), n=cast),
        step_id=current.id,
        buttons=yes_no_buttons(tr),
        hint=tr.gettext(texts.HINT_YES_NO),
        kind="question",
    )


def _finish_voting(
    flow: Flow, state: RunState, current: Step, events: list[Event], tr: Translator
) -> RunState:
    moved = state.evolve(
        offer=None, cast=0, asking_more=False, history=(*state.history, current.id)
    )
    return _advance(flow, moved, flow.following(current), events, tr)


def _vote(
    flow: Flow, state: RunState, current: Step, given: Text | Press, events: list[Event],
    tr: Translator,
) -> Result:
    """A pick for the pair shown, "more?" after every ``votes`` pairs, or ``done``."""
    said = given.text.strip().casefold() if isinstance(given, Text) else ""
    if said in texts.words(tr, texts.DONE_WORDS):
        return _finish_voting(flow, state, current, events, tr), events
    if said in texts.words(tr, texts.UNDO_WORDS) or (
        isinstance(given, Press) and given.payload == "vote:undo"
    ):
        return _undo(current, state, events, tr)
    if state.asking_more:
        more = parse_yes_no(given, tr)
        if more is None:
            again = _more(current, state.cast, tr)
            events.append(Say(tr.gettext(texts.SORRY_YES_NO), step_id=current.id,
                              buttons=again.buttons, kind="reprompt"))
            return state, events
        if not more:
            return _finish_voting(flow, state, current, events, tr), events
        events.append(PairWanted(current.id))
        return state.evolve(asking_more=False, offer=None), events
    if not state.offer:
        events.append(PairWanted(current.id))
        return state, events
    if "idea" in state.offer:
        return _agree(current, state, given, events, tr)
    if "ideas" in state.offer:
        return _approve(current, state, given, events, tr)
    parsed = vote.KIND.parse(current, given, tr)
    shown = vote.pair_prompt(current, state.offer, tr)
    if isinstance(parsed, Rejected):
        events.append(Say(parsed.reason, step_id=current.id, buttons=shown.buttons,
                          kind="reprompt"))
        return state, events
    a, b = int(state.offer["a"]), int(state.offer["b"])
    pick = str(parsed.value)
    winner = {"a": a, "b": b}.get(pick)
    if state.consented:
        events.append(VoteCast(current.id, a, b, winner))  # a report skips the pair
        if pick.startswith("flag_"):
            events.append(IdeaFlagged(current.id, a if pick == "flag_a" else b))
    return _next_item(current, state, events, tr)


def _agree(
    current: Step, state: RunState, given: Text | Press, events: list[Event], tr: Translator
) -> Result:
    assert state.offer is not None
    pick = vote.agree_pick(given, tr)
    if pick is None:
        events.append(Say(tr.gettext(texts.AGREE_SORRY), step_id=current.id,
                          buttons=vote.shown(current, state.offer, tr).buttons,
                          kind="reprompt"))
        return state, events
    idea_id = int(state.offer["idea"])
    if state.consented:
        events.append(AgreeCast(current.id, idea_id, "pass" if pick == "flag" else pick))
        if pick == "flag":
            events.append(IdeaFlagged(current.id, idea_id))
    return _next_item(current, state, events, tr)


def _approve(
    current: Step, state: RunState, given: Text | Press, events: list[Event], tr: Translator
) -> Result:
    assert state.offer is not None
    listed = [int(i) for i, _text in state.offer["ideas"]]
    chosen = vote.approve_pick(current, state.offer, given)
    if chosen is None:
        k = vote.picks(current)
        sorry = fill(texts.plural(tr, texts.APPROVE_SORRY, k), k=k, last=len(listed))
        events.append(Say(sorry, step_id=current.id, kind="reprompt",
                          buttons=vote.shown(current, state.offer, tr).buttons, multiple=k > 1))
        return state, events
    if state.consented:
        picked = tuple(listed[n - 1] for n in chosen)
        events.append(ApproveCast(current.id, tuple(listed), picked))
    return _next_item(current, state, events, tr)


def _next_item(current: Step, state: RunState, events: list[Event], tr: Translator) -> Result:
    """After an answer: "more?" every ``votes`` items, else ask for the next one."""
    cast = state.cast + 1
    last = dict(state.offer or {})
    if cast % (current.votes or vote.DEFAULT_VOTES) == 0:
        events.append(_more(current, cast, tr))
        return state.evolve(cast=cast, offer=None, last=last, asking_more=True), events
    events.append(PairWanted(current.id))
    return state.evolve(cast=cast, offer=None, last=last), events


def _undo(current: Step, state: RunState, events: list[Event], tr: Translator) -> Result:
    """Take back the last vote and show its pair again; once, there is no longer history."""
    if not state.last:
        events.append(Say(tr.gettext(texts.VOTE_NOTHING_TO_UNDO), step_id=current.id,
                          kind="reprompt"))
        events.append(_question(state, current, tr))
        return state, events
    if state.consented:
        if "ideas" in state.last:
            listed = tuple(int(i) for i, _text in state.last["ideas"])
            events.append(VoteUndone(current.id, listed[0], None, listed))
        elif "idea" in state.last:
            events.append(VoteUndone(current.id, int(state.last["idea"]), None))
        else:
            events.append(VoteUndone(current.id, int(state.last["a"]), int(state.last["b"])))
    events.append(Say(tr.gettext(texts.VOTE_UNDONE), step_id=current.id, kind="info"))
    moved = state.evolve(
        offer=state.last, last=None, cast=max(state.cast - 1, 0), asking_more=False
    )
    events.append(vote.shown(current, state.last, tr))
    return moved, events


def _restore_profile(
    state: RunState, previous: Step, events: list[Event]
) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    """Undo what answering ``previous`` did to the profile: an answer that is taken back
    must not keep steering branches (or be skipped over and left standing)."""
    before = state.overwritten.get(previous.id)
    if before is None or not previous.profile:
        return state.profile, state.overwritten
    profile = dict(state.profile)
    if before["had"]:
        profile[previous.profile] = before["value"]
        events.append(ProfileSaved(previous.profile, before["value"]))
    else:
        profile.pop(previous.profile, None)
        events.append(ProfileRemoved(previous.profile))
    overwritten = {k: v for k, v in state.overwritten.items() if k != previous.id}
    return profile, overwritten


def _language(
    flow: Flow,
    state: RunState,
    given: Input,
    is_lang: bool,
    requested: str | None,
    tr: Translator,
    localiser: Localiser | None,
) -> Result | None:
    """``/lang``, ``/lang NAME`` or the pick after the menu; ``None`` when the input is no
    language at all after the menu, so it is taken as what it is (an answer, perhaps)."""
    events: list[Event] = []
    if localiser is None or len(localiser.languages()) < 2:
        events.append(Say(tr.gettext(language.LANG_ONLY_ONE), kind="info"))
        _ask_again(flow, state, events, tr)
        return state.evolve(choosing_language=False), events
    if is_lang and requested is None:
        events.append(language.menu(localiser, tr))
        return state.evolve(choosing_language=True), events
    code = language.chosen(given if requested is None else requested, localiser)
    if code is None:
        if not is_lang:
            return None
        events.append(language.menu(localiser, tr, sorry=True))
        return state.evolve(choosing_language=True), events
    events.append(LanguageChosen(code))
    moved = state.evolve(language=code, choosing_language=False)
    _ask_again(localiser.flow(code), moved, events, localiser.translator(code))
    return moved, events


def _ask_again(flow: Flow, state: RunState, events: list[Event], tr: Translator) -> None:
    """The open question again (in ``tr``'s language), or where the run stands if ended."""
    if state.status == "active" and state.step is not None:
        events.append(_question(state, flow.step(state.step), tr))
    else:
        message = texts.ALREADY_DECLINED if state.status == "declined" else texts.ALREADY_FINISHED
        events.append(Say(tr.gettext(message), kind="info"))


def _reprompt(current: Step, reason: str, tr: Translator) -> Say:
    """The reason, with the question's buttons again so the participant can just tap."""
    asked = KINDS[current.type].prompt(current, tr)
    return Say(
        text=reason,
        step_id=current.id,
        buttons=asked.buttons,
        kind="reprompt",
        multiple=asked.multiple,
    )


def _advance(
    flow: Flow, state: RunState, target: str | None, events: list[Event], tr: Translator
) -> RunState:
    """Walk through steps that need no input until a question waits or the run ends."""
    hops = 0
    while target is not None:
        hops += 1
        if hops > 2 * len(flow.steps) + 2:
            raise EngineError(f"flow {flow.id!r} loops without reaching a question (at {target!r})")
        current = flow.step(target)
        kind = KINDS[current.type]
        if isinstance(kind, BranchKind):
            target = kind.route(flow, current, state.answers, state.profile)
            continue
        if current.type == "message":
            events.append(kind.prompt(current, tr))
            target = flow.following(current)
            continue
        if current.type == "end":
            events.append(kind.prompt(current, tr))
            break
        if current.type == "vote":  # the caller picks the pair and calls offer()
            events.append(PairWanted(current.id))
            return state.evolve(step=current.id, offer=None, cast=0, asking_more=False)
        events.append(kind.prompt(current, tr))
        return state.evolve(step=current.id)
    events.append(RunEnded("finished"))
    return state.evolve(step=None, status="finished")
