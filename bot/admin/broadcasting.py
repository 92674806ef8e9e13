"""``/broadcast``: a short conversation that ends in a broadcast, as ``kolot broadcast`` sends.

1. ``/broadcast`` lists the prepared files in ``KOLOT_BROADCASTS`` as buttons, and a
   button per flow to write a new message; ``/broadcast FLOW`` goes straight to writing.
2. A file tapped is read and checked like ``kolot broadcast FILE`` checks it. To write:
   the next message the admin sends is the text, in the flow's own language (everyone
   gets it in that language), to everyone of the flow who consented.
3. The audience is counted (:func:`bot.broadcast.audience.plan`) and shown with the
   text, under Confirm and Cancel.
4. Confirm creates the broadcast and writes its recipients to the outbox
   (:func:`bot.broadcast.audience.enqueue`), or leaves that to the scheduler when the file
   asks for a later time (quiet hours defer it too). Cancel sends nothing.

Each step's state is in the payload of the message that asks it (see
:mod:`bot.admin.turn`): the confirmation carries the checked broadcast itself, so what
is confirmed is what was shown, whatever happens to the file meanwhile. A file's
broadcast keeps its name and the file's SHA-256, so ``kolot broadcast`` on the same file
resumes it rather than sending it again; a written one is named after the message that
asked for it (``chat-<row>``). A confirmation is good for :data:`bot.admin.turn.FRESH`.

The audit trail gets a row when an audience is counted and shown (``broadcast.preview``)
and when a broadcast is confirmed (``broadcast.send``, ``broadcast.schedule``); never the
message's text.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.admin import texts
from bot.admin.turn import Said, Turn
from bot.broadcast.audience import enqueue, plan
from bot.broadcast.spec import Spec, check_spec
from bot.engine import Button, Flow
from bot.languages import autonym

if TYPE_CHECKING:
    from bot.service import Service

__all__ = ["CONFIRM", "MENU", "SUFFIXES", "WRITE", "Broadcasting"]

MENU, WRITE, CONFIRM = "broadcasts", "write", "confirm"
"""The conversation states: the menu of files, the text awaited, the confirmation."""
SUFFIXES = (".yaml", ".yml")
_FILES_SHOWN = 20
_PROBLEMS_SHOWN = 10
_FILE, _NEW, _YES, _NO = "file:", "new:", "confirm", "cancel"


class Broadcasting:
    def __init__(self, service: Service, folder: Path) -> None:
        self.service = service
        self.folder = folder

    def files(self) -> list[str]:
        if not self.folder.is_dir():
            return []
        return sorted(p.name for p in self.folder.iterdir()
                      if p.suffix in SUFFIXES and p.is_file() and not p.name.startswith("."))

    def menu(self, turn: Turn) -> None:
        files = self.files()[:_FILES_SHOWN]
        buttons = [Button(f"{_FILE}{name}", name) for name in files]
        buttons += [Button(f"{_NEW}{flow_id}", turn.text(texts.WRITE_BUTTON, flow=flow_id))
                    for flow_id in self.service.flows.ids()]
        text = texts.CHOOSE_BROADCAST if files else texts.NO_BROADCAST_FILES
        turn.reply(turn.text(text, folder=str(self.folder)), buttons, {"do": MENU})

    def ask_text(self, turn: Turn, flow: Flow) -> None:
        turn.reply(turn.text(texts.WRITE_PROMPT, flow=flow.id,
                             language=autonym(flow.default_language)),
                   [Button(_NO, turn.tr.gettext(texts.CANCEL))], {"do": WRITE, "flow": flow.id})

    def tapped(self, turn: Turn, said: Said, payload: str) -> None:
        """A button of one of the conversation's messages."""
        kind = said.state.get("do")
        if payload == _NO:
            turn.settle(turn.tr.gettext(texts.CANCELLED))
        elif kind == MENU and payload.startswith(_FILE):
            self._file(turn, payload.removeprefix(_FILE))
        elif kind == MENU and payload.startswith(_NEW):
            flow_id = payload.removeprefix(_NEW)
            if flow_id in self.service.flows.ids():
                self.ask_text(turn, self.service.flows.current(flow_id))
        elif kind == CONFIRM and payload == _YES:
            if not turn.fresh(said):
                turn.settle(turn.tr.gettext(texts.EXPIRED))
            else:
                self._confirm(turn, said.state)

    def written(self, turn: Turn, said: Said, text: str) -> None:
        """The text the admin wrote after being asked for it."""
        flow_id = str(said.state.get("flow"))
        if flow_id not in self.service.flows.ids():
            turn.reply(turn.text(texts.NO_SUCH_FLOW, flow=flow_id, flows=self._ids()))
            return
        flow = self.service.flows.current(flow_id)
        spec = Spec(f"chat-{said.id}", flow.id, {flow.default_language: text.strip()})
        canonical = json.dumps(spec.to_json(), sort_keys=True, ensure_ascii=False)
        self._offer(turn, spec, flow, hashlib.sha256(canonical.encode("utf-8")).hexdigest())

    def _file(self, turn: Turn, name: str) -> None:
        path = self.folder / name
        if name != Path(name).name or name not in self.files():
            turn.reply(turn.text(texts.FILE_GONE, file=name, folder=str(self.folder)))
            return
        source = path.read_text(encoding="utf-8")
        flows = self.service.flows

        def find(flow_id: str) -> Flow | None:
            return flows.current(flow_id) if flow_id in flows.ids() else None

        spec, flow, problems = check_spec(source, name, find, flows.ids(), now=turn.now)
        if problems or spec is None or flow is None:
            shown = "\n".join(str(d) for d in problems[:_PROBLEMS_SHOWN])
            turn.reply(turn.text(texts.FILE_PROBLEMS, file=name, problems=shown))
            return
        self._offer(turn, spec, flow, hashlib.sha256(source.encode("utf-8")).hexdigest())

    def _offer(self, turn: Turn, spec: Spec, flow: Flow, digest: str) -> None:
        """The audience counted and the text shown, under Confirm and Cancel."""
        if self._started(turn, spec, digest, settle=False):
            return
        audience = plan(turn.uow, flow, spec)
        turn.audit("broadcast.preview", f"flow:{flow.id}", name=spec.name,
                   recipients=len(audience.members))
        if not audience.members:
            turn.reply(turn.text(texts.NOBODY, name=spec.name, flow=flow.id))
            return
        when = spec.send_time(flow, turn.now)
        goes = turn.tr.gettext(texts.GOES_NOW) if when <= turn.now else _local(when, flow)
        text = turn.text(texts.AUDIENCE, name=spec.name, flow=flow.id,
                         count=len(audience.members), languages=_counts(audience.languages),
                         channels=_counts(audience.channels), when=goes,
                         text=spec.messages[flow.default_language])
        buttons = [Button(_YES, turn.tr.gettext(texts.CONFIRM)),
                   Button(_NO, turn.tr.gettext(texts.CANCEL))]
        turn.reply(text, buttons, {"do": CONFIRM, "spec": spec.to_json(), "digest": digest})

    def _confirm(self, turn: Turn, state: dict[str, Any]) -> None:
        spec = Spec.from_json(state.get("spec") or {})
        digest = str(state.get("digest"))
        flows = self.service.flows
        if spec.flow_id not in flows.ids():
            turn.settle(turn.text(texts.NO_SUCH_FLOW, flow=spec.flow_id, flows=self._ids()))
            return
        if self._started(turn, spec, digest, settle=True):
            return
        flow = flows.current(spec.flow_id)
        uow, now = turn.uow, turn.now
        when = spec.send_time(flow, now)
        found = uow.broadcasts.create(name=spec.name, digest=digest, flow_id=flow.id,
                                      spec=spec.to_json(), start_step=spec.start_step,
                                      send_at=when, now=now)
        subject = f"broadcast:{found.id}"
        if when > now:
            turn.audit("broadcast.schedule", subject, name=spec.name, flow=flow.id,
                       send_at=when.isoformat())
            turn.settle(turn.text(texts.SCHEDULED, name=spec.name, when=_local(when, flow)))
            return
        written = enqueue(uow, found.id, flow, spec, now=now, due=now,
                          prompt=self.service.prompt)
        turn.audit("broadcast.send", subject, name=spec.name, flow=flow.id,
                   recipients=written or 0)
        turn.settle(turn.text(texts.SENT, name=spec.name, count=written or 0))

    def _started(self, turn: Turn, spec: Spec, digest: str, *, settle: bool) -> bool:
        """A broadcast of that name exists: say so (nothing is sent twice)."""
        found = turn.uow.broadcasts.named(spec.name)
        if found is None:
            return False
        if found.digest != digest:
            said = turn.text(texts.OTHER_FILE, name=spec.name)
        else:
            count = found.total if found.total is not None else \
                turn.uow.broadcasts.progress(found.id).total
            said = turn.text(texts.STARTED_BEFORE, name=spec.name, count=count)
        if settle:
            turn.settle(said)
        else:
            turn.reply(said)
        return True

    def _ids(self) -> str:
        return ", ".join(self.service.flows.ids())


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{key} {n}" for key, n in counter.most_common()) or "-"


def _local(when: Any, flow: Flow) -> str:
    zone = flow.outreach.zone
    return f"{when.astimezone(zone):%Y-%m-%d %H:%M} ({zone.key})"
