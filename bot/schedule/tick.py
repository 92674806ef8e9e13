"""One scheduler pass: do what has come due in every flow, once.

The database is the truth and this is only the clock's hand. Each pass looks at what is
due *now* (the time is given, so tests move it):

* **a phase opened**: its announcement to every participant who can be reached, its
  question to those who were waiting for it, and its invitation (a step) to those who
  had finished;
* **a deadline is near**: a reminder to everyone who has not yet done what it asks
  (``unless``: answered or voted at those steps);
* **someone went quiet**: a nudge after each of the ``inactivity`` gaps since their last
  input, with the question they stopped at, at most that many;
* **a scheduled broadcast's time came**: its recipients are written to the outbox (once:
  see :mod:`bot.broadcast.audience`); and broadcast rows a dead sender left mid-call are
  settled as unconfirmed;
* **a flow's retention ran out**: its personal data is removed (:mod:`bot.retention`),
  by the first pass of each day (UTC) only: the purge reads whole tables, which is too
  much for every half minute, and a retention counted in days can wait a few hours.

Each of these is claimed by inserting a row with a unique key (``flow_events`` for what
happens to the whole flow, ``notices`` per participant) in the transaction that queues
its messages: two schedulers on one PostgreSQL never do the same thing twice (the second
waits for the first's commit and finds the key taken), and a pass that dies rolls back
whole and is done again by the next. Messages go out through the outbox, due when quiet
hours end; nobody who stopped or blocked the bot is written to, and nobody gets more
reminders a day than the flow allows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from bot import formatting
from bot.broadcast.audience import enqueue
from bot.broadcast.spec import Spec
from bot.closing import as_closed, close_phase
from bot.engine import Flow, RunState
from bot.engine.bidi import fill
from bot.engine.outreach import Outreach
from bot.i18n import translator
from bot.registry import FlowRegistry
from bot.retention import SCHEDULER, PurgeReport, known_flows, purge
from bot.schedule import texts
from bot.schedule.phases import waiting_note
from bot.service import Service
from storage import UnitOfWork
from storage.repositories.outreach import Member

__all__ = ["PURGE_CLAIM", "Report", "Ticker"]

log = logging.getLogger(__name__)

PURGE_CLAIM = "*"
"""The ``flow_events`` row of the day's purge, ``(PURGE_CLAIM, "purge", YYYY-MM-DD)``: no
flow's id (an id starts with a letter), since one purge covers every flow."""


@dataclass
class Report:
    """What a pass did (every figure counts messages' recipients, not messages)."""

    announced: int = 0
    asked: int = 0
    invited: int = 0
    reminded: int = 0
    nudged: int = 0
    capped: int = 0
    broadcast: int = 0
    results: int = 0
    events: list[str] = field(default_factory=list)
    purged: PurgeReport | None = None
    """The day's purge, by the pass that made it (``None``: done before today)."""

    @property
    def total(self) -> int:
        return (self.announced + self.asked + self.invited + self.reminded + self.nudged
                + self.broadcast + self.results)


