"""The unit of work around the engine: load state, step the engine, persist, enqueue.

One inbound message is one transaction: the processed-input key, the new run state, the
answers, profile and consent changes, and the outgoing messages (outbox rows) commit
together or not at all. A redelivered message (same channel and platform id) changes
nothing. Nothing is sent here; senders drain the outbox.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from bot import engine
from bot.channels.base import Inbound, Outbound
from bot.clock import Clock, IdFactory, random_id, utc_now
from bot.engine import (
    AnswerRemoved,
    AnswerSaved,
    Command,
    ConsentGiven,
    Event,
    Flow,
    Input,
    Press,
    ProfileSaved,
    RunEnded,
    RunState,
    Say,
    Start,
    Text,
)
from bot.i18n import translator
from bot.registry import FlowRegistry
from storage import UnitOfWork
from storage.models import Participant, Run

__all__ = ["Handled", "Service"]


@dataclass(frozen=True)
class Handled:
    """What one inbound did: ``duplicate`` when it had been applied before."""

    duplicate: bool
    messages: Sequence[Outbound] = field(default_factory=tuple)
    flow_sha256: str | None = None
    run_status: str | None = None


class Service:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        flows: FlowRegistry,
        *,
        clock: Clock = utc_now,
        new_id: IdFactory = random_id,
    ) -> None:
        self.session_factory = session_factory
        self.flows = flows
        self.clock = clock
        self.new_id = new_id

    def handle(self, inbound: Inbound, flow_id: str) -> Handled:
        now = self.clock()
        with UnitOfWork(self.session_factory) as uow:
            if uow.inputs.seen(inbound.channel, inbound.platform_id):
                return Handled(duplicate=True)
            participant = uow.participants.get_or_create(
                inbound.channel,
                inbound.address,
                now=now,
                pseudonym_factory=self.new_id,
                language=inbound.language_hint,
            )
            if not uow.inputs.record(inbound.channel, inbound.platform_id, participant.id, now=now):
                return Handled(duplicate=True)
            run = uow.runs.current(participant.id, flow_id)
            language = participant.language
            tr = translator(language)

            if run is None or inbound.command == "restart" or (
                inbound.command == "start" and run.status in ("declined", "abandoned")
            ):
                if run is not None and run.status == "active":
                    uow.runs.save(run, run.state, "abandoned", now=now)
                flow = self.flows.current(flow_id)
                state, events = engine.start(
                    flow, now, language=language, profile=participant.profile, tr=tr
                )
                run = uow.runs.create(
                    participant.id,
                    flow.id,
                    self.flows.definition_id(uow, flow, now=now),
                    state.to_json(),
                    state.status,
                    now=now,
                )
            else:
                flow = self.flows.by_sha(uow, str(run.state.get("flow_sha256", "")))
                before = RunState.from_json(run.state)
                state, events = engine.step(flow, before, _as_input(inbound), now, tr=tr)

            messages = self._apply(uow, participant, run, flow, state, events, now)
            uow.runs.save(run, state.to_json(), state.status, now=now)
            uow.commit()
            return Handled(False, messages, flow.sha256, state.status)

    def _apply(
        self,
        uow: UnitOfWork,
        participant: Participant,
        run: Run,
        flow: Flow,
        state: RunState,
        events: list[Event],
        now: datetime,
    ) -> list[Outbound]:
        messages: list[Outbound] = []
        for event in events:
            if isinstance(event, Say):
                message = Outbound.from_say(event)
                messages.append(message)
                uow.outbox.enqueue(
                    participant.id,
                    participant.channel,
                    participant.address,
                    message.to_payload(),
                    now=now,
                )
            elif isinstance(event, AnswerSaved):
                uow.answers.put(
                    run.id, participant.id, flow.id, event.step_id, event.value, now=now
                )
            elif isinstance(event, AnswerRemoved):
                uow.answers.remove(run.id, event.step_id)
            elif isinstance(event, ProfileSaved):
                participant.profile = {**(participant.profile or {}), event.field: event.value}
                participant.updated_at = now
            elif isinstance(event, ConsentGiven):
                participant.consent_at = now
                participant.consent_sha256 = event.text_sha256
                participant.updated_at = now
            elif isinstance(event, RunEnded):
                pass  # the run's status is saved with its state
        return messages


def _as_input(inbound: Inbound) -> Input:
    if inbound.command == "start":
        return Start(inbound.start_payload)
    if inbound.command in ("back", "skip"):
        return Command(inbound.command)
    if inbound.payload is not None:
        return Press(inbound.payload)
    return Text(inbound.text or "")
