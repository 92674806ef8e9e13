"""Who a broadcast reaches, and writing it to the outbox for all of them at once.

The audience is every participant of the flow, by their newest run of it, who consented
and can be reached (neither ``/stop`` nor blocked the bot) on a platform (not an
organiser's walk-through in the console), narrowed by the file's
filters. Each gets the message in their language, else in the flow's own. Recipients
are written in one transaction with the broadcast's mark (``enqueued_at``), so the
audience is fixed once and for all: running the file again, or a second scheduler,
writes nobody twice (:class:`storage.repositories.broadcasts.BroadcastRepository`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.broadcast.spec import Audience, Spec, word
from bot.channels.base import Outbound
from bot.channels.console import CHANNEL as CONSOLE
from bot.engine import Flow
from storage import UnitOfWork
from storage.repositories.outreach import Member

__all__ = ["PURPOSE", "Plan", "enqueue", "plan"]

PURPOSE = "broadcast"
"""The outbox purpose: WhatsApp sends it outside the 24-hour window only as the
template configured for it."""


@dataclass
class Plan:
    """The audience, and how many of the flow's participants were left out and why."""

    members: list[tuple[Member, str]] = field(default_factory=list)
    """Each recipient with the language their message is in."""
    left_out: Counter[str] = field(default_factory=Counter)
    languages: Counter[str] = field(default_factory=Counter)
    """Recipients by their language, ``he`` or ``ru -> he`` (no text in Russian)."""
    channels: Counter[str] = field(default_factory=Counter)


def plan(uow: UnitOfWork, flow: Flow, spec: Spec) -> Plan:
    audience = spec.audience
    found = Plan()
    candidates: list[Member] = []
    for member in uow.outreach.audience(flow.id, profiles=bool(audience.profile)):
        reason = _left_out(member, audience)
        if reason is not None:
            found.left_out[reason] += 1
        else:
            candidates.append(member)
    candidates = _by_deeds(uow, flow, audience, candidates, found)
    for member in candidates:
        language = str(member.state.get("language") or flow.default_language)
        _text, used = spec.message(flow, language)
        found.members.append((member, used))
        found.languages[language if used == language else f"{language} -> {used}"] += 1
        found.channels[member.channel] += 1
    return found


def _left_out(member: Member, audience: Audience) -> str | None:
    """Why this participant is not in the audience, or ``None``."""
    state = member.state
    if member.channel == CONSOLE:
        return "console walk-throughs (kolot chat) get no broadcasts"
    if not state.get("consented"):
        return "did not consent"
    if not member.reachable:
        return "stopped or blocked the bot"
    if audience.progress == "finished" and member.status != "finished":
        return "has not finished"
    if audience.progress == "unfinished" and member.status == "finished":
        return "has finished"
    if audience.channel and member.channel not in audience.channel:
        return "another channel"
    if audience.language and state.get("language") not in audience.language:
        return "another language"
    if audience.circle and member.circle not in audience.circle:
        return "another circle"
    if audience.source and member.source not in audience.source:
        return "another source"
    profile = member.profile or {}
    for name, wanted in audience.profile.items():
        if not _matches(profile.get(name), wanted):
            return f"another {name}"
    return None


def _matches(value: Any, wanted: tuple[str, ...]) -> bool:
    values = value if isinstance(value, list) else [value]
    return any(word(v) in wanted for v in values if v is not None)


def _by_deeds(uow: UnitOfWork, flow: Flow, audience: Audience, members: list[Member],
              found: Plan) -> list[Member]:
    """Narrow by what people did: took part in a phase, did or did not do some steps."""
    if audience.phase is not None:
        steps = [s.id for s in flow.steps if s.phase == audience.phase]
        did = uow.outreach.done(flow.id, steps)
        members = _keep(members, lambda m: m.participant_id in did,
                        f"did nothing in phase {audience.phase}", found)
    if audience.done:
        did = uow.outreach.done(flow.id, audience.done)
        members = _keep(members, lambda m: m.participant_id in did,
                        f"has not done {', '.join(audience.done)}", found)
    if audience.not_done:
        did = uow.outreach.done(flow.id, audience.not_done)
        members = _keep(members, lambda m: m.participant_id not in did,
                        f"has done {', '.join(audience.not_done)}", found)
    return members


def _keep(members: list[Member], test: Any, reason: str, found: Plan) -> list[Member]:
    kept = [m for m in members if test(m)]
    if len(kept) < len(members):
        found.left_out[reason] += len(members) - len(kept)
    return kept


def enqueue(uow: UnitOfWork, broadcast_id: int, flow: Flow, spec: Spec, *, now: datetime,
            due: datetime, prompt: Any = None, found: Plan | None = None) -> int | None:
    """Write the broadcast's recipients, once: ``None`` if they were written before (by
    anyone), else how many. ``prompt`` (``Service.prompt``) asks ``start_step`` after the
    message. ``found``: the plan already made in this transaction (``kolot broadcast``
    showed it before asking). The caller commits."""
    if not uow.broadcasts.begin_enqueue(broadcast_id):
        return None
    found = found or plan(uow, flow, spec)
    by_language: dict[str, list[int]] = {}
    for member, used in found.members:
        by_language.setdefault(used, []).append(member.participant_id)
    uow.broadcasts.add_by_id(broadcast_id, [
        (Outbound(spec.messages[language], language=language, purpose=PURPOSE).to_payload(),
         ids) for language, ids in by_language.items()
    ], due=due, now=now)
    if spec.start_step is not None and prompt is not None:
        chosen = {member.participant_id for member, _used in found.members}
        for member in uow.outreach.members(flow.id):  # with their whole state
            if member.participant_id in chosen:
                prompt(uow, member, lead=None, jump_to=spec.start_step, purpose=PURPOSE,
                       now=now, due=due)
    return uow.broadcasts.finish_enqueue(broadcast_id, now=now)
