"""The organiser's mistakes that a schema cannot see, found before a participant meets them.

Runs on a document that already has the right shape. Checks, in the order an organiser
would fix them: duplicate and reserved ids, targets that don't exist, conditions (syntax,
unknown steps and profile fields, values that are not options or of the wrong kind),
ranges (min > max), labels that a channel would cut (warnings); then, once those are clean,
consent before any stored answer, unreachable steps, and loops that never reach a question.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from ruamel.yaml.comments import CommentedMap

from bot.engine.conditions import (
    Compare,
    Condition,
    ConditionSyntaxError,
    ListLiteral,
    Literal,
    Name,
    parse,
    walk,
)
from bot.engine.diagnostics import Diagnostic
from bot.engine.flow import Flow, Option, Rule, Step
from bot.engine.loader import Where, suggest
from bot.engine.outreach_check import build_outreach, check_outreach_refs
from bot.engine.steps import KINDS
from bot.engine.steps.text import DEFAULT_MAX_LENGTH

__all__ = ["BUTTON_TITLE_LIMIT", "LIST_ROW_LIMIT", "build_and_check"]

BUTTON_TITLE_LIMIT = 20  # WhatsApp quick-reply button title
BUTTON_COUNT_LIMIT = 3  # WhatsApp quick-reply buttons per message; more options become a list
LIST_ROW_LIMIT = 24  # WhatsApp list row title
LIST_ROWS_LIMIT = 10  # WhatsApp list rows per message
SCALE_VALUES_LIMIT = LIST_ROWS_LIMIT  # one button or list row per value
RESERVED_IDS = frozenset({"profile", "and", "or", "not", "in", "true", "false", "null"})

Report = Callable[[int, str], None]


def build_and_check(
    doc: Mapping[str, Any], where: Where, sha256: str
) -> tuple[Flow, list[Diagnostic]]:
    diags: list[Diagnostic] = []
    raw_steps: list[CommentedMap] = list(doc["steps"])

    seen: dict[str, int] = {}
    for i, raw in enumerate(raw_steps):
        sid = raw["id"]
        if sid in seen:
            diags.append(where.diag(["steps", i, "id"], f"step id '{sid}' is already used by the "
                                    f"step at line {seen[sid]}; give each step its own id"))
        else:
            seen[sid] = where.at(["steps", i])[0]
        if sid in RESERVED_IDS:
            diags.append(where.diag(["steps", i, "id"], f"'{sid}' cannot be a step id, because "
                                    "conditions use it as a word of their own; choose another id"))

    default = doc["default_language"]
    languages = list(doc.get("languages") or [default])
    if default not in languages:
        diags.append(where.diag(["default_language"], f"default_language '{default}' is not in "
                                f"languages ({', '.join(languages)}); add it there"))

    steps = [_build_step(raw, i, where, diags, languages) for i, raw in enumerate(raw_steps)]
    flow = Flow(
        id=str(doc["id"]),
        version=int(doc["version"]),
        title=str(doc.get("title") or doc["id"]),
        default_language=str(doc["default_language"]),
        languages=tuple(languages),
        moderation=str(doc.get("moderation") or "post"),
        flags_to_hide=int(doc.get("flags_to_hide") or 3),
        steps=tuple(steps),
        source_name=where.name,
        sha256=sha256,
        outreach=build_outreach(doc, where, diags),
        retention_days=_whole(doc.get("retention_days")),
    )
    by_id: dict[str, Step] = {}
    index: dict[str, int] = {}
    for i, step in enumerate(steps):
        by_id.setdefault(step.id, step)
        index.setdefault(step.id, i)

    check_outreach_refs(flow, where, diags)
    _check_retention(flow, where, diags)
    for i, step in enumerate(steps):
        _check_pool(step, i, by_id, where, diags)
        _check_targets(step, i, by_id, where, diags)
        _check_options(step, i, where, diags)
        _check_ranges(step, i, where, diags)
        _check_labels(step, i, where, diags)
        for r, rule in enumerate(step.rules):
            path: list[str | int] = ["steps", i, "rules", r, "when"]
            _check_condition(rule, path, by_id, steps, where, diags)
    if any(d.severity == "error" for d in diags):
        return flow, diags

    _check_consent(flow, index, where, diags)
    _check_reachable(flow, index, where, diags)
    _check_loops(flow, index, where, diags)
    return flow, diags


def _language_options(languages: list[str]) -> tuple[Option, ...]:
    """A language step offers the flow's languages, labelled by code here; whoever runs the
    flow names them in themselves (``bot.registry``), the engine needing no locale data."""
    return tuple(Option(code, code) for code in languages)


def _build_step(
    raw: Mapping[str, Any], i: int, where: Where, diags: list[Diagnostic], languages: list[str]
) -> Step:
    rules: list[Rule] = []
    branch_rules = raw.get("rules") if raw["type"] == "branch" else None
    for r, raw_rule in enumerate(branch_rules or []):
        source = str(raw_rule["when"])
        try:
            condition: Condition = parse(source)
        except ConditionSyntaxError as exc:
            path: list[str | int] = ["steps", i, "rules", r, "when"]
            diags.append(where.diag(path, f"condition '{_one_line(source)}': {exc.message}",
                                    position=where.inside(path, exc.offset)))
            condition = Literal(False, 0)
        rules.append(Rule(source=source, condition=condition, next=str(raw_rule["next"])))
    # Plain str, int and float only: the YAML library's subclasses stay out of the model.
    return Step(
        id=str(raw["id"]),
        type=str(raw["type"]),
        text=str(raw.get("text") or ""),
        next=_text(raw.get("next")),
        optional=bool(raw.get("optional", False)),
        profile=_text(raw.get("profile")),
        options=_language_options(languages) if raw["type"] == "language" else tuple(
            Option(str(o["id"]), str(o["label"])) for o in raw.get("options") or []
        ),
        min=_number(raw.get("min")),
        max=_number(raw.get("max")),
        min_length=_whole(raw.get("min_length")),
        max_length=_whole(raw.get("max_length")),
        integer=bool(raw.get("integer", False)),
        max_items=_whole(raw.get("max_ideas") if raw["type"] == "idea" else raw.get("pick")),
        pool=_text(raw.get("pool")),
        votes=_whole(raw.get("votes")),
        method=str(raw.get("method") or "pairwise"),
        show=_whole(raw.get("show")),
        discourse=str(raw.get("rules") or "") if raw["type"] == "idea" else "",
        rules=tuple(rules),
        otherwise=_text(raw.get("otherwise")),
        phase=_text(raw.get("phase")),
        line=where.at(["steps", i])[0],
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _whole(value: Any) -> int | None:
    return None if value is None else int(value)


def _number(value: Any) -> float | None:
    if value is None:
        return None
    return int(value) if isinstance(value, int) else float(value)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _show(value: Any) -> str:
    """A value as it is written in a condition."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return json.dumps(value, ensure_ascii=False)


