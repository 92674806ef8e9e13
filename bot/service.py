"""The unit of work around the engine: load state, step the engine, persist, enqueue.

One inbound message's changes commit together or not at all: the processed-input key,
the new run state, the answers, profile and consent changes, and the outgoing messages
(outbox rows). A busy webhook commits several inputs in one transaction
(:meth:`Service.handle_many`); if any fails, the batch is rolled back and each input is
applied again alone, so an input is never half applied. A redelivered message (same
channel and platform id) changes nothing. Nothing is sent here; senders drain the outbox.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections import Counter, deque
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from bot import closing, engine
from bot.abuse import Guard, flood_storage
from bot.channels.base import Inbound, Outbound
from bot.clock import Clock, IdFactory, random_id, utc_now
from bot.edge import Edge
from bot.engine import (
    AgreeCast,
    AnswerRemoved,
    AnswerSaved,
    ApproveCast,
    Button,
    ConsentGiven,
    Event,
    Flow,
    IdeaFlagged,
    IdeaSubmitted,
    IdeaWithdrawn,
    Input,
    LanguageChosen,
    PairWanted,
    Press,
    ProfileRemoved,
    ProfileSaved,
    RunEnded,
    RunState,
    Say,
    Start,
    Step,
    Text,
    VoteCast,
    VoteUndone,
)
from bot.engine import texts as engine_texts
from bot.engine.language import asked_for as language_asked
from bot.engine.texts import Translator
from bot.i18n import translator
from bot.languages import hints_from_phone, resolve
from bot.moderation import rejection_notice, screen
from bot.pseudonyms import Pseudonyms
from bot.registry import FlowRegistry
from bot.rights import texts as rights_texts
from bot.schedule import texts as schedule_texts
from bot.schedule.phases import waiting_note
from bot.voting.exposure import next_pair
from bot.voting.scores import decided_matrix, strengths
from storage import UnitOfWork
from storage.models import Invite, Run
from storage.repositories.outbox import Due
from storage.repositories.outreach import Member
from storage.repositories.participants import Known
from storage.repositories.runs import CurrentRun

__all__ = ["WINDOWED", "Handled", "Service"]

FLOW_CHOICE = "flow:"
"""The payload prefix of the buttons that pick a flow (several flows, no invite)."""
_CODE = re.compile(r"[A-Za-z0-9_-]{6,64}")
"""What an invite code typed as a first message looks like (see ``kolot invite``)."""

WINDOWED = frozenset({"whatsapp"})
"""Channels on which we may write freely only for a while after the participant wrote."""


@dataclass(frozen=True)
class Handled:
    """What one inbound did: ``duplicate`` when it had been applied before."""

    duplicate: bool
    messages: Sequence[Outbound] = field(default_factory=tuple)
    flow_sha256: str | None = None
    run_status: str | None = None
    taken: Sequence[Due] = field(default_factory=tuple)
    """With ``take_sent``: the address's outbox rows, marked sent in the same commit."""


class AdminDesk(Protocol):
    """What the service asks of the admin commands: to answer an input itself, inside the
    input's transaction (an admin's command, a tap on an admin's buttons), or ``None``
    when it is not theirs, for the ordinary participant behaviour."""

    def take(self, uow: UnitOfWork, inbound: Inbound, now: datetime) -> Handled | None: ...


