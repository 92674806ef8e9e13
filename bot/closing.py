"""Closing the loop: when a phase ends (or an admin closes it), everyone who took part
hears what came of it, in their language (PRINCIPLES rule 5).

Each gets, through the outbox: a chart of the ideas with the most support, the figures
(how many people, ideas and votes), the top ideas with their scores, where their own idea
came (if they wrote one), the shares of the questions the flow publishes, the organiser's
"what happens next"; then thanks, and whether they want to hear about future processes,
a consent of its own (:class:`storage.models.Consent`) they may give or withdraw by
answering again. Who took part: consented, reachable, and answered, proposed or voted;
nobody else is written to. The close is claimed once (a flow event), so two schedulers or
an admin's ``/close`` and the scheduler send the results once.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from bot import formatting
from bot.channels.base import Inbound, Outbound
from bot.engine import Flow, Translator
from bot.engine import texts as engine_texts
from bot.engine.bidi import fill
from bot.engine.inputs import Press, Text
from bot.engine.steps.yes_no import parse_yes_no, yes_no_buttons
from bot.i18n import translator
from bot.results import agreement, approvals, ranking
from storage import UnitOfWork
from storage.models import AgreeVote, Answer, Idea, PairwiseVote
from storage.repositories.outreach import Member

if TYPE_CHECKING:
    from bot.service import Handled, Service

__all__ = ["FUTURE", "PURPOSE", "Summary", "as_closed", "close_phase", "summarise",
           "take_answer"]

log = logging.getLogger(__name__)

PURPOSE = "results"
"""The outbox purpose: WhatsApp sends it outside the 24-hour window only as the template
configured for it."""
FUTURE = "future"
"""The consent kind: to hear about future processes."""
_LONGEST_ANSWER = 40


def _(message: str) -> str:
    """Marks a message id for extraction; translated where a translator is at hand."""
    return message


CHART_TITLE = _("The ideas with the most support")
RESULTS_HEAD = _("The results of {title} are in.")
FIGURES = _("{people} people took part: {ideas} ideas, {votes} votes.")
TOP = _("The ideas with the most support:")
POINTS = _("{score} points")
PERCENT = _("{share}%")
OWN_IDEA = _("Your idea “{idea}” came {rank} of {count}.")
NEXT = _("What happens next: {next}")
THANKS = _("Thank you for taking part!")
ASK_FUTURE = _("Would you like us to let you know about future consultations like this one?")
FUTURE_YES = _("Thank you, we will let you know. To change your mind, answer no here.")
FUTURE_NO = _("Understood: we will not write to you about future consultations.")


@dataclass(frozen=True, slots=True)
class Standing:
    idea: int
    text: str
    value: float
    author: int | None


@dataclass
class Summary:
    """What a flow's participants are told at its close, before any language."""

    people: int = 0
    ideas: int = 0
    votes: int = 0
    standings: list[Standing] = field(default_factory=list)
    """Every idea with votes, best first."""
    unit: str = "points"
    """``points`` (pairwise: 0-100) or ``percent`` (agree, approve)."""
    shares: list[tuple[str, list[tuple[str, float]]]] = field(default_factory=list)
    """Per published question: each option id with the share of answers choosing it."""


def summarise(uow: UnitOfWork, flow: Flow, took_part: int) -> Summary:
    session = uow.session
    summary = Summary(people=took_part)
    summary.ideas = int(session.scalar(select(func.count()).select_from(Idea).where(
        Idea.flow_id == flow.id, Idea.status == "approved")) or 0)
    summary.votes = sum(int(session.scalar(select(func.count()).select_from(model).where(
        model.flow_id == flow.id)) or 0) for model in (PairwiseVote, AgreeVote))
    authors: dict[int, int | None] = {int(row.id): row.participant_id for row in session.execute(
        select(Idea.id, Idea.participant_id).where(Idea.flow_id == flow.id))}
    method = next((s.method for s in flow.steps if s.type == "vote"), "pairwise")
    if method == "agree":
        summary.unit = "percent"
        summary.standings = sorted((
            Standing(a.idea, a.text, round(100 * a.agree / max(1, a.agree + a.disagree
                                                                 + a.passed)),
                     authors.get(a.idea)) for a in agreement(uow, flow.id)),
            key=lambda s: (-s.value, s.idea))
    elif method == "approve":
        summary.unit = "percent"
        summary.standings = [Standing(a.idea, a.text, round(100 * a.share), authors.get(a.idea))
                             for a in approvals(uow, flow.id)]
    else:
        summary.standings = [Standing(r.idea, r.text, r.score, authors.get(r.idea))
                             for r in ranking(uow, flow.id) if r.wins or r.losses]
    results = flow.outreach.results
    for step_id in results.publish if results is not None else ():
        summary.shares.append((step_id, _shares(uow, flow.id, step_id)))
    return summary


