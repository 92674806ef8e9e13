"""The admin desk: what an admin's input asks of Kolot, answered in the chat.

Admins are named in ``KOLOT_ADMINS`` by channel and address. For them, inside the input's
transaction (see :class:`bot.service.AdminDesk`):

* ``/stats [FLOW]``, ``/pending [FLOW]``, ``/results [FLOW]``, ``/broadcast [FLOW]``,
  ``/close PHASE [FLOW]``, and ``/help`` listing them; FLOW may be left out while one flow
  is deployed;
* a tap on the buttons of a message these sent (Approve, Reject, a broadcast file,
  Confirm, Cancel), and what the broadcast conversation waits for: the text of a new
  message, a number typed for a button (WhatsApp's numbered text).

Every command an admin sends, and every tap of theirs that changes something or shows
them participants' data (an idea moderated, a broadcast's audience counted, a broadcast
confirmed), is recorded in the audit trail (``uow.audit``, :meth:`Turn.audit`) in the
input's own transaction: who (the admin's ``channel:address``), what (``idea.approve``),
on what (``idea:12``), when. A tap that changes nothing (Cancel, a second tap on a
moderated idea, an expired confirmation) records nothing.

Everything else an admin sends, and everything anyone else sends, goes the ordinary
participant way (``take`` returns ``None``) and records nothing. Someone who is not an
admin sending an admin command is logged at WARNING with the command's name and the
channel only: never the address, the rest of the text, or anything the platform sent
with it. Their taps are not looked at: the admin's messages, and so their buttons, are in
the admin's chat alone.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection
from datetime import datetime
from pathlib import Path

from bot.admin import reports, texts
from bot.admin.broadcasting import CONFIRM, MENU, WRITE, Broadcasting
from bot.admin.ideas import KIND as IDEA
from bot.admin.ideas import moderate, pending
from bot.admin.turn import FRESH, Said, Turn, newest_said, tapped
from bot.channels.base import Inbound
from bot.closing import close_phase
from bot.engine import Flow
from bot.i18n import translator
from bot.service import WINDOWED, Handled, Service
from storage import UnitOfWork
from storage.models import Participant

__all__ = ["ACTIONS", "COMMANDS", "Desk"]

log = logging.getLogger("bot.admin")

COMMANDS = ("stats", "pending", "results", "broadcast", "close")
"""The admin commands (``/help`` too, for admins: it lists these)."""
ACTIONS = {"help": "help", "stats": "stats.show", "results": "results.show",
           "pending": "ideas.pending", "broadcast": "broadcast.write", "close": "phase.close"}
"""What each command is called in the audit trail (``/broadcast`` alone:
``broadcast.menu``)."""
_COMMAND = re.compile(r"/([A-Za-z_]{1,32})(?:@[A-Za-z0-9_]{1,64})?(?:\s+(.*))?", re.DOTALL)


class Desk:
    """The admin commands of one deployment (``Service.admin``)."""

    def __init__(self, service: Service, admins: Collection[tuple[str, str]], *,
                 broadcasts: Path = Path("broadcasts"), media: Path | None = None) -> None:
        self.service = service
        self.admins = frozenset(admins)
        self.broadcasting = Broadcasting(service, broadcasts)
        self.media = media
        """Where ``/close`` keeps the results charts (``KOLOT_MEDIA_DIR``); none: no chart."""

    def take(self, uow: UnitOfWork, inbound: Inbound, now: datetime) -> Handled | None:
        command = _command(inbound)
        if (inbound.channel, inbound.address) not in self.admins:
            if command is not None and command[0] in COMMANDS:
                log.warning("admin command /%s from a non-admin (%s)", command[0],
                            inbound.channel)
            return None
        if command is not None and command[0] in (*COMMANDS, "help"):
            return self._run(uow, inbound, now, *command)
        if command is not None or inbound.command is not None:
            return None  # /start, /stop, /back...: the participant's
        admin = uow.participants.get(inbound.channel, inbound.address)
        if admin is None:
            return None
        if inbound.tap is not None:
            return self._tap(uow, inbound, admin, now)
        if inbound.text:
            return self._typed(uow, inbound, admin, now, inbound.text)
        return None

    def _run(self, uow: UnitOfWork, inbound: Inbound, now: datetime, name: str,
             argument: str) -> Handled:
        admin = uow.participants.get(inbound.channel, inbound.address)
        if admin is None:
            uow.participants.enrol(
                inbound.channel, inbound.address, now=now,
                pseudonym_factory=self.service.pseudonym_of(inbound.channel, inbound.address))
            admin = uow.participants.get(inbound.channel, inbound.address)
            assert admin is not None  # just enrolled, in this transaction
        turn = self._turn(uow, inbound, admin, now)
        if turn is None:
            return _duplicate()
        words = argument.split()
        action = ACTIONS[name]
        if name == "help":
            turn.reply(turn.text(texts.HELP, flows=self._ids()))
            turn.audit(action)
        elif name == "broadcast" and not words:
            self.broadcasting.menu(turn)
            turn.audit("broadcast.menu")
        elif name == "close":
            self._close(turn, words)
        else:
            flow = self._flow(turn, name, words[0] if words else None)
            if flow is None:
                turn.audit(action, refused="flow")
            elif name == "stats":
                reports.stats(turn, flow)
                turn.audit(action, f"flow:{flow.id}")
            elif name == "results":
                reports.results(turn, flow)
                turn.audit(action, f"flow:{flow.id}")
            elif name == "pending":
                turn.audit(action, f"flow:{flow.id}", shown=pending(turn, flow))
            else:
                self.broadcasting.ask_text(turn, flow)
                turn.audit(action, f"flow:{flow.id}")
        return _handled(turn)

    def _tap(self, uow: UnitOfWork, inbound: Inbound, admin: Participant,
             now: datetime) -> Handled | None:
        tap = inbound.tap
        assert tap is not None
        said = tapped(uow, admin.id, inbound.channel, tap)
        if said is None:
            return None  # their own question as a participant
        buttons = said.message.buttons
        if len(tap.picks) != 1 or not 0 <= tap.picks[0] < len(buttons):
            return None
        return self._answer(uow, inbound, admin, now, said, buttons[tap.picks[0]].payload)

    def _typed(self, uow: UnitOfWork, inbound: Inbound, admin: Participant, now: datetime,
               text: str) -> Handled | None:
        """What the admin typed, where the newest admin message waits for it: a button's
        number or label, or the text of a broadcast."""
        said = newest_said(uow, admin.id, inbound.channel)
        if said is None or now - said.created_at > FRESH:
            return None
        typed = text.strip().casefold()
        for n, button in enumerate(said.message.buttons, start=1):
            if typed in (str(n), button.label.casefold()):
                return self._answer(uow, inbound, admin, now, said, button.payload)
        if said.state.get("do") != WRITE or not typed:
            return None
        turn = self._turn(uow, inbound, admin, now)
        if turn is None:
            return _duplicate()
        self.broadcasting.written(turn, said, text)
        return _handled(turn)

    def _answer(self, uow: UnitOfWork, inbound: Inbound, admin: Participant, now: datetime,
                said: Said, payload: str) -> Handled:
        turn = self._turn(uow, inbound, admin, now)
        if turn is None:
            return _duplicate()
        kind = said.state.get("do")
        if kind == IDEA:
            moderate(turn, said.state, payload)
        elif kind in (MENU, WRITE, CONFIRM):
            self.broadcasting.tapped(turn, said, payload)
        return _handled(turn)

    def _turn(self, uow: UnitOfWork, inbound: Inbound, admin: Participant,
              now: datetime) -> Turn | None:
        """The input claimed (``None``: it was applied before), and the turn answering it."""
        if not uow.inputs.record(inbound.channel, inbound.platform_id, admin.id, now=now):
            return None
        if inbound.channel in WINDOWED:
            uow.participants.heard_from(admin.id, now=now)
        language = admin.language or inbound.language_hint
        return Turn(uow, inbound, admin, now, translator(language), language)

    def _flow(self, turn: Turn, command: str, named: str | None) -> Flow | None:
        """The flow a command names, or the only one; else say which there are."""
        ids = self.service.flows.ids()
        if named is None:
            if len(ids) == 1:
                return self.service.flows.current(ids[0])
            turn.reply(turn.text(texts.WHICH_FLOW, command=f"/{command}", flows=self._ids()))
            return None
        if named not in ids:
            turn.reply(turn.text(texts.NO_SUCH_FLOW, flow=named, flows=self._ids()))
            return None
        return self.service.flows.current(named)

    def _close(self, turn: Turn, words: list[str]) -> None:
        action = ACTIONS["close"]
        flow = self._flow(turn, "close PHASE", words[1] if len(words) > 1 else None)
        if flow is None:
            turn.audit(action, refused="flow")
            return
        phases = [p.id for p in flow.outreach.phases]
        if not phases or not words or words[0] not in phases:
            if not phases:
                turn.reply(turn.text(texts.NO_PHASES, flow=flow.id))
            elif not words:
                turn.reply(turn.text(texts.CLOSE_WHICH, flow=flow.id,
                                     phases=", ".join(phases)))
            else:
                turn.reply(turn.text(texts.NO_SUCH_PHASE, flow=flow.id, phase=words[0],
                                     phases=", ".join(phases)))
            turn.audit(action, f"flow:{flow.id}", refused="phase")
            return
        phase = words[0]
        by = f"{turn.inbound.channel} admin {turn.admin.pseudonym}"
        sent = close_phase(turn.uow, self.service, flow, phase, turn.now, by=by,
                           media=self.media)
        if sent is None:
            turn.reply(turn.text(texts.CLOSED_BEFORE, phase=phase, flow=flow.id))
            turn.audit(action, f"phase:{flow.id}/{phase}", closed_before=True)
        else:
            turn.reply(turn.text(texts.CLOSED, phase=phase, flow=flow.id, count=sent))
            turn.audit(action, f"phase:{flow.id}/{phase}", sent=sent)

    def _ids(self) -> str:
        return ", ".join(self.service.flows.ids())


def _command(inbound: Inbound) -> tuple[str, str] | None:
    """An input that is a command: its name (lower case) and what follows it."""
    if inbound.command == "help":
        return "help", ""
    text = (inbound.text or "").strip()
    if not text.startswith("/"):
        return None
    matched = _COMMAND.fullmatch(text)
    if matched is None:
        return None
    return matched.group(1).lower(), (matched.group(2) or "").strip()


def _handled(turn: Turn) -> Handled:
    return Handled(False, tuple(turn.messages))


def _duplicate() -> Handled:
    return Handled(duplicate=True)
