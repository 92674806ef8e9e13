"""The console channel: a participant's conversation in a terminal.

Organisers use it to walk through a flow before launch (``kolot chat``), and scripts of
inputs turn it into a repeatable transcript. It goes through the same service, storage and
outbox as every other channel; only the rendering is its own: options numbered, the hint
in brackets.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import count

from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import CommandName, Inbound, Outbound
from bot.clock import Clock, IdFactory, random_id, utc_now
from bot.outbox import release
from bot.service import Handled, Service

__all__ = ["CHANNEL", "ConsoleConversation", "render"]

CHANNEL = "console"
_COMMANDS: dict[str, CommandName] = {
    "/start": "start",
    "/back": "back",
    "/skip": "skip",
    "/restart": "restart",
    "/stop": "stop",
    "/mydata": "mydata",
    "/delete": "delete",
}
_INDENT = "     "


def render(message: Outbound, speaker: str = "bot") -> str:
    lines = [f"{speaker}: {message.text}"] if message.text else []
    for n, button in enumerate(message.buttons, start=1):
        lines.append(f"{_INDENT}{n}. {button.label}")
    if message.hint:
        lines.append(f"{_INDENT}({message.hint})")
    return "\n".join(lines)


class ConsoleConversation:
    """One participant (``name``) talking to one flow."""

    def __init__(
        self,
        service: Service,
        session_factory: sessionmaker[Session],
        flow_id: str,
        name: str,
        *,
        language: str | None = None,
        out: Callable[[str], None] = print,
        clock: Clock = utc_now,
        new_id: IdFactory = random_id,
    ) -> None:
        self.service = service
        self.session_factory = session_factory
        self.flow_id = flow_id
        self.name = name
        self.language = language
        self.out = out
        self.clock = clock
        self._ids = (f"{new_id()}-{n}" for n in count())

    def open(self) -> Handled:
        """Start the conversation, or resume it at the open question."""
        return self._send(Inbound(CHANNEL, self.name, next(self._ids), command="start",
                                  language_hint=self.language))

    def say(self, line: str) -> Handled:
        command = _COMMANDS.get(line.strip().lower())
        inbound = Inbound(
            CHANNEL,
            self.name,
            next(self._ids),
            text=None if command else line,
            command=command,
            language_hint=self.language,
        )
        return self._send(inbound)

    def _send(self, inbound: Inbound) -> Handled:
        handled = self.service.handle(inbound, self.flow_id, take_sent=True)
        shown: list[int] = []
        try:
            for due in handled.taken:
                self.out(render(Outbound.from_payload(due.payload)))
                shown.append(due.id)
        except BaseException as error:
            unseen = [due.id for due in handled.taken if due.id not in shown]
            release(self.session_factory, unseen, error, clock=self.clock)
            raise
        return handled