def _shares(uow: UnitOfWork, flow_id: str, step_id: str) -> list[tuple[str, float]]:
    """The share of those who answered choosing each option (a multiple choice counts
    every option picked), by each person's latest answer."""
    counts: Counter[str] = Counter()
    people = 0
    newest = {}  # participant -> the answer of their latest run (a restart starts over)
    for participant, value in uow.session.execute(
            select(Answer.participant_id, Answer.value)
            .where(Answer.flow_id == flow_id, Answer.step_id == step_id)
            .order_by(Answer.run_id)):
        newest[participant] = value
    for value in newest.values():
        chosen = value if isinstance(value, list) else [value]
        if not chosen or chosen == [None]:
            continue
        people += 1
        counts.update(formatting_key(v) for v in chosen)
    return [(option, count / people) for option, count in counts.most_common()] if people \
        else []


def formatting_key(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def close_phase(uow: UnitOfWork, service: Service, flow: Flow, phase_id: str, now: datetime,
                *, by: str | None = None, media: Path | None = None) -> int | None:
    """Send the results of ``flow`` to everyone who took part, once: ``None`` if they were
    sent before (by anyone), else to how many. ``by``: the admin who closed the phase
    early (recorded as the flow's ``closed`` event). The caller commits."""
    if not uow.outreach.happen(flow.id, "results", phase_id, now=now):
        return None
    if by is not None:
        uow.outreach.happen(flow.id, "closed", phase_id, now=now)
        log.info("phase %s of %s closed early by an admin", phase_id, flow.id)
    members = [m for m in uow.outreach.members(flow.id)
               if m.reachable and m.state.get("consented") and m.channel != "console"]
    did = uow.outreach.done(flow.id, [s.id for s in flow.steps],
                            [m.participant_id for m in members])
    audience = [m for m in members if m.participant_id in did]
    summary = summarise(uow, flow, len(audience))
    due = flow.outreach.quiet.release(now, flow.outreach.zone)
    charts: dict[str, tuple[list[Outbound], list[Outbound]]] = {}
    for member in audience:
        language = str(member.state.get("language") or flow.default_language)
        if language not in charts:
            charts[language] = _charts(service, summary, flow, language, media)
        for message in messages(service, flow, summary, member, language, charts[language]):
            uow.outbox.enqueue(member.participant_id, member.channel, member.address,
                               message.to_payload(), now=now, due=due)
        uow.consents.ask(member.participant_id, FUTURE, flow_id=flow.id,
                         text_sha256=_sha(ASK_FUTURE), now=now)
    return len(audience)


def as_closed(uow: UnitOfWork, flow: Flow) -> Flow:
    """``flow`` with the phases an admin closed early ending when they were closed, so
    their questions are no longer asked and their reminders no longer sent. The flow
    file's dates stay as written; the close is a flow event in the database."""
    if not flow.outreach.phases:
        return flow
    closed = uow.outreach.events(flow.id, "closed")
    if not closed:
        return flow
    phases = tuple(replace(p, ends=min(p.ends, closed[p.id])) if p.id in closed else p
                   for p in flow.outreach.phases)
    return replace(flow, outreach=replace(flow.outreach, phases=phases))


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _charts(service: Service, summary: Summary, flow: Flow, language: str,
            media: Path | None) -> tuple[list[Outbound], list[Outbound]]:
    """The pictures for one language, each with its caption: the top ideas', and each
    published question's shares. None without votes or answers, or nowhere to keep them."""
    if media is None:
        return [], []
    from bot.charts import bar_chart, share_chart  # matplotlib: only where one is drawn

    tr = translator(language)
    ideas: list[Outbound] = []
    questions: list[Outbound] = []
    top = _top(summary, flow)
    if top:
        png = bar_chart([(s.text, float(s.value)) for s in top],
                        title=tr.gettext(CHART_TITLE), language=language,
                        unit="%" if summary.unit == "percent" else "")
        ideas.append(Outbound(tr.gettext(CHART_TITLE), image=_keep(png, media, flow, language),
                              language=language, purpose=PURPOSE))
    localised = service.flows.localised(flow, language)
    for step_id, shares in summary.shares:
        if not shares:
            continue
        step = localised.step(step_id)
        labels = _labels(step, tr)
        png = share_chart([(labels.get(o, o), share) for o, share in shares],
                          title=step.text, language=language, ordered=step.type == "scale")
        questions.append(Outbound(step.text, image=_keep(png, media, flow, language),
                                  language=language, purpose=PURPOSE))
    return ideas, questions


def _keep(png: bytes, media: Path, flow: Flow, language: str) -> str:
    media.mkdir(parents=True, exist_ok=True)
    path = media / f"{flow.id}-results-{language}-{hashlib.sha256(png).hexdigest()[:12]}.png"
    path.write_bytes(png)
    return str(path.resolve())


def _labels(step: Any, tr: Translator) -> dict[str, str]:
    labels = {o.id: o.label for o in step.options}
    if step.type == "yes_no":
        labels |= {"yes": tr.gettext(engine_texts.YES), "no": tr.gettext(engine_texts.NO)}
    return labels


def _top(summary: Summary, flow: Flow) -> Sequence[Standing]:
    results = flow.outreach.results
    return summary.standings[: results.top if results is not None else 5]


def messages(service: Service, flow: Flow, summary: Summary, member: Member, language: str,
             charts: tuple[Sequence[Outbound], Sequence[Outbound]]) -> list[Outbound]:
    """What one participant is sent, in their language: the top ideas' chart, the
    results, the published questions' charts, the question about future processes."""
    tr = translator(language)
    localised = service.flows.localised(flow, language)
    title = localised.title or flow.id
    ideas_chart, question_charts = charts
    out: list[Outbound] = list(ideas_chart)
    lines = [fill(tr.gettext(RESULTS_HEAD), title=title),
             fill(tr.gettext(FIGURES), people=formatting.number(summary.people, language),
                  ideas=formatting.number(summary.ideas, language),
                  votes=formatting.number(summary.votes, language))]
    top = _top(summary, flow)
    if top:
        lines.append("")
        lines.append(tr.gettext(TOP))
        for n, standing in enumerate(top, start=1):
            value = _value(standing, summary, language, tr)
            lines.append(fill("{n}. {idea} ({value})", n=formatting.number(n, language),
                              idea=standing.text, value=value))
    own = [(n, s) for n, s in enumerate(summary.standings, start=1)
           if s.author == member.participant_id]
    if own:
        rank, standing = own[0]
        lines.append("")
        lines.append(fill(tr.gettext(OWN_IDEA), idea=standing.text,
                          rank=formatting.number(rank, language),
                          count=formatting.number(len(summary.standings), language)))
    for step_id, shares in summary.shares:
        if not shares:
            continue
        step = localised.step(step_id)
        labels = _labels(step, tr)
        lines.append("")
        lines.append(step.text)
        for option, share in shares:
            percent = formatting.number(round(100 * share), language)
            shown = fill(tr.gettext(PERCENT), share=percent)
            lines.append(fill("• {option}: {share}", option=labels.get(option, option),
                              share=shown))
    results = flow.outreach.results
    if results is not None and results.next:
        lines.append("")
        lines.append(fill(tr.gettext(NEXT), next=service.flows.outreach_text(
            flow, language, "results.next", results.next)))
    out.append(Outbound("\n".join(lines), language=language, purpose=PURPOSE))
    out += question_charts
    yes, no = yes_no_buttons(tr)
    out.append(Outbound(f"{tr.gettext(THANKS)}\n\n{tr.gettext(ASK_FUTURE)}", buttons=(yes, no),
                        kind="question", language=language, purpose=PURPOSE))
    return out


def _value(standing: Standing, summary: Summary, language: str, tr: Translator) -> str:
    if summary.unit == "percent":
        return fill(tr.gettext(PERCENT), share=formatting.number(round(standing.value), language))
    return fill(tr.gettext(POINTS), score=formatting.number(round(standing.value), language))


def take_answer(uow: UnitOfWork, inbound: Inbound, participant_id: int,
                language: str | None, now: datetime) -> Handled | None:
    """A participant's answer to the question about future processes: the tap on its
    buttons (whenever they tap: answering again changes it), or yes or no typed while
    it is the open question. Called by the service with the participant locked and the
    input recorded; ``None``: not that, the ordinary path takes the input."""
    from bot.service import Handled

    tap = inbound.tap
    typed = inbound.payload if inbound.payload is not None else inbound.text
    if inbound.command is not None or inbound.unreadable is not None or (
            tap is None and (typed is None or len(typed) > _LONGEST_ANSWER)):
        return None  # the common case, decided without a query
    # Only while the question is the newest with buttons: a "yes" to another flow's
    # question is that question's.
    live = uow.outbox.live_keyboard(participant_id, inbound.channel)
    if live is None or live[1].get("purpose") != PURPOSE:
        return None
    language = live[1].get("language") or language  # the question's own
    tr = translator(language)
    granted: bool | None
    if tap is not None:
        if not (tap.row == live[0] if tap.row is not None
                else tap.message_ref in (None, live[2])):
            return None
        if len(tap.picks) != 1 or tap.picks[0] not in (0, 1):
            return None
        granted = tap.picks[0] == 0
    else:
        given = Press(inbound.payload) if inbound.payload is not None else Text(typed or "")
        granted = parse_yes_no(given, tr)
        if granted is None:
            return None
    uow.consents.answer(participant_id, FUTURE, granted, now=now)
    said: list[Outbound] = []
    if tap is not None and tap.callback:
        said.append(Outbound("", action="answer", callback=tap.callback, despite_stop=True))
    said.append(Outbound(tr.gettext(FUTURE_YES if granted else FUTURE_NO), language=language))
    for message in said:
        uow.outbox.enqueue(participant_id, inbound.channel, inbound.address,
                           message.to_payload(), now=now)
    return Handled(False, said)