class Service:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        flows: FlowRegistry,
        *,
        clock: Clock = utc_now,
        new_id: IdFactory = random_id,
        pseudonyms: Pseudonyms | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.flows = flows
        self.clock = clock
        self.new_id = new_id
        self.pseudonyms = pseudonyms
        """The deployment's keyed pseudonyms; without them (tests), ``new_id`` draws one."""
        self.rng = rng or random.Random()
        self.default_flow: str | None = None
        """With several flows: the one a newcomer without an invite starts (none: they
        choose among the open flows)."""
        self.admin: AdminDesk | None = None
        self.abuse: Guard | None = None
        """Flood and length limits (:meth:`limit_abuse`); ``None``: nothing is limited."""
        """Admins' commands in the chat (:mod:`bot.admin`); others never reach it."""

    def handle(
        self, inbound: Inbound, flow_id: str | None, *, take_sent: bool = False
    ) -> Handled:
        """Apply one inbound message in one transaction.

        ``take_sent`` is for a channel that shows messages synchronously in this process
        (the console): this input's messages are written to the outbox as sent, after any
        of the participant's rows still pending there (taken as sent too), and all are
        returned in ``Handled.taken``, saving a sender's transaction per input. The
        caller shows them and, if that fails, puts them back with
        :func:`bot.outbox.release`.
        """
        now = self.clock()
        try:
            with UnitOfWork(self.session_factory) as uow:
                handled = self._take(uow, inbound, flow_id, take_sent, now)
                if not handled.duplicate:
                    uow.commit()
                return handled
        except BaseException:
            self.flows.forget_uncommitted()
            raise

    def handle_many(
        self, inbounds: Sequence[tuple[Inbound, str | None]]
    ) -> list[Handled | Exception]:
        """Apply several inputs (each with its flow id) in one transaction: one commit for
        all, which is most of what an input costs on SQLite. Each input is still applied
        once and in order for its participant; the result of each is known only after
        the commit. If any input fails, the whole batch is rolled back and every input is
        applied again on its own, so one bad input costs the others nothing but time.
        """
        if len(inbounds) == 1:
            try:
                return [self.handle(*inbounds[0])]
            except Exception as exc:
                return [exc]
        now = self.clock()
        # One participant's inputs keep their order; people are taken in address order, so
        # two batches on PostgreSQL lock participants in the same order and never deadlock.
        order = sorted(range(len(inbounds)),
                       key=lambda n: (inbounds[n][0].channel, inbounds[n][0].address))
        try:
            with UnitOfWork(self.session_factory) as uow:
                results: list[Handled | Exception] = list(range(len(inbounds)))  # type: ignore[arg-type]
                for n in order:
                    inbound, flow_id = inbounds[n]
                    results[n] = self._take(uow, inbound, flow_id, False, now)
                uow.commit()
                return results
        except Exception:
            self.flows.forget_uncommitted()
        alone: list[Handled | Exception] = []
        for inbound, flow_id in inbounds:
            try:
                alone.append(self.handle(inbound, flow_id))
            except Exception as exc:
                alone.append(exc)
        return alone

    def _take(
        self, uow: UnitOfWork, inbound: Inbound, flow_id: str | None, take_sent: bool,
        now: datetime,
    ) -> Handled:
        """One input inside the caller's transaction; the caller commits.

        ``flow_id=None``: a deployment of several flows; the input goes to the flow of the
        invite it carries, else of the participant's newest run, else the one they pick
        from the open flows offered (see :meth:`_route`)."""
        if self.admin is not None:
            answered = self.admin.take(uow, inbound, now)
            if answered is not None:
                return answered
        run: Run | CurrentRun | None = None
        created: dict[str, Any] | None = None
        held = False
        turn = uow.runs.turn(
            inbound.channel, inbound.address, flow_id, lock=True, held=take_sent
        )
        if turn is not None:
            participant, run, held = turn
        else:
            # A redelivered first message must not bring back a participant who has
            # since been deleted: look the input up before creating anyone.
            if uow.inputs.seen(inbound.channel, inbound.platform_id):
                return Handled(duplicate=True)
            participant = uow.participants.enrol(
                inbound.channel, inbound.address, now=now,
                pseudonym_factory=self.pseudonym_of(inbound.channel, inbound.address),
                looked_up=True,
            )
        if not uow.inputs.record(inbound.channel, inbound.platform_id, participant.id, now=now):
            return Handled(duplicate=True)
        if participant.erasing:  # erased at their request: only the farewell is left to send
            return Handled(False)
        if inbound.channel in WINDOWED:
            uow.participants.heard_from(participant.id, now=now)
        abuse = self.abuse
        if abuse is not None:
            screened, notices = abuse.screen(uow, inbound, participant.id,
                                             _language_of(run, participant), now)
            if screened is None:  # a flood: recorded as taken, not applied
                return Handled(False, notices, None, run.status if run else None)
            inbound = screened  # an overlong text cut
        if not participant.stopped:  # whether to hear about future processes
            answered = closing.take_answer(uow, inbound, participant.id, participant.language,
                                           now)
            if answered is not None:
                return answered
        edge = Edge(uow, inbound, participant, _language_of(run, participant), now,
                     self.flows)
        given = edge.input()
        if given is None:  # answered at the edge: a stop, a toggle; the run is untouched
            taken = uow.outbox.take_sent(inbound.channel, inbound.address, now=now) \
                if take_sent else []
            if edge.erased and take_sent:  # shown here and now: nothing is left to send
                uow.personal.finish_erasures([participant.id])
            return Handled(False, edge.messages, None, run.status if run else None, taken)
        invite = self._invite(uow, inbound, given)
        source = invite.source if invite is not None else inbound.start_payload
        if source and participant.source is None:
            uow.participants.set_source(participant.id, source, now=now)
        routed = self._route(uow, inbound, participant, run, given, invite, flow_id, now, edge)
        if routed is None:  # a choice of flows offered, or a closed circle explained
            return Handled(False, edge.messages, None, None)
        target, run, given = routed
        if (
            run is None
            or (isinstance(given, Start) and run.status in ("declined", "abandoned"))
            or engine.command_of(given, translator(run.state.get("language"))) == "restart"
        ):
            if run is not None and run.status == "active":
                uow.runs.save(run, run.state, "abandoned", now=now)
            flow = closing.as_closed(uow, self.flows.current(target))
            # A hint (the client's interface language, the console's --lang) counts
            # only where the participant has not chosen and the flow speaks it.
            language = resolve(
                flow.languages,
                flow.default_language,
                chosen=participant.language,
                hints=_hints(inbound),
            )
            tr = translator(language)
            localised = self.flows.localised(flow, language)
            state, events = engine.start(
                localised,
                now,
                language=language,
                profile=participant.profile,
                tr=tr,
            )
            state, events = _gated(flow, state, events, now, tr, localised)
            created = state.to_json()
            run = uow.runs.start(
                participant.id,
                flow.id,
                self.flows.definition_id(uow, flow, now=now),
                created,
                state.status,
                now=now,
                circle=invite.circle if invite is not None else None,
                source=source,
            )
        else:
            flow = closing.as_closed(
                uow, self.flows.by_sha(uow, str(run.state.get("flow_sha256", ""))))
            before = RunState.from_json(run.state)
            tr = translator(before.language)
            waiting = None if _passes(given, tr) or before.status != "active" else \
                waiting_note(flow, before.step, now, before.language, tr)
            reconsent = self._consent_changed(uow, participant.id, run, flow, before, given,
                                              now)
            if reconsent is not None:
                state, events = reconsent
            elif waiting is not None and _phase_over(flow, before, now):
                # Its phase ended while they waited: on to what is open now (the input
                # was meant for that question, so it answers nothing).
                state, events = _gated(flow, before, [], now, tr,
                                       self.flows.localised(flow, before.language))
            elif waiting is not None:  # its phase is not open: nothing is taken as an answer
                state, events = before, [Say(waiting, kind="info")]
            else:
                state, events = engine.step(
                    self.flows.localised(flow, before.language),
                    before,
                    given,
                    now,
                    tr=tr,
                    localiser=self.flows.localiser(flow),
                )
                state, events = _gated(flow, state, events, now, translator(state.language),
                                       self.flows.localised(flow, state.language))

        taken = uow.outbox.take_sent(inbound.channel, inbound.address, now=now) if held else []
        shown = taken if take_sent else None
        consented = next((e.text_sha256 for e in events if isinstance(e, ConsentGiven)), None)
        messages = edge.messages + self._apply(
            uow, inbound, participant, run, flow, state, events, now, shown
        )
        for _ in range(3):  # a vote step wants its next pair (after this vote is stored)
            if not events or not isinstance(events[-1], PairWanted):
                break
            localised = self.flows.localised(flow, state.language)
            pair = self._pick(uow, flow, flow.step(events[-1].step_id), participant.id)
            state, events = engine.offer(
                localised, state, pair, tr=translator(state.language)
            )
            messages += self._apply(
                uow, inbound, participant, run, flow, state, events, now, shown
            )
        final = state.to_json()
        if final != created:  # a run created just now is saved already, unless it moved on
            uow.runs.save(run, final, state.status, now=now, consent=consented)
        return Handled(False, messages, flow.sha256, state.status, taken)

    def prompt(
        self,
        uow: UnitOfWork,
        member: Member,
        *,
        lead: str | None,
        jump_to: str | None,
        purpose: str,
        now: datetime,
        due: datetime,
    ) -> int:
        """Write to a participant unasked, inside the caller's transaction: ``lead`` (an
        announcement, a reminder), then the open question again, or the step ``jump_to``
        (a phase invites them to its vote). Returns how many messages were queued."""
        flow = self.flows.by_sha(uow, str(member.state.get("flow_sha256", "")))
        state = RunState.from_json(member.state)
        tr = translator(state.language)
        localised = self.flows.localised(flow, state.language)
        inbound = Inbound(member.channel, member.address, "scheduler")
        participant = Known(member.participant_id, state.language, dict(state.profile))
        run = CurrentRun(member.run_id, member.status, member.state, member.finished_at)
        events: list[Event] = [Say(lead, kind="info")] if lead else []
        if jump_to is not None:
            state, more = engine.jump(localised, state, jump_to, tr=tr)
        else:
            state, more = engine.ask(localised, state, tr=tr)
        events += more
        sent = self._apply(uow, inbound, participant, run, flow, state, events, now, None,
                           purpose=purpose, due=due)
        for _ in range(3):
            if not events or not isinstance(events[-1], PairWanted):
                break
            pair = self._pick(uow, flow, flow.step(events[-1].step_id), participant.id)
            state, events = engine.offer(localised, state, pair, tr=tr)
            sent += self._apply(uow, inbound, participant, run, flow, state, events, now, None,
                                purpose=purpose, due=due)
        if state.to_json() != member.state or purpose == "announcement":
            # A phase that opens counts as the run's activity: its question was just asked,
            # and the inactivity nudges count from here (a reminder does not reset them).
            uow.runs.save(run, state.to_json(), state.status, now=now)
        return len(sent)

    def delivery(
        self, platform_id: str, status: str, error: str | None, held: str | None = None
    ) -> bool:
        """The platform's later report on a message we sent (see
        ``OutboxRepository.report_delivery``); returns whether the message is ours."""
        with UnitOfWork(self.session_factory) as uow:
            known = uow.outbox.report_delivery(platform_id, status, error, held)
            uow.commit()
            return known

    def pseudonym_of(self, channel: str, address: str) -> IdFactory:
        """What enrolling ``address`` draws its pseudonym from: the keyed hash of the
        address, or ``new_id`` where no key is given."""
        if self.pseudonyms is None:
            return self.new_id
        return self.pseudonyms.at(channel, address)

    def limit_abuse(
        self, rate: str | None, storage_url: str | None = None, *,
        exempt: Collection[tuple[str, str]] = (),
    ) -> None:
        """From now on, hold participants to :mod:`bot.abuse`'s limits: one who sends more
        than ``rate`` (``KOLOT_FLOOD_RATE``; ``None``: no limit) has the excess recorded but
        not applied, with one notice a flood; an overlong text is cut, with a notice.
        ``storage_url`` is ``KOLOT_RATE_LIMIT_URL`` (Redis: every web process counts a
        participant together; none: this process alone); ``exempt``: who is never held
        back (the admins). Without this call nothing is limited."""
        self.abuse = Guard(flood_storage(storage_url), exempt=exempt, rate=rate)

    def sending(self, channel: str) -> bool:
        """Whether any message on the channel is being sent (claimed, its platform id not
        written yet): a delivery report for an unknown id may be for one of those."""
        with UnitOfWork(self.session_factory) as uow:
            return uow.outbox.sending(channel)

    def _invite(self, uow: UnitOfWork, inbound: Inbound, given: Input) -> Invite | None:
        """The invite an input carries: a deep link's start payload, or (on channels
        without one) a first message that is just the code."""
        code = inbound.start_payload
        if code is None and isinstance(given, Text) and inbound.channel != "telegram":
            typed = given.text.strip()
            if _CODE.fullmatch(typed):
                code = typed
        return uow.invites.get(code) if code else None

    def _route(
        self,
        uow: UnitOfWork,
        inbound: Inbound,
        participant: Known,
        run: Run | CurrentRun | None,
        given: Input,
        invite: Invite | None,
        flow_id: str | None,
        now: datetime,
        edge: Edge,
    ) -> tuple[str, Run | CurrentRun | None, Input] | None:
        """Which flow the input is for, that flow's run of the participant, and the input
        (an invite code arrives as a start). ``None`` when the answer is given here."""
        if invite is not None:
            target: str | None = invite.flow_id
            given = Start(inbound.start_payload or invite.code)
        elif run is not None:
            target = flow_id or str(run.state.get("flow_id"))
        else:
            target = flow_id or self.default_flow or self._picked(uow, participant, inbound,
                                                                   given)
            if target is None:
                choices = self._open_flows(now)
                if len(choices) == 1:
                    target = choices[0].id
                else:
                    edge.say(self._menu(choices, participant, inbound))
                    return None
            else:
                given = Start(None) if not isinstance(given, Start) else given
        assert target is not None
        if run is not None and str(run.state.get("flow_id")) != target:
            run = uow.runs.current(participant.id, target)
        if run is None and self.flows.current(target).outreach.access == "closed" \
                and (invite is None or invite.flow_id != target):
            language = participant.language or inbound.language_hint
            edge.say(Outbound(translator(language).gettext(schedule_texts.CLOSED_CIRCLE),
                              language=language))
            return None
        return target, run, given

    def _open_flows(self, now: datetime) -> list[Flow]:
        """The flows a newcomer without an invite may start: open to all, not over."""
        flows = [self.flows.current(i) for i in self.flows.ids()]
        return [f for f in flows if f.outreach.access == "open" and not f.outreach.over(now)]

    def _menu(self, flows: Sequence[Flow], participant: Known, inbound: Inbound) -> Outbound:
        language = participant.language or inbound.language_hint
        tr = translator(language)
        buttons = tuple(
            Button(f"{FLOW_CHOICE}{flow.id}",
                   self.flows.localised(flow, language).title
                   if language in flow.languages else flow.title)
            for flow in flows
        )
        return Outbound(tr.gettext(schedule_texts.CHOOSE_FLOW), buttons, kind="question",
                        hint=tr.gettext(engine_texts.HINT_CHOICE), language=language)

    def _picked(
        self, uow: UnitOfWork, participant: Known, inbound: Inbound, given: Input
    ) -> str | None:
        """The flow picked from the menu: its button, or its number or title typed."""
        if isinstance(given, Press) and given.payload.startswith(FLOW_CHOICE):
            picked = given.payload.removeprefix(FLOW_CHOICE)
            return picked if picked in self.flows.ids() else None
        live = uow.outbox.live_keyboard(participant.id, inbound.channel)
        if live is None or not isinstance(given, Text):
            return None
        menu = Outbound.from_payload(live[1])
        if not menu.buttons or not menu.buttons[0].payload.startswith(FLOW_CHOICE):
            return None
        typed = given.text.strip().casefold()
        for n, button in enumerate(menu.buttons, start=1):
            if typed in (str(n), button.label.casefold()):
                picked = button.payload.removeprefix(FLOW_CHOICE)
                return picked if picked in self.flows.ids() else None
        return None

    def reachable(
        self, channel: str, address: str, platform_id: str, reachable: bool
    ) -> bool:
        """The platform says whether messages reach the participant (they blocked the bot,
        or unblocked it). Applied once per ``platform_id``; someone never met is not
        created. Returns whether it changed anything."""
        now = self.clock()
        with UnitOfWork(self.session_factory) as uow:
            participant = uow.participants.known(channel, address)
            pid = participant.id if participant is not None else None
            if not uow.inputs.record(channel, platform_id, pid, now=now):
                return False
            if participant is not None:
                reason = None if reachable else "the participant blocked the bot"
                uow.participants.set_unreachable([participant.id], reason, now=now)
            uow.commit()
            return participant is not None

    def _pick(
        self, uow: UnitOfWork, flow: Flow, step: Step, participant_id: int
    ) -> tuple[int, str, int, str] | tuple[int, str] | list[tuple[int, str]] | None:
        """The next pair of the step's pool for this participant (see bot.voting.exposure).

        Strengths and appearances come from all the flow's votes, read on every pick:
        right for the small processes this serves now; a large one will want them cached.
        """
        ideas = uow.ideas.pool(flow.id, step.pool or "")
        if step.method == "agree":
            return self._pick_one(uow, flow, ideas, participant_id)
        if step.method == "approve":
            return self._pick_list(uow, flow, ideas, participant_id, step.show or 5)
        if len(ideas) < 2:
            return None
        index = {idea_id: n for n, (idea_id, _author, _text) in enumerate(ideas)}
        own = [index[i] for i, author, _text in ideas if author == participant_id]
        seen = [
            (index[a], index[b])
            for a, b in uow.votes.seen_by(flow.id, participant_id)
            if a in index and b in index
        ]
        wins = decided_matrix(len(ideas), uow.votes.decided(flow.id), index)
        shown = wins.sum(axis=0) + wins.sum(axis=1)
        picked = next_pair(shown, strengths(wins), own=own, seen=seen, rng=self.rng)
        if picked is None:
            return None
        (a_id, _, a_text), (b_id, _, b_text) = ideas[picked[0]], ideas[picked[1]]
        return a_id, a_text, b_id, b_text

    def _pick_one(
        self,
        uow: UnitOfWork,
        flow: Flow,
        ideas: list[tuple[int, int | None, str]],
        participant_id: int,
        also_seen: Collection[int] = (),
    ) -> tuple[int, str] | None:
        """One idea to agree with or not: never the participant's own or one seen before;
        the least shown likeliest, as in bot.voting.exposure."""
        seen = uow.votes.agreed_by(flow.id, participant_id) | set(also_seen)
        open_ = [(i, text) for i, author, text in ideas if author != participant_id
                 and i not in seen]
        if not open_:
            return None
        shown = Counter(idea for idea, _choice, _profile in uow.votes.agree_rows(flow.id))
        weights = [1.0 / (shown[i] + 1) for i, _text in open_]
        return self.rng.choices(open_, weights=weights)[0]

    def _pick_list(
        self,
        uow: UnitOfWork,
        flow: Flow,
        ideas: list[tuple[int, int | None, str]],
        participant_id: int,
        size: int,
    ) -> list[tuple[int, str]] | None:
        """Up to ``size`` unseen ideas that aren't the participant's, least shown first."""
        picked: list[tuple[int, str]] = []
        while len(picked) < size:
            one = self._pick_one(uow, flow, ideas, participant_id,
                                 also_seen={i for i, _ in picked})
            if one is None:
                break
            picked.append(one)
        return picked if len(picked) >= 2 else None

    def _apply(
        self,
        uow: UnitOfWork,
        inbound: Inbound,
        participant: Known,
        run: Run | CurrentRun,
        flow: Flow,
        state: RunState,
        events: list[Event],
        now: datetime,
        shown: list[Due] | None,
        *,
        purpose: str | None = None,
        due: datetime | None = None,
    ) -> list[Outbound]:
        """Carry out the engine's events; ``shown`` collects messages written as sent.
        ``purpose`` and ``due``: messages we write unasked (a phase opened, a reminder),
        sent once quiet hours are over."""
        messages: list[Outbound] = []
        queue = deque(events)  # handling an event may add one: a rejection notice
        while queue:
            event = queue.popleft()
            if isinstance(event, Say):
                message = replace(Outbound.from_say(event, state.language), purpose=purpose)
                messages.append(message)
                payload = message.to_payload()
                row_id = uow.outbox.enqueue(
                    participant.id,
                    inbound.channel,
                    inbound.address,
                    payload,
                    now=now,
                    sent=shown is not None,
                    due=due,
                )
                if shown is not None:
                    shown.append(Due(row_id, inbound.address, payload))
            elif isinstance(event, AnswerSaved):
                uow.answers.put(
                    run.id, participant.id, flow.id, event.step_id, event.value, now=now
                )
            elif isinstance(event, AnswerRemoved):
                uow.answers.remove(run.id, event.step_id)
            elif isinstance(event, ProfileSaved):
                participant.profile[event.field] = event.value
                uow.participants.set_profile(participant.id, participant.profile, now=now)
            elif isinstance(event, ProfileRemoved):
                participant.profile.pop(event.field, None)
                uow.participants.set_profile(participant.id, participant.profile, now=now)
            elif isinstance(event, VoteCast):
                uow.votes.record_pair(
                    flow.id, participant.id, (event.a, event.b), event.winner, now=now
                )
            elif isinstance(event, VoteUndone):
                if event.others:
                    for idea_id in event.others:
                        uow.votes.undo_agree(flow.id, participant.id, idea_id)
                elif event.b is None:
                    uow.votes.undo_agree(flow.id, participant.id, event.a)
                else:
                    uow.votes.undo_pair(flow.id, participant.id, (event.a, event.b))
            elif isinstance(event, ApproveCast):
                for idea_id in event.shown:
                    choice = "approve" if idea_id in event.picked else "skip"
                    uow.votes.record_agree(flow.id, participant.id, idea_id, choice, now=now)
            elif isinstance(event, AgreeCast):
                uow.votes.record_agree(flow.id, participant.id, event.idea, event.choice, now=now)
            elif isinstance(event, IdeaFlagged):
                uow.ideas.flag(event.idea, hide_at=flow.flags_to_hide, now=now)
            elif isinstance(event, IdeaWithdrawn):
                uow.ideas.withdraw(flow.id, event.step_id, participant.id, event.text, now=now)
            elif isinstance(event, IdeaSubmitted):
                existing = uow.ideas.texts(flow.id, event.step_id)
                screened = screen(event.text, state.language, existing)
                status = "pending" if flow.moderation == "pre" else "approved"
                uow.ideas.add(
                    flow.id,
                    event.step_id,
                    participant.id,
                    event.text,
                    state.language,
                    status=status if screened.passed else "rejected",
                    now=now,
                    reason=screened.reason,
                )
                if screened.reason is not None:
                    notice = rejection_notice(
                        translator(state.language), event.text, screened.reason
                    )
                    queue.append(Say(notice, step_id=event.step_id, kind="info"))
            elif isinstance(event, LanguageChosen):
                uow.participants.set_language(participant.id, event.language, now=now)
            elif isinstance(event, ConsentGiven):
                uow.participants.set_consent(participant.id, event.text_sha256, now=now)
                self._keep_wording(uow, flow, state.language, event, now)
            elif isinstance(event, RunEnded):
                pass  # the run's status is saved with its state
        return messages


    def _keep_wording(self, uow: UnitOfWork, flow: Flow, language: str,
                      given: ConsentGiven, now: datetime) -> None:
        """The exact wording of the consent text agreed to, kept by its hash (once: the
        registry remembers what it kept, as it does definitions). The run's own record of
        the consent is written with its state (``RunRepository.save``)."""
        text = self.flows.localised(flow, language).step(given.step_id).text
        if _sha256(text) == given.text_sha256:
            self.flows.keep_consent_text(uow, given.text_sha256, text, flow_id=flow.id,
                                         language=language, now=now)

    def _consent_changed(
        self, uow: UnitOfWork, participant_id: int, run: Run | CurrentRun, flow: Flow,
        before: RunState, given: Input, now: datetime,
    ) -> tuple[RunState, list[Event]] | None:
        """The flow's consent text changed (a new version of the file) after this run's
        participant agreed: nothing more is taken from them until they agree to the new
        text. Asked once, before anything else; yes carries on where they were, no ends
        the run and deletes its answers. ``None`` when the consent stands."""
        if before.status != "active" or not before.consented or run.consent_sha256 is None:
            return None
        try:
            current = self.flows.current(flow.id)
        except LookupError:  # its file is gone: the run finishes on its own version
            return None
        if current.sha256 == flow.sha256 and run.consent_asked is None:
            return None  # the run's own version: the text it agreed to
        step = next((s for s in current.steps if s.type == "consent"), None)
        if step is None:
            return None
        localised = self.flows.localised(current, before.language)
        digest = _sha256(localised.step(step.id).text)
        if digest == run.consent_sha256:
            if run.consent_asked is not None:
                uow.consents.ask_again(run.id, None)
            return None
        tr = translator(before.language)
        probe = before.evolve(step=step.id, consented=False, history=())
        if run.consent_asked != digest:
            uow.consents.ask_again(run.id, digest)
            _, asked = engine.ask(localised, probe, tr=tr)
            return before, [Say(tr.gettext(rights_texts.CONSENT_CHANGED), kind="info"), *asked]
        _, answered = engine.step(localised, probe, given, now, tr=tr)
        agreed = next((e for e in answered if isinstance(e, ConsentGiven)), None)
        if agreed is not None:
            self._keep_wording(uow, current, before.language, agreed, now)
            uow.consents.agreed_in_run(run.id, digest, now=now)
            uow.participants.set_consent(participant_id, digest, now=now)
            _, again = engine.ask(self.flows.localised(flow, before.language), before, tr=tr)
            return before, [Say(tr.gettext(rights_texts.CONSENT_AGREED_AGAIN), kind="info"),
                            *again]
        if any(isinstance(e, RunEnded) for e in answered):
            uow.personal.forget_run(run.id)
            uow.consents.ask_again(run.id, None)
            ended = before.evolve(status="declined", step=None, answers={}, consented=False)
            return ended, [Say(tr.gettext(rights_texts.CONSENT_REFUSED_AGAIN), kind="info"),
                           RunEnded("declined")]
        return before, [e for e in answered if isinstance(e, Say)]  # asked again, politely


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _hints(inbound: Inbound) -> tuple[str | None, ...]:
    """The channel's hint first; a WhatsApp number's country after it, as the weakest."""
    if inbound.channel == "whatsapp":
        return (inbound.language_hint, *hints_from_phone(inbound.address))
    return (inbound.language_hint,)


