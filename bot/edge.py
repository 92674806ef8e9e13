"""What an input asks of the channel rather than of the flow, decided before the engine:
``/stop`` and coming back, a participant's own data (``/mydata``) and its erasure
(``/delete``, confirmed), and taps checked against the newest buttons they were sent.

Everything is written to the outbox in the input's transaction, in order, before the
engine's messages (see :mod:`bot.service`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from functools import cached_property
from typing import Any

from bot import rights
from bot.channels import texts
from bot.channels.base import Inbound, Outbound, Tap
from bot.clock import random_id
from bot.engine import Command, Input, Press, Start, Text, Unreadable
from bot.engine import texts as engine_texts
from bot.engine.texts import Translator
from bot.i18n import translator
from bot.registry import FlowRegistry
from bot.rights import FAREWELL
from bot.rights import texts as rights_texts
from storage import UnitOfWork
from storage.repositories.participants import Known

__all__ = ["Edge"]


def _as_input(inbound: Inbound) -> Input:
    if inbound.command == "start":
        return Start(inbound.start_payload)
    if inbound.command in ("back", "skip", "restart", "help"):
        return Command(inbound.command)
    if inbound.unreadable is not None:
        return Unreadable(inbound.unreadable)
    if inbound.payload is not None:
        return Press(inbound.payload)
    return Text(inbound.text or "")


def _names(tap: Tap, row: int, platform_id: str | None) -> bool:
    """Whether a tap answers the newest buttons: by our row id, by the platform's id of
    the message, or, where the platform names no message, by being the newest."""
    if tap.row is not None:
        return tap.row == row
    return tap.message_ref is None or tap.message_ref == platform_id


class Edge:
    """What an input asks of the channel rather than of the flow, decided before the engine.

    ``/stop`` (and anything while stopped, except coming back with ``/start``) is answered
    here without touching the run. A tap is acknowledged, checked against the newest
    buttons the participant was sent (a tap on an older question is no answer, only a
    note), and its message edited to show the choice; a multiple choice still being picked
    only has its buttons redrawn. Everything is written to the outbox in the input's
    transaction, in order, before the engine's messages.
    """

    def __init__(
        self,
        uow: UnitOfWork,
        inbound: Inbound,
        participant: Known,
        language: str | None,
        now: datetime,
        flows: FlowRegistry,
    ) -> None:
        self.uow, self.inbound, self.participant, self.now = uow, inbound, participant, now
        self.language = language
        self.flows = flows
        self.messages: list[Outbound] = []
        self.erased = False

    def say(self, message: Outbound) -> None:
        self.messages.append(message)
        self.uow.outbox.enqueue(
            self.participant.id,
            self.inbound.channel,
            self.inbound.address,
            message.to_payload(),
            now=self.now,
        )

    @cached_property
    def live(self) -> tuple[int, dict[str, Any], str | None] | None:
        """The participant's newest message with buttons, read once per input."""
        return self.uow.outbox.live_keyboard(self.participant.id, self.inbound.channel)

    def input(self) -> Input | None:
        inbound, tap, tr = self.inbound, self.inbound.tap, translator(self.language)
        if tap is not None and tap.callback:
            self.say(Outbound("", action="answer", callback=tap.callback, despite_stop=True))
        if inbound.command == "mydata":
            self._my_data(tr)
            return None
        if inbound.command == "delete":
            self.say(rights.erase_question(tr, self.language))
            return None
        erase = self._erase_answer(tr)
        if erase:
            self._erase(tr)
            return None
        if erase is not None:
            self.say(Outbound(tr.gettext(rights_texts.DELETE_KEPT), language=self.language,
                              despite_stop=True))
            return None
        if inbound.command == "stop":
            if self.participant.stopped:
                return None  # confirmed once already: say nothing more
            self.uow.participants.set_stopped(self.participant.id, True, now=self.now)
            self.uow.outbox.cancel_pending(self.participant.id,
                                           "not sent: the participant sent /stop")
            self.say(Outbound(tr.gettext(texts.STOPPED), language=self.language,
                              despite_stop=True))
            return None
        if self.participant.stopped:
            if inbound.command != "start":
                self.say(Outbound(tr.gettext(texts.STILL_STOPPED), language=self.language,
                                  despite_stop=True))
                return None
            self.uow.participants.set_stopped(self.participant.id, False, now=self.now)
        if tap is None:
            return _as_input(inbound)
        live = self.live
        question = Outbound.from_payload(live[1]) if live is not None else None
        if (
            live is None
            or question is None
            or not _names(tap, live[0], live[2])
            or not all(0 <= n < len(question.buttons) for n in tap.picks)
            or (len(tap.picks) > 1 and not question.multiple)
        ):
            return Unreadable("stale")
        if not tap.final:
            self.say(replace(question, action="select", target_ref=tap.message_ref,
                             selected=tuple(sorted(set(tap.picks))), origin=tap.row))
            return None
        picked = [question.buttons[n] for n in sorted(set(tap.picks))]
        if picked and tap.message_ref and tap.edits:
            shown = "\n\n".join(filter(None, (question.text, "✓ " + ", ".join(
                b.label for b in picked))))
            self.say(Outbound(shown, action="edit", target_ref=tap.message_ref,
                              language=self.language, step_id=question.step_id))
        return Press(",".join(b.payload for b in picked))

    def _erase_answer(self, tr: Translator) -> bool | None:
        """The answer to the erasure question, if this input is one: a tap on its buttons
        (it must be the newest buttons), or the confirming word typed while it is."""
        inbound, tap = self.inbound, self.inbound.tap
        if tap is None and not (inbound.text is not None and inbound.text.strip().casefold()
                                in engine_texts.words(tr, rights_texts.DELETE_CONFIRM_WORDS)):
            return None
        live = self.live
        if live is None or not rights.asks_erasure(live[1]):
            return None
        if tap is None:  # typed: only right after the question, with nothing said since
            return live[0] == self.uow.outbox.newest(self.participant.id) or None
        if not _names(tap, live[0], live[2]) or len(tap.picks) != 1 or tap.picks[0] not in (0, 1):
            return None  # a stale tap: the ordinary path explains
        if tap.message_ref and tap.edits:  # the question shows the answer, its buttons go
            question = Outbound.from_payload(live[1])
            self.say(Outbound(f"{question.text}\n\n✓ {question.buttons[tap.picks[0]].label}",
                              action="edit", target_ref=tap.message_ref,
                              language=self.language, despite_stop=True))
        return tap.picks[0] == 0

    def _erase(self, tr: Translator) -> None:
        """Everything about them goes now but the row their farewell is sent from; the
        sender deletes that once the farewell has left (``bot.outbox.record``)."""
        said, self.messages = self.messages, []
        self.uow.personal.erase(self.participant.id, pseudonym=random_id(), now=self.now)
        self.erased = True
        for message in said:  # the tap's acknowledgement and answer went with the rest
            self.say(message)
        self.say(Outbound(tr.gettext(rights_texts.DELETED), kind=FAREWELL,
                          language=self.language, despite_stop=True))

    def _my_data(self, tr: Translator) -> None:
        data = self.uow.personal.gather(self.participant.id)
        language = self.language

        def describe(run: Mapping[str, Any]) -> tuple[str, rights.Question]:
            try:
                flow = self.flows.by_sha(self.uow, str(run.get("flow_sha256") or ""))
            except LookupError:
                return str(run.get("flow")), lambda step_id, value: (step_id, value)
            localised = self.flows.localised(flow, str(run.get("language") or language
                                                       or flow.default_language))
            steps = {step.id: step for step in localised.steps}

            def question(step_id: str, value: Any) -> tuple[str, Any]:
                """The question as they read it, and a choice's labels for its ids."""
                step = steps.get(step_id)
                if step is None:
                    return step_id, value
                labels = {option.id: option.label for option in step.options}
                if isinstance(value, list):
                    return step.text, [labels.get(v, v) for v in value]
                return step.text, labels.get(value, value) if isinstance(value, str) else value

            return localised.title, question

        self.say(rights.readable(data, tr, language, describe))
        self.say(rights.data_file(data, tr, language))
