"""Retention: a flow's personal data is kept ``retention_days`` after the flow closes,
then removed (``kolot purge``, and the scheduler once a day).

A flow **closes** when its last phase ends: the date in its file, or earlier when an admin
closed that phase (``/close``, a flow event: see :func:`bot.closing.as_closed`). A flow
without phases never closes, so nothing of it is removed on its own (``kolot validate``
warns about ``retention_days`` there). The retention a flow declares is the one of its
loaded file, or, once its file is gone, of its newest definition in the database.

What goes, for each flow whose close plus ``retention_days`` has come:

* its runs, with their state and answers, and its notices (the reminders each had);
* the author link of its ideas: the texts stay, they are the published outcome;
* the voter link of its votes: they stay as anonymous counts, so published tallies are
  the same before and after;
* from people who still take part in another flow, the profile fields only this flow
  asks (a field another of their flows asks too stays);
* people left with no run at all: their row, and with it (``ON DELETE CASCADE``) their
  address, messages and consents. Unless they said yes to hearing about future processes
  (consent ``future``): then the row and their consents stay, their profile is cleared
  and the messages already sent to them are deleted.

And whatever the flows: people whose ``/delete`` was confirmed over an hour ago and whose
farewell never left are deleted, and the copies of someone's data that ``/mydata`` put in
outbox rows are dropped once their hour is over.

:func:`purge` works inside the caller's unit of work and does not commit; it writes an
audit row for every flow it removed something of. ``dry_run`` does the same work inside a
savepoint and rolls it back, so its counts are exactly what a real purge would remove.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta

from bot.closing import FUTURE, as_closed
from bot.engine import Flow, FlowError
from bot.engine.loader import load_stored
from bot.rights import DOCUMENT_LIFETIME
from storage import UnitOfWork

__all__ = ["ERASURE_GRACE", "FlowPurge", "PurgeReport", "closed_at", "known_flows", "purge"]

ERASURE_GRACE = timedelta(hours=1)
"""How long a confirmed ``/delete`` waits for its farewell before the row goes anyway."""
SCHEDULER = "scheduler"
"""The audit actor of the scheduler's purges (a command line's is ``cli:<user>``)."""


@dataclass
class FlowPurge:
    """What one due flow lost (or, in a dry run, would lose): counts, never who."""

    flow_id: str
    closed_at: datetime
    due_at: datetime
    runs: int = 0
    answers: int = 0
    notices: int = 0
    ideas: int = 0
    """Ideas whose author link was removed."""
    votes: int = 0
    """Votes made anonymous."""
    profiles: int = 0
    """People kept (in another flow, or for future processes) whose profile was trimmed
    or cleared."""
    participants: int = 0
    """People deleted: nothing of them was left."""

    def counts(self) -> dict[str, int]:
        return {f.name: int(getattr(self, f.name)) for f in fields(self)
                if f.name not in ("flow_id", "closed_at", "due_at")}

    @property
    def removed(self) -> bool:
        return any(self.counts().values())


@dataclass
class PurgeReport:
    now: datetime
    dry_run: bool = False
    purged: list[FlowPurge] = field(default_factory=list)
    """Every flow that was due, in id order, whether or not anything was left of it."""
    waiting: list[tuple[str, datetime | None]] = field(default_factory=list)
    """Flows with a retention not due yet, and when it is (``None``: never, no phases)."""
    unlimited: list[str] = field(default_factory=list)
    """Flows without ``retention_days``: kept until removed by hand."""
    erased: int = 0
    """People deleted whose ``/delete`` farewell never left."""
    data_files: int = 0
    """Copies of someone's data (``/mydata`` files) dropped from outbox rows past their hour."""

    @property
    def participants(self) -> int:
        """Everyone deleted."""
        return sum(p.participants for p in self.purged) + self.erased

    @property
    def removed(self) -> bool:
        return self.erased > 0 or any(p.removed for p in self.purged)


def closed_at(uow: UnitOfWork, flow: Flow) -> datetime | None:
    """When the flow closes: its last phase's end, an admin's early close counted;
    ``None`` for a flow without phases, which never closes."""
    phases = as_closed(uow, flow).outreach.phases
    return max(p.ends for p in phases) if phases else None


