"""Reading a flow's phases, reminders and quiet hours, and what an organiser can get wrong
in them: an unknown time zone, a phase that ends before it starts or overlaps the next,
a step or phase that does not exist. Each error names the file, line and the phase or step.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.engine.diagnostics import Diagnostic
from bot.engine.flow import Flow
from bot.engine.loader import Where, suggest
from bot.engine.outreach import (
    Closing,
    Deadline,
    Inactivity,
    Outreach,
    Phase,
    QuietHours,
    Span,
    duration,
    local_moment,
    local_time,
    weekday_time,
)

__all__ = ["PUBLISHABLE", "build_outreach", "check_outreach_refs"]

PUBLISHABLE = ("choice", "multi_choice", "yes_no", "scale")
"""Step kinds whose answers results can sum up as shares (free text is never published)."""


def build_outreach(doc: Mapping[str, Any], where: Where, diags: list[Diagnostic]) -> Outreach:
    zone_name = str(doc.get("timezone") or "UTC")
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        diags.append(where.diag(["timezone"], f"'{zone_name}' is not a time zone; write one "
                                "such as Asia/Jerusalem, Europe/London or UTC"))
        zone_name, zone = "UTC", ZoneInfo("UTC")
    phases: list[Phase] = []
    for n, raw in enumerate(doc.get("phases") or []):
        starts = local_moment(str(raw["starts"]), zone)
        ends = local_moment(str(raw["ends"]), zone)
        phase = Phase(str(raw["id"]), starts, ends, str(raw.get("announce") or ""),
                      None if raw.get("invite") is None else str(raw["invite"]),
                      where.at(["phases", n])[0])
        if ends <= starts:
            diags.append(where.diag(["phases", n, "ends"], f"phase '{phase.id}' ends "
                                    f"({raw['ends']}) before it starts ({raw['starts']})"))
        if phases and any(p.id == phase.id for p in phases):
            diags.append(where.diag(["phases", n, "id"],
                                    f"phase id '{phase.id}' is already used"))
        if phases and starts < phases[-1].ends:
            diags.append(where.diag(["phases", n, "starts"], f"phase '{phase.id}' starts "
                                    f"({raw['starts']}) before phase '{phases[-1].id}' ends; "
                                    "list phases in order, one after the other"))
        phases.append(phase)
    reminders = doc.get("reminders") or {}
    inactivity = None
    if reminders.get("inactivity"):
        raw_in = reminders["inactivity"]
        inactivity = Inactivity(tuple(duration(str(a)) for a in raw_in["after"]),
                                str(raw_in.get("text") or ""))
    deadlines = tuple(
        Deadline(str(d["phase"]), duration(str(d["before"])),
                 tuple(str(u) for u in d.get("unless") or ()), str(d.get("text") or ""))
        for d in reminders.get("deadline") or ()
    )
    quiet_raw = doc.get("quiet_hours") or {}
    quiet = QuietHours(
        start=local_time(str(quiet_raw.get("from") or "21:00")),
        end=local_time(str(quiet_raw.get("to") or "08:00")),
        spans=tuple(Span(*weekday_time(str(a["from"])), *weekday_time(str(a["to"])))
                    for a in quiet_raw.get("also") or ()),
    )
    access: Literal["open", "closed"] = "closed" if doc.get("access") == "closed" else "open"
    targets = {str(dimension): {str(value): float(share) for value, share in shares.items()}
               for dimension, shares in (doc.get("targets") or {}).items()}
    raw_results = doc.get("results")
    results = None if not raw_results else Closing(
        str(raw_results["after"]), int(raw_results.get("top") or 5),
        tuple(str(s) for s in raw_results.get("publish") or ()),
        str(raw_results.get("next") or ""))
    return Outreach(zone_name, tuple(phases), inactivity, deadlines, quiet,
                    int(doc.get("reminders_per_day") or 2), access, targets, results)


def check_outreach_refs(flow: Flow, where: Where, diags: list[Diagnostic]) -> None:
    """Phases and steps named in the outreach settings, and by steps, exist."""
    phases = [p.id for p in flow.outreach.phases]
    steps = [s.id for s in flow.steps]
    for n, phase in enumerate(flow.outreach.phases):
        if phase.invite is not None and phase.invite not in steps:
            diags.append(where.diag(["phases", n, "invite"], f"phase '{phase.id}' invites to "
                                    f"step '{phase.invite}', which does not exist"
                                    f"{suggest(phase.invite, steps)}"))
    for n, deadline in enumerate(flow.outreach.deadlines):
        path: list[str | int] = ["reminders", "deadline", n]
        if deadline.phase not in phases:
            diags.append(where.diag([*path, "phase"], f"the deadline reminder names phase "
                                    f"'{deadline.phase}', which is not among the phases"
                                    f"{suggest(deadline.phase, phases)}"))
        for u, named in enumerate(deadline.unless):
            if named not in steps:
                diags.append(where.diag([*path, "unless", u], f"the deadline reminder names "
                                        f"step '{named}', which does not exist"
                                        f"{suggest(named, steps)}"))
    results = flow.outreach.results
    if results is not None:
        if results.after not in phases:
            hint = suggest(results.after, phases) if phases else "; add it under phases"
            diags.append(where.diag(["results", "after"], f"results are sent after phase "
                                    f"'{results.after}', which is not among the phases{hint}"))
        for n, named in enumerate(results.publish):
            kind = next((s.type for s in flow.steps if s.id == named), None)
            if kind is None:
                diags.append(where.diag(["results", "publish", n], f"step '{named}' does not "
                                        f"exist{suggest(named, steps)}"))
            elif kind not in PUBLISHABLE:
                diags.append(where.diag(["results", "publish", n], f"step '{named}' is a "
                                        f"{kind} step; only the answers of "
                                        f"{', '.join(PUBLISHABLE)} steps can be summed up"))
    for i, step in enumerate(flow.steps):
        if step.phase is not None and step.phase not in phases:
            hint = suggest(step.phase, phases) if phases else "; add it under phases"
            diags.append(where.diag(["steps", i, "phase"], f"phase '{step.phase}' is not "
                                    f"among the flow's phases{hint}"))