def _n(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


# --- references, options, ranges, labels ----------------------------------------------------


def _missing_target(key: str, target: str, by_id: Mapping[str, Step]) -> str:
    return (f"{key}: there is no step '{target}'{suggest(target, by_id)}; "
            "point it at the id of a step in this file")


def _check_pool(
    step: Step, i: int, by_id: Mapping[str, Step], where: Where, diags: list[Diagnostic]
) -> None:
    if step.pool is None:
        return
    pool = by_id.get(step.pool)
    if pool is None:
        diags.append(where.diag(["steps", i, "pool"], _missing_target("pool", step.pool, by_id)))
    elif pool.type != "idea":
        diags.append(where.diag(["steps", i, "pool"], f"pool '{step.pool}' is a {pool.type} "
                                "step; a vote needs the id of an idea step"))


def _check_targets(
    step: Step, i: int, by_id: Mapping[str, Step], where: Where, diags: list[Diagnostic]
) -> None:
    if step.next is not None and step.next not in by_id:
        diags.append(where.diag(["steps", i, "next"], _missing_target("next", step.next, by_id)))
    if step.otherwise is not None and step.otherwise not in by_id:
        diags.append(where.diag(["steps", i, "otherwise"],
                                _missing_target("otherwise", step.otherwise, by_id)))
    for r, rule in enumerate(step.rules):
        if rule.next not in by_id:
            diags.append(where.diag(["steps", i, "rules", r, "next"],
                                    _missing_target(f"rule {r + 1} next", rule.next, by_id)))


def _check_retention(flow: Flow, where: Where, diags: list[Diagnostic]) -> None:
    """Retention counts from the flow's close, the end of its last phase: a flow without
    phases never closes, so its data would never be removed on its own."""
    if flow.retention_days is not None and not flow.outreach.phases:
        diags.append(where.diag(["retention_days"], f"retention_days is {flow.retention_days}, "
                                "but this flow has no phases, so it never closes and its data "
                                "is never removed; add phases with dates (the data goes "
                                "retention_days after the last one ends), or remove the key",
                                severity="warning"))


def _check_options(step: Step, i: int, where: Where, diags: list[Diagnostic]) -> None:
    ids: dict[str, int] = {}
    labels: dict[str, int] = {}
    for o, option in enumerate(step.options):
        line = where.at(["steps", i, "options", o])[0]
        if option.id in ids:
            diags.append(where.diag(["steps", i, "options", o, "id"], f"option id '{option.id}' "
                                    f"is already used by the option at line {ids[option.id]}; "
                                    "give each option its own id"))
        ids.setdefault(option.id, line)
        folded = option.label.casefold()
        if folded in labels:
            diags.append(where.diag(["steps", i, "options", o, "label"], f"option label "
                                    f"'{option.label}' is already used by the option at line "
                                    f"{labels[folded]}; participants could not tell them apart, "
                                    "so give each option its own label"))
        labels.setdefault(folded, line)


def _check_ranges(step: Step, i: int, where: Where, diags: list[Diagnostic]) -> None:
    def error(key: str, message: str) -> None:
        diags.append(where.diag(["steps", i, key], message))

    low, high = step.min, step.max
    if step.type == "scale":
        low = 1 if low is None else low
        high = 5 if high is None else high
    if low is not None and high is not None and low > high:
        default = ", the default when max is not given" if step.max is None else ""
        error("min" if step.min is not None else "max",
              f"min ({_n(low)}) is greater than max ({_n(high)}{default}), so no answer fits; "
              "swap them or fix one")
    elif step.type == "scale" and low is not None and high is not None:
        count = int(high - low + 1)
        if count > SCALE_VALUES_LIMIT:
            diags.append(where.diag(["steps", i, "max"], f"a scale of {count} values does not fit "
                                    f"in a WhatsApp list ({LIST_ROWS_LIMIT} rows), so there it is "
                                    f"sent as numbered text; use at most {SCALE_VALUES_LIMIT} "
                                    "values (such as 1 to 10), or a number step",
                                    severity="warning"))
    if step.type == "multi_choice":
        options = len(step.options)
        for key, value in (("min", step.min), ("max", step.max)):
            if key == "min" and step.max is not None and value is not None and value > step.max:
                continue  # already reported as min > max
            if value is not None and value > options:
                error(key, f"{key} is {_n(value)} but the step has only {options} options; "
                           f"lower {key} to {options} or add options")
    if step.type == "text":
        longest = step.max_length or DEFAULT_MAX_LENGTH
        if step.min_length is not None and step.min_length > longest:
            default = ", the default" if step.max_length is None else ""
            error("min_length", f"min_length ({step.min_length}) is greater than max_length "
                                f"({longest}{default}), so no answer fits; lower min_length or "
                                "raise max_length")


def _check_labels(step: Step, i: int, where: Where, diags: list[Diagnostic]) -> None:
    count = len(step.options)
    if count > LIST_ROWS_LIMIT:
        diags.append(where.diag(["steps", i, "options"], f"{count} options: WhatsApp lists hold "
                                f"at most {LIST_ROWS_LIMIT}, so there they are sent as numbered "
                                f"text; keep to {LIST_ROWS_LIMIT} options to get a list",
                                key=True, severity="warning"))
    buttons = count <= BUTTON_COUNT_LIMIT
    limit = BUTTON_TITLE_LIMIT if buttons else LIST_ROW_LIMIT
    shown_as = "reply buttons" if buttons else "list rows"
    for o, option in enumerate(step.options):
        if len(option.label) > limit:
            diags.append(where.diag(["steps", i, "options", o, "label"], f"option label "
                                    f"'{option.label}' is {len(option.label)} characters; WhatsApp "
                                    f"{shown_as} show at most {limit}, so shorten it to {limit} "
                                    "or fewer", severity="warning"))


# --- conditions ---------------------------------------------------------------------------


def _check_condition(
    rule: Rule,
    path: list[str | int],
    by_id: Mapping[str, Step],
    steps: list[Step],
    where: Where,
    diags: list[Diagnostic],
) -> None:
    profile_fields = sorted({s.profile for s in steps if s.profile})
    option_ids = {o.id for s in steps for o in s.options}

    def report(offset: int, message: str) -> None:
        diags.append(where.diag(path, f"condition '{_one_line(rule.source)}': {message}",
                                position=where.inside(path, offset)))

    for node in walk(rule.condition):
        if isinstance(node, Name) and node.scope == "profile":
            if node.name not in profile_fields:
                known = ", ".join(profile_fields) or "none yet"
                report(rule.source.find(node.name, node.offset),
                       f"no step stores the profile field '{node.name}'"
                       f"{suggest(node.name, profile_fields)}; add 'profile: {node.name}' to the "
                       f"question that asks it (profile fields in this flow: {known})")
        elif isinstance(node, Name) and node.name not in by_id:
            report(node.offset, _unknown_name(node.name, by_id, option_ids))
        elif isinstance(node, Name) and not KINDS[by_id[node.name].type].collects:
            kind = by_id[node.name].type
            report(node.offset, f"'{node.name}' is a{'n' if kind[0] in 'aeiou' else ''} {kind} "
                                "step, which has no answer to test; name a question's step id")
        if isinstance(node, Compare):
            for name, other, left in ((node.left, node.right, True),
                                      (node.right, node.left, False)):
                if isinstance(name, Name):
                    step = _answer_step(name, by_id, steps)
                    if step is not None:
                        _check_values(name, step, node.op, other, left, report)


def _unknown_name(name: str, by_id: Mapping[str, Step], option_ids: set[str]) -> str:
    lower = name.lower()
    if lower in ("true", "false", "null", "and", "or", "not", "in"):
        return f"'{name}' is not a step id; write {lower} in lower case"
    if name in option_ids:
        return (f"'{name}' is not a step id; to compare with the option '{name}', put it in "
                f"quotes: \"{name}\"")
    if lower in ("yes", "no"):
        return (f"'{name}' is not a step id; a yes_no answer is true or false, so write "
                f"{'true' if lower == 'yes' else 'false'}")
    return (f"'{name}' is not a step id{suggest(name, by_id)}; name a question by its step id, "
            "or a profile field as profile.NAME")


def _answer_step(name: Name, by_id: Mapping[str, Step], steps: list[Step]) -> Step | None:
    """The question whose answer ``name`` holds (for a profile field: the first that sets it)."""
    if name.scope == "answer":
        step = by_id.get(name.name)
    else:
        step = next((s for s in steps if s.profile == name.name), None)
    return step if step is not None and KINDS[step.type].collects else None


def _check_values(
    name: Name, step: Step, op: str, other: Any, left: bool, report: Report
) -> None:
    """Values compared with an answer must be of the kind that answer can hold."""
    shown = f"profile.{name.name}" if name.scope == "profile" else name.name
    literals: list[Literal] = []
    if isinstance(other, Literal):
        literals = [other]
    elif isinstance(other, ListLiteral):
        literals = list(other.items)
    single = isinstance(other, Literal) and other.value is not None
    if step.type == "multi_choice" and (
        (op in ("==", "!=") and single) or (op in ("in", "not in") and left and literals)
    ):
        example = next((x.value for x in literals if isinstance(x.value, str)), "OPTION_ID")
        negated = op in ("!=", "not in")
        report(name.offset, f"'{shown}' holds the list of chosen options; to test one option "
                            f"write {_show(example)} {'not in' if negated else 'in'} {shown}")
        return
    for literal in literals:
        value = literal.value
        if value is None:
            continue
        if step.type in ("choice", "multi_choice"):
            ids = [o.id for o in step.options]
            if value not in ids:
                report(literal.offset, f"{_show(value)} is not an option of step '{step.id}'"
                                       f"{suggest(str(value), ids)}; its options are: "
                                       f"{', '.join(ids)}")
        elif step.type == "yes_no" and not isinstance(value, bool):
            report(literal.offset, f"'{shown}' is answered yes or no, which is stored as true "
                                   f"or false; compare it with true or false, not {_show(value)}")
        elif step.type in ("scale", "number") and (
            isinstance(value, bool) or not isinstance(value, (int, float))
        ):
            hint = "without quotes" if _is_number(value) else "such as 3"
            report(literal.offset, f"'{shown}' holds a number; compare it with a number "
                                   f"{hint}, not {_show(value)}")
        elif step.type == "text" and not isinstance(value, str):
            report(literal.offset, f"'{shown}' holds text; compare it with text in quotes, "
                                   f"not {_show(value)}")


def _is_number(value: Any) -> bool:
    try:
        float(str(value))
    except ValueError:
        return False
    return not isinstance(value, bool)


# --- paths through the flow ---------------------------------------------------------------


def _successors(flow: Flow, step: Step) -> list[str]:
    """Where a run can go from ``step``; an end (or falling off the file) has none."""
    if step.type == "end":
        return []
    if step.type == "branch":
        targets = [r.next for r in step.rules]
        fallback = step.otherwise if step.otherwise is not None else flow.following(step)
        return [*targets, *([fallback] if fallback else [])]
    following = flow.following(step)
    return [following] if following else []


def _check_consent(
    flow: Flow, index: Mapping[str, int], where: Where, diags: list[Diagnostic]
) -> None:
    """Every path from the start must pass a consent step before a stored answer."""
    consents = [s.id for s in flow.steps if s.type == "consent"]
    came_from: dict[str, str | None] = {flow.first.id: None}
    todo = [flow.first.id]
    while todo:
        sid = todo.pop(0)
        step = flow.step(sid)
        if step.type == "consent":
            continue
        if KINDS[step.type].collects:
            route = [sid]
            while (before := came_from[route[-1]]) is not None:
                route.append(before)
            path = " -> ".join(reversed(route))
            if consents:
                message = (f"this {step.type} step stores an answer before the participant has "
                           f"agreed (path: {path}); move the consent step '{consents[0]}' before "
                           "it, or add one")
            else:
                message = (f"this flow has no consent step, so this {step.type} answer would be "
                           "stored without the participant's agreement; add a step with "
                           "type: consent before the first question")
            diags.append(where.diag(["steps", index[sid], "id"], message))
            continue
        for target in _successors(flow, step):
            if target not in came_from:
                came_from[target] = sid
                todo.append(target)


def _reachable(flow: Flow) -> set[str]:
    seen = {flow.first.id}
    todo = [flow.first.id]
    while todo:
        for target in _successors(flow, flow.step(todo.pop())):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _check_reachable(
    flow: Flow, index: Mapping[str, int], where: Where, diags: list[Diagnostic]
) -> None:
    seen = _reachable(flow)
    for n, step in enumerate(flow.steps):
        if step.id in seen:
            continue
        above = flow.steps[n - 1]
        if above.id not in seen:
            reason = f"it only follows '{above.id}', which cannot be reached either"
        elif above.type == "end":
            reason = f"the step above it, '{above.id}', ends the run"
        elif above.type == "branch":
            reason = f"the branch above it, '{above.id}', always goes elsewhere"
        else:
            reason = f"the step above it, '{above.id}', goes on to '{above.next}'"
        diags.append(where.diag(["steps", index[step.id], "id"], f"no path leads to this step "
                                f"({reason}); point a 'next' or a branch rule at it, or remove it"))


def _check_loops(
    flow: Flow, index: Mapping[str, int], where: Where, diags: list[Diagnostic]
) -> None:
    """A cycle of messages and branches repeats forever: nothing in it waits for input."""
    passive = [s.id for s in flow.steps if not KINDS[s.type].interactive and s.type != "end"]
    edges = {sid: [t for t in _successors(flow, flow.step(sid)) if t in passive]
             for sid in passive}
    reach: dict[str, set[str]] = {}
    for begin in passive:
        seen: set[str] = set()
        todo = list(edges[begin])
        while todo:
            sid = todo.pop()
            if sid not in seen:
                seen.add(sid)
                todo.extend(edges[sid])
        reach[begin] = seen
    reported: set[str] = set()
    for first in passive:  # file order, so a loop is reported at its first step
        if first in reported or first not in reach[first]:
            continue
        loop = {sid for sid in reach[first] if first in reach[sid]}
        reported |= loop
        came_from: dict[str, str] = {}
        todo = [first]
        while first not in came_from:
            sid = todo.pop(0)
            for target in edges[sid]:
                if target in loop and target not in came_from:
                    came_from[target] = sid
                    todo.append(target)
        cycle = [first]
        while (before := came_from[cycle[-1]]) != first:
            cycle.append(before)
        names = " -> ".join([first, *reversed(cycle[1:]), first])
        diags.append(where.diag(["steps", index[first], "id"], f"steps {names} form a loop with "
                                "no question or end in it, so a participant would be stuck; add "
                                "a question to the loop or point one of them elsewhere"))
