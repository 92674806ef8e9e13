"""``/stats`` and ``/results``: the figures ``kolot stats`` and ``kolot results`` print,
as a chat message."""

from __future__ import annotations

from bot.admin import texts
from bot.admin.turn import Turn
from bot.engine import Flow
from bot.results import agreement, approvals, ranking
from bot.stats import render_text, report

__all__ = ["SHOWN", "results", "stats"]

SHOWN = 10
"""Ideas listed per kind of vote."""


def stats(turn: Turn, flow: Flow) -> None:
    turn.reply(render_text(report(turn.uow, flow)).rstrip())


def results(turn: Turn, flow: Flow) -> None:
    """The top ideas by each kind of vote the flow has had: pairwise scores, agreement,
    approval."""
    uow = turn.uow
    parts: list[str] = []
    ranked = [r for r in ranking(uow, flow.id) if r.wins or r.losses][:SHOWN]
    if ranked:
        mark = f" ({turn.tr.gettext(texts.PROVISIONAL)})"
        parts.append("\n".join([turn.text(texts.RESULTS_PAIRWISE, flow=flow.id)] + [
            f"{r.rank}. {r.score:.1f} ({r.wins}-{r.losses}){mark if r.provisional else ''} "
            f"{r.text}" for r in ranked]))
    agreed = agreement(uow, flow.id)[:SHOWN]
    if agreed:
        parts.append("\n".join([turn.text(texts.RESULTS_AGREE, flow=flow.id)] + [
            f"{n}. {a.consensus:.3f} ({a.agree}/{a.disagree}/{a.passed}) {a.text}"
            for n, a in enumerate(agreed, start=1)]))
    approved = approvals(uow, flow.id)[:SHOWN]
    if approved:
        parts.append("\n".join([turn.text(texts.RESULTS_APPROVE, flow=flow.id)] + [
            f"{n}. {p.share:.0%} ({p.approved}/{p.shown}) {p.text}"
            for n, p in enumerate(approved, start=1)]))
    turn.reply("\n\n".join(parts) if parts else turn.text(texts.NO_VOTES, flow=flow.id))