def _passes(given: Input, tr: Translator) -> bool:
    """Commands work whatever the phase: /restart, /back, /help, /lang."""
    return engine.command_of(given, tr) is not None or language_asked(given, tr)[0]


def _gated(
    flow: Flow, state: RunState, events: list[Event], now: datetime, tr: Translator,
    localised: Flow,
) -> tuple[RunState, list[Event]]:
    """The question the run moved to is held back while its phase is not open: the
    participant hears when it opens instead (the scheduler asks it then). A question of
    a phase that is over is passed by, so someone who comes late takes part in the phase
    that is open now rather than waiting at one that will never open again."""
    for _ in range(len(flow.steps)):
        if not _phase_over(flow, state, now) or state.step is None:
            break
        following = flow.following(flow.step(state.step))
        if following is None:
            break
        passed = state.step
        events = [e for e in events if not isinstance(e, PairWanted)
                  and not (isinstance(e, Say) and e.step_id == passed and e.kind != "info")]
        state, more = engine.jump(localised, state, following, tr=tr)
        events = [*events, *more]
    if state.status != "active":
        return state, events
    note = waiting_note(flow, state.step, now, state.language, tr)
    if note is None:
        return state, events
    kept: list[Event] = [
        e for e in events
        if not isinstance(e, PairWanted)
        and not (isinstance(e, Say) and e.step_id == state.step and e.kind != "info")
    ]
    return state, [*kept, Say(note, kind="info")]


def _phase_over(flow: Flow, state: RunState, now: datetime) -> bool:
    """The run waits at a question of a phase that has ended, while the process goes on."""
    if state.status != "active" or state.step is None or flow.outreach.over(now):
        return False
    phase_id = flow.step(state.step).phase
    return phase_id is not None and now >= flow.outreach.phase(phase_id).ends


def _language_of(run: Run | CurrentRun | None, participant: Known) -> str | None:
    if run is not None and run.state.get("language"):
        return str(run.state["language"])
    return participant.language
