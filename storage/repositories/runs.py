"""Runs: a participant's passes through a flow, holding the engine's state."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, bindparam, delete, exists, func, insert, literal, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from storage.models import OutboxMessage, Participant, Run
from storage.repositories._statements import execute, table
from storage.repositories.participants import KNOWN_COLUMNS, Known, known

__all__ = ["ENDED", "CurrentRun", "RunRepository", "Turn"]

ENDED = frozenset({"finished", "declined"})
"""Statuses that stamp ``finished_at``; ``abandoned`` runs were left, not finished."""

class CurrentRun(NamedTuple):
    """What handling an input needs of the participant's run, read without the ORM."""

    id: int
    status: str
    state: dict[str, Any]
    finished_at: datetime | None
    consent_sha256: str | None = None
    """The consent text agreed to in this run (see :class:`storage.models.Run`)."""
    consent_asked: str | None = None


_CURRENT = (
    select(Run.id, Run.status, Run.state, Run.finished_at, Run.consent_sha256,
           Run.consent_asked)
    .where(Run.participant_id == bindparam("participant_id"), Run.flow_id == bindparam("flow_id"))
    .order_by(Run.id.desc())
    .limit(1)
)  # built once: see storage.repositories._statements
_CURRENT_LOCKED = _CURRENT.with_for_update()


class Turn(NamedTuple):
    """What handling one input reads first, in one query (see ``RunRepository.turn``)."""

    participant: Known
    run: CurrentRun | None
    held: bool
    """Whether outbox rows of this participant on this channel are still pending."""


def _turn(*, lock: bool, held: bool, any_flow: bool = False) -> Select[Any]:
    pending = (
        exists()
        .where(
            OutboxMessage.status == "pending",
            OutboxMessage.channel == Participant.channel,
            OutboxMessage.participant_id == Participant.id,
        )
        if held
        else literal(False)
    )
    query = (
        select(
            *KNOWN_COLUMNS,
            Run.id,
            Run.status,
            Run.state,
            Run.finished_at,
            Run.consent_sha256,
            Run.consent_asked,
            pending,
        )
        .outerjoin(
            Run, (Run.participant_id == Participant.id) if any_flow else
            (Run.participant_id == Participant.id) & (Run.flow_id == bindparam("flow_id"))
        )
        .where(
            Participant.channel == bindparam("channel"),
            Participant.address == bindparam("address"),
        )
        .order_by(Run.id.desc())
        .limit(1)
    )
    return query.with_for_update(of=Participant) if lock else query


_TURNS = {
    (lock, held, any_flow): _turn(lock=lock, held=held, any_flow=any_flow)
    for lock in (False, True) for held in (False, True) for any_flow in (False, True)
}
_TABLE = table(Run)
_START = (
    insert(_TABLE)
    .values(
        participant_id=bindparam("participant_id"),
        flow_id=bindparam("flow_id"),
        definition_id=bindparam("definition_id"),
        status=bindparam("status"),
        state=bindparam("state"),
        started_at=bindparam("now"),
        updated_at=bindparam("now"),
        finished_at=bindparam("finished_at"),
        circle=bindparam("circle"),
        source=bindparam("source"),
    )
    .returning(_TABLE.c.id)
)
_SAVE = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("run_id"))
    .values(
        state=bindparam("state"),
        status=bindparam("status"),
        updated_at=bindparam("updated_at"),
        finished_at=bindparam("finished_at"),
    )
)
_SAVE_CONSENTED = _SAVE.values(consent_at=bindparam("updated_at"),
                               consent_sha256=bindparam("consent_sha256"), consent_asked=None)
"""The same, for the input that gave the run's consent (to the text of that hash)."""


class RunRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def by_id(self, id: int) -> Run | None:
        return self.session.get(Run, id)

    def current(
        self, participant_id: int, flow_id: str, *, lock: bool = False
    ) -> CurrentRun | None:
        """The participant's newest run in the flow, whatever its status.

        ``lock=True`` takes a row lock on PostgreSQL (``SELECT ... FOR UPDATE``) so two
        processes handling the same participant's inputs apply them one after the other
        instead of overwriting each other's state; SQLite has one writer anyway. Every
        input reads this, so it is a plain row, not an ORM object (see ``save``).
        """
        query = _CURRENT_LOCKED if lock else _CURRENT
        row = execute(
            self.session, query, {"participant_id": participant_id, "flow_id": flow_id}
        ).first()
        return None if row is None else CurrentRun._make(row)

    def turn(
        self, channel: str, address: str, flow_id: str | None, *, lock: bool = False,
        held: bool = False,
    ) -> Turn | None:
        """The participant at an address and their newest run in the flow, in one query.

        Every input starts here. ``lock=True`` locks the participant's row on PostgreSQL
        (``FOR UPDATE OF participants``), so one participant's inputs handled by several
        processes apply one after the other, including the one that starts a new run;
        SQLite has one writer anyway. ``held=True`` also asks whether any of their
        outbox rows on the channel are pending (the console shows those first).
        ``flow_id=None``: their newest run of any flow (the flow they are taking part in).
        ``None`` when nobody is known at the address.
        """
        row = execute(
            self.session,
            _TURNS[lock, held, flow_id is None],
            {"channel": channel, "address": address, "flow_id": flow_id},
        ).first()
        if row is None:
            return None
        values: tuple[Any, ...] = tuple(row)
        n = len(KNOWN_COLUMNS)
        run = None if values[n] is None else CurrentRun._make(values[n : n + 6])
        return Turn(known(values[:n]), run, bool(values[n + 6]))

    def create(
        self,
        participant_id: int,
        flow_id: str,
        definition_id: int,
        state: dict[str, Any],
        status: str,
        *,
        now: datetime,
    ) -> Run:
        run = Run(
            participant_id=participant_id,
            flow_id=flow_id,
            definition_id=definition_id,
            state=state,
            status=status,
            started_at=now,
            updated_at=now,
            finished_at=now if status in ENDED else None,
        )
        self.session.add(run)
        self.session.flush()
        return run

    def start(
        self,
        participant_id: int,
        flow_id: str,
        definition_id: int,
        state: dict[str, Any],
        status: str,
        *,
        now: datetime,
        circle: str | None = None,
        source: str | None = None,
    ) -> CurrentRun:
        """A new run, as :meth:`create` makes one, in one prebuilt ``INSERT ... RETURNING``
        instead of an ORM object and a flush (every newcomer's first input starts one).
        ``circle`` and ``source``: what the invite they came with says."""
        finished_at = now if status in ENDED else None
        row = execute(self.session, _START, {
            "participant_id": participant_id, "flow_id": flow_id,
            "definition_id": definition_id, "status": status, "state": state, "now": now,
            "finished_at": finished_at, "circle": circle, "source": source,
        }).first()
        assert row is not None
        return CurrentRun(int(row[0]), status, state, finished_at)

    def save(
        self, run: Run | CurrentRun, state: dict[str, Any], status: str, *, now: datetime,
        consent: str | None = None,
    ) -> None:
        """Write the run's new state in one prebuilt ``UPDATE`` (the hot path of every input);
        ``consent``: this input gave the run's consent, to the text of that SHA-256.

        The ORM's change tracking would compare and flush the JSON state at commit; the
        statement is cheaper, and the object is brought up to date without being marked
        changed, so nothing is written twice.
        """
        finished_at = run.finished_at
        if status in ENDED and finished_at is None:
            finished_at = now
        values = {"state": state, "status": status, "updated_at": now, "finished_at": finished_at}
        if consent is None:
            execute(self.session, _SAVE, {"run_id": run.id, **values})
        else:
            execute(self.session, _SAVE_CONSENTED,
                    {"run_id": run.id, "consent_sha256": consent, **values})
        if isinstance(run, Run):
            for name, value in values.items():
                set_committed_value(run, name, value)

    def count_of_flow(self, flow_id: str) -> int:
        """How many runs the flow has, of everyone, whatever their status."""
        return int(self.session.scalar(
            select(func.count()).select_from(_TABLE).where(_TABLE.c.flow_id == flow_id)) or 0)

    def remove_flow(self, flow_id: str) -> int:
        """Delete every run of the flow, with their state (retention; their answers go by
        ``ON DELETE CASCADE``); how many went."""
        result = self.session.connection().execute(
            delete(_TABLE).where(_TABLE.c.flow_id == flow_id))
        return int(result.rowcount)