class Ticker:
    def __init__(self, session_factory: sessionmaker[Session], flows: FlowRegistry,
                 service: Service, *, media: Path | None = None) -> None:
        self.session_factory = session_factory
        self.flows = flows
        self.service = service
        self.media = media
        """Where results charts are kept (none: results go without a chart)."""
        self._purged_on: str | None = None
        """The last day (UTC) this ticker found purged, by itself or another."""

    def tick(self, now: datetime) -> Report:
        report = Report()
        for flow_id in self.flows.ids():
            with UnitOfWork(self.session_factory) as uow:
                flow = as_closed(uow, self.flows.current(flow_id))
            outreach = flow.outreach
            for phase in outreach.phases:
                if phase.open_at(now):
                    self._opened(flow, phase.id, now, report)
            for n, deadline in enumerate(outreach.deadlines):
                phase = outreach.phase(deadline.phase)
                if phase.ends - deadline.before <= now < phase.ends:
                    self._deadline(flow, n, now, report)
            if outreach.inactivity is not None:
                self._nudges(flow, now, report)
            if outreach.results is not None \
                    and now >= outreach.phase(outreach.results.after).ends:
                self._results(flow, outreach.results.after, now, report)
        self._broadcasts(now, report)
        self._purge(now, report)
        return report

    # -- a flow's retention ran out ---------------------------------------------------

    def _purge(self, now: datetime, report: Report) -> None:
        """Once a day, whoever ticks first: the claim commits with the purge, so a pass
        that fails leaves it to the next."""
        day = f"{now.astimezone(UTC):%Y-%m-%d}"
        if day == self._purged_on:
            return  # no write to claim it again every half minute
        loaded = [self.flows.current(flow_id) for flow_id in self.flows.ids()]
        with UnitOfWork(self.session_factory) as uow:
            if not uow.outreach.happen(PURGE_CLAIM, "purge", day, now=now):
                self._purged_on = day
                return
            flows, unreadable = known_flows(uow, loaded)
            found = purge(uow, flows, now, actor=SCHEDULER)
            uow.commit()
        self._purged_on = day
        report.purged = found
        for flow_id in unreadable:
            log.warning("purge: the stored definition of %s can no longer be read; its data "
                        "is kept", flow_id)
        for done in found.purged:
            if done.removed:
                counts = ", ".join(f"{n} {name}" for name, n in done.counts().items())
                log.info("purge: %s: %s", done.flow_id, counts)
                report.events.append(f"{done.flow_id}: purged {counts}")
        if found.erased:
            log.info("purge: %s unfinished erasures deleted", found.erased)
            report.events.append(f"purged {found.erased} unfinished erasures")

    # -- a scheduled broadcast is due -------------------------------------------------

    def _broadcasts(self, now: datetime, report: Report) -> None:
        with UnitOfWork(self.session_factory) as uow:
            settled = uow.outbox.settle(now=now)
            due = [(b.id, b.name, b.flow_id, b.spec) for b in uow.broadcasts.due(now)]
            uow.commit()
        if settled:
            log.warning("%s broadcast rows were left mid-call by a sender that stopped: "
                        "unconfirmed, not sent again", settled)
        for broadcast_id, name, flow_id, spec in due:
            try:
                flow = self.flows.current(flow_id)
            except LookupError:
                log.error("broadcast %s is due but its flow %s is not loaded here", name,
                          flow_id)
                continue
            wanted = Spec.from_json(spec)
            with UnitOfWork(self.session_factory) as uow:
                # A pass that comes late (the server was down) still keeps quiet hours.
                written = enqueue(uow, broadcast_id, flow, wanted, now=now,
                                  due=wanted.send_time(flow, now), prompt=self.service.prompt)
                uow.commit()
            if written is not None:
                report.broadcast += written
                report.events.append(f"{flow_id}: broadcast {name} to {written}")

    # -- the results phase ended -----------------------------------------------------

    def _results(self, flow: Flow, phase_id: str, now: datetime, report: Report) -> None:
        with UnitOfWork(self.session_factory) as uow:
            sent = close_phase(uow, self.service, flow, phase_id, now, media=self.media)
            uow.commit()
        if sent is not None:
            report.results += sent
            report.events.append(f"{flow.id}: results of {phase_id} to {sent}")

    # -- a phase opened ---------------------------------------------------------------

    def _opened(self, flow: Flow, phase_id: str, now: datetime, report: Report) -> None:
        outreach = flow.outreach
        phase = outreach.phase(phase_id)
        with UnitOfWork(self.session_factory) as uow:
            if not uow.outreach.happen(flow.id, "opened", phase_id, now=now):
                return  # done before, here or by another scheduler
            due = _release(outreach, now)
            for member in uow.outreach.members(flow.id, statuses=("active", "finished")):
                if not member.reachable or not member.state.get("consented"):
                    continue
                state = RunState.from_json(member.state)
                lead = self._text(flow, state.language, f"phases.{phase_id}.announce",
                                  phase.announce) if phase.announce else None
                waiting = state.status == "active" and state.step is not None \
                    and flow.step(state.step).phase == phase_id
                if waiting and member.updated_at >= phase.starts:
                    continue  # got there after the opening: they were asked already
                if waiting:
                    self.service.prompt(uow, member, lead=lead, jump_to=None,
                                        purpose="announcement", now=now, due=due)
                    report.asked += 1
                elif state.status == "finished" and phase.invite:
                    self.service.prompt(uow, member, lead=lead, jump_to=phase.invite,
                                        purpose="announcement", now=now, due=due)
                    report.invited += 1
                elif lead:
                    self._send(uow, member, lead, state.language, "announcement", now, due)
                    report.announced += 1
            uow.commit()
        report.events.append(f"{flow.id}: phase {phase_id} opened")

    # -- a deadline is near -----------------------------------------------------------

    def _deadline(self, flow: Flow, n: int, now: datetime, report: Report) -> None:
        outreach = flow.outreach
        deadline = outreach.deadlines[n]
        phase = outreach.phase(deadline.phase)
        with UnitOfWork(self.session_factory) as uow:
            if not uow.outreach.happen(flow.id, "deadline", f"{deadline.phase}:{n}", now=now):
                return
            members = [m for m in uow.outreach.members(flow.id, statuses=("active", "finished"))
                       if m.reachable and m.state.get("consented")]
            ids = [m.participant_id for m in members]
            done = uow.outreach.done(flow.id, deadline.unless, ids)
            allowed = self._under_cap(uow, outreach, ids, now)
            due = _release(outreach, now)
            for member in members:
                if member.participant_id in done:
                    continue
                if member.participant_id not in allowed:
                    report.capped += 1
                    continue
                if not uow.outreach.note(member.participant_id, flow.id, "deadline",
                                         f"{deadline.phase}:{n}", now=now):
                    continue
                state = RunState.from_json(member.state)
                tr = translator(state.language)
                title = self.flows.localised(flow, state.language).title
                lead = self._text(flow, state.language, f"reminders.deadline.{n}",
                                  deadline.text) if deadline.text else fill(
                    tr.gettext(texts.DEADLINE), title=title,
                    day=formatting.day(phase.ends, state.language, outreach.timezone),
                    time=formatting.time_of_day(phase.ends, state.language, outreach.timezone))
                active_here = state.status == "active" and waiting_note(
                    flow, state.step, now, state.language, tr) is None
                if active_here:
                    self.service.prompt(uow, member, lead=lead, jump_to=None,
                                        purpose="reminder", now=now, due=due)
                else:
                    self._send(uow, member, lead, state.language, "reminder", now, due)
                report.reminded += 1
            uow.commit()
        report.events.append(f"{flow.id}: deadline reminder for {deadline.phase}")

    # -- someone went quiet -----------------------------------------------------------

    def _nudges(self, flow: Flow, now: datetime, report: Report) -> None:
        outreach = flow.outreach
        inactivity = outreach.inactivity
        assert inactivity is not None
        first = inactivity.after[0]
        with UnitOfWork(self.session_factory) as uow:
            members = [m for m in uow.outreach.members(flow.id, statuses=("active",),
                                                       idle_since=now - first)
                       if m.reachable]
            if not members:
                return
            ids = [m.participant_id for m in members]
            had = uow.outreach.notices("nudge", ids)
            allowed = self._under_cap(uow, outreach, ids, now)
            due = _release(outreach, now)
            for member in members:
                state = RunState.from_json(member.state)
                tr = translator(state.language)
                if state.step is None or waiting_note(flow, state.step, now, state.language,
                                                      tr) is not None:
                    continue  # waiting for a phase: the phase's opening will write
                since = f"{member.run_id}@{member.updated_at:%Y%m%dT%H%M%S%f}#"
                sent = sum(1 for key in had.get(member.participant_id, ()) if
                           key.startswith(since))
                if sent >= len(inactivity.after):
                    continue  # at most that many, then silence
                if now - member.updated_at < sum(inactivity.after[: sent + 1], timedelta()):
                    continue
                if member.participant_id not in allowed:
                    report.capped += 1
                    continue
                if not uow.outreach.note(member.participant_id, flow.id, "nudge",
                                         f"{since}{sent}", now=now):
                    continue
                title = self.flows.localised(flow, state.language).title
                lead = self._text(flow, state.language, "reminders.inactivity",
                                  inactivity.text) if inactivity.text else fill(
                    tr.gettext(texts.NUDGE), title=title)
                self.service.prompt(uow, member, lead=lead, jump_to=None, purpose="reminder",
                                    now=now, due=due)
                report.nudged += 1
            uow.commit()

    # -- helpers ------------------------------------------------------------------------

    def _under_cap(self, uow: UnitOfWork, outreach: Outreach, ids: list[int],
                   now: datetime) -> set[int]:
        """Who may get one more reminder today (the flow's day, in its time zone)."""
        local = now.astimezone(outreach.zone)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        counts = uow.outreach.reminded_since(midnight, ids)
        return {i for i in ids if counts.get(i, 0) < outreach.per_day}

    def _text(self, flow: Flow, language: str, context: str, text: str) -> str:
        """An organiser's outreach text in the participant's language (the flow's
        catalogs, context ``context``), else as written."""
        return self.flows.outreach_text(flow, language, context, text)

    def _send(self, uow: UnitOfWork, member: Member, text: str, language: str, purpose: str,
              now: datetime, due: datetime) -> None:
        from bot.channels.base import Outbound

        uow.outbox.enqueue(member.participant_id, member.channel, member.address,
                           Outbound(text, language=language, purpose=purpose).to_payload(),
                           now=now, due=due)


def _release(outreach: Outreach, now: datetime) -> datetime:
    return outreach.quiet.release(now, outreach.zone)
