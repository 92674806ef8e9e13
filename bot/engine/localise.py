"""A flow in another language: the same flow with its texts translated.

Flows are written in their default language; translators work in gettext catalogs where
each text is a message in a *context* naming where it sits (``title``, a step's id for its
text, ``STEP.options.OPTION`` for a label), so two identical sentences in two steps can be
translated apart. Translations are looked up by context *and* source text: when an
organiser rewrites a question, its old translation no longer applies and the participant
reads the new default text rather than a translation of the old one.

Pure: the caller reads the catalog; nothing but the flow changes here. Ids, rules and the
definition's hash stay as they are, so a run is still pinned to the same definition.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace

from bot.engine.flow import Flow, Option, Step

__all__ = ["TITLE", "Texts", "localise", "option_context", "translatable"]

TITLE = "title"
Texts = Mapping[tuple[str, str], str]
"""``(context, default-language text) -> translation``."""


def option_context(step: Step, option: Option) -> str:
    return f"{step.id}.options.{option.id}"


def translatable(flow: Flow) -> Iterator[tuple[str, str, int]]:
    """``(context, text, line)`` for every text a participant may read, in file order."""
    yield TITLE, flow.title, 1
    for step in flow.steps:
        if step.text:
            yield step.id, step.text, step.line
        if step.type == "language":
            continue  # its options are languages, each named in itself
        for option in step.options:
            yield option_context(step, option), option.label, step.line
    outreach = flow.outreach
    for phase in outreach.phases:
        if phase.announce:
            yield f"phases.{phase.id}.announce", phase.announce, phase.line
    if outreach.inactivity is not None and outreach.inactivity.text:
        yield "reminders.inactivity", outreach.inactivity.text, 1
    for n, deadline in enumerate(outreach.deadlines):
        if deadline.text:
            yield f"reminders.deadline.{n}", deadline.text, 1
    if outreach.results is not None and outreach.results.next:
        yield "results.next", outreach.results.next, 1


def localise(flow: Flow, texts: Texts) -> Flow:
    """``flow`` with every text that ``texts`` translates replaced; the rest stays in the
    default language. Option labels keep their default-language label as an alias, so a
    participant may still type it."""
    if not texts:
        return flow

    def text(context: str, source: str) -> str:
        return texts.get((context, source)) or source

    steps = tuple(
        replace(
            step,
            text=text(step.id, step.text) if step.text else step.text,
            options=tuple(
                replace(
                    option,
                    label=text(option_context(step, option), option.label),
                    aliases=(*option.aliases, option.label),
                )
                for option in step.options
            )
            if step.type != "language"
            else step.options,
        )
        for step in flow.steps
    )
    return replace(flow, title=text(TITLE, flow.title), steps=steps, _index=dict(flow._index))