def known_flows(uow: UnitOfWork, loaded: Iterable[Flow]) -> tuple[list[Flow], list[str]]:
    """The loaded flows, and for every other flow the database has a definition of, its
    newest one: a flow whose file is gone still keeps to the retention it declared.
    Second: the ids of flows whose stored definition can no longer be read."""
    flows = {flow.id: flow for flow in loaded}
    unreadable: list[str] = []
    for flow_id in uow.definitions.flow_ids():
        if flow_id in flows:
            continue
        stored = uow.definitions.newest(flow_id)
        if stored is None:
            continue
        try:
            flows[flow_id] = load_stored(stored.source, f"<stored {flow_id}>")
        except FlowError:
            unreadable.append(flow_id)
    return [flows[i] for i in sorted(flows)], unreadable


def purge(uow: UnitOfWork, flows: Iterable[Flow], now: datetime, *, dry_run: bool = False,
          actor: str = SCHEDULER) -> PurgeReport:
    """Remove the personal data of every flow in ``flows`` whose close plus
    ``retention_days`` is ``now`` or earlier (see the module's docstring), and finish
    erasures left waiting. ``actor`` is named in the audit rows (``cli:<user>`` or
    ``scheduler``). The caller commits."""
    report = PurgeReport(now=now, dry_run=dry_run)
    known = {flow.id: flow for flow in flows}
    asks = {flow_id: _profile_fields(flow) for flow_id, flow in known.items()}
    uow.session.flush()
    savepoint = uow.session.begin_nested() if dry_run else None
    try:
        for flow_id in sorted(known):
            flow = known[flow_id]
            if flow.retention_days is None:
                report.unlimited.append(flow_id)
                continue
            closed = closed_at(uow, flow)
            if closed is None:
                report.waiting.append((flow_id, None))
                continue
            due = closed + timedelta(days=flow.retention_days)
            if due > now:
                report.waiting.append((flow_id, due))
                continue
            done = _purge_flow(uow, FlowPurge(flow_id, closed, due), asks, now)
            report.purged.append(done)
            if done.removed and not dry_run:
                uow.audit.record(actor, "purge", now=now, subject=f"flow:{flow_id}",
                                 detail=done.counts())
        report.erased = uow.personal.finish_erasures((), before=now - ERASURE_GRACE)
        report.data_files = uow.outbox.forget_documents(before=now - DOCUMENT_LIFETIME)
        if (report.erased or report.data_files) and not dry_run:
            counts = {"erasures_finished": report.erased,
                      "data_files_dropped": report.data_files}
            uow.audit.record(actor, "purge", now=now, subject=None,
                             detail={key: n for key, n in counts.items() if n})
    finally:
        if savepoint is not None:
            savepoint.rollback()
    return report


def _purge_flow(uow: UnitOfWork, done: FlowPurge, asks: dict[str, frozenset[str]],
                now: datetime) -> FlowPurge:
    flow_id = done.flow_id
    # Everyone of the flow locked first (PostgreSQL): an input of theirs being handled
    # ends before we look, and one that comes now waits for our commit.
    uow.participants.lock_of_flow(flow_id)
    done.runs = uow.runs.count_of_flow(flow_id)
    done.answers = uow.answers.remove_flow(flow_id)
    done.notices = uow.outreach.remove_notices(flow_id)
    done.ideas = uow.ideas.unlink_authors(flow_id)
    done.votes = uow.votes.anonymise(flow_id)
    mine = asks.get(flow_id, frozenset())
    if mine:
        for participant_id, (profile, others) in uow.participants.elsewhere(flow_id).items():
            if any(other not in asks for other in others):
                continue  # a flow we cannot read may ask any field: keep them all
            kept = frozenset().union(*(asks[other] for other in others))
            trimmed = {k: v for k, v in profile.items() if k not in mine or k in kept}
            if trimmed != profile:
                uow.participants.set_profile(participant_id, trimmed, now=now)
                done.profiles += 1
    staying = uow.participants.only_in(flow_id, granted=FUTURE)
    for participant_id, profile in staying:
        if profile:
            uow.participants.set_profile(participant_id, {}, now=now)
            done.profiles += 1
    uow.outbox.remove_settled([participant_id for participant_id, _ in staying])
    done.participants = uow.participants.remove_only_in(flow_id, unless=FUTURE)
    uow.runs.remove_flow(flow_id)  # of those who stay; the others' went with them
    return done


def _profile_fields(flow: Flow) -> frozenset[str]:
    return frozenset(step.profile for step in flow.steps if step.profile)
