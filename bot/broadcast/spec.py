"""A broadcast file: what to say, in which languages, to whom, and when.

```yaml
name: results-2026-12          # the broadcast's name: run the file again to resume it
flow: park-renewal             # whose participants (only those who consented)
messages:                      # one text per language; the flow's own language is a must
  he: התוצאות פורסמו! ...
  ar: تم نشر النتائج! ...
  en: The results are out! ...
audience:                      # every key narrows; none: everyone who consented
  progress: finished           # any | unfinished | finished
  phase: voting                # took part in this phase (answered or voted at its steps)
  done: [vote]                 # answered (or voted) at any of these steps
  not_done: [idea]             # ... at none of these
  profile: {district: [north, south]}
  circle: experts              # one value or a list, for circle, source, language, channel
  language: [he, ar]
  channel: telegram
send_at: 2026-12-22 09:00      # the flow's time zone; default: now. Quiet hours defer it.
start_step: vote               # then ask this step (the run moves there)
```

Read with positions like a flow file, so every mistake is reported with its file, line
and column; the result is checked against the flow it names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, cast

from jsonschema import Draft202012Validator

from bot.engine import Flow
from bot.engine.diagnostics import Diagnostic
from bot.engine.loader import Where, read_document, suggest
from bot.engine.outreach import local_moment
from bot.engine.schema import DATETIME_PATTERN, ID_PATTERN, LANGUAGE_PATTERN

__all__ = ["CHANNELS", "Audience", "Spec", "check_spec"]

CHANNELS = ("telegram", "whatsapp")
Progress = Literal["any", "unfinished", "finished"]

_ONE_OR_MORE = {"anyOf": [{"type": "string"},
                          {"type": "array", "items": {"type": "string"}, "minItems": 1}]}
_VALUES = {"anyOf": [{"type": ["string", "boolean", "number"]},
                     {"type": "array", "items": {"type": ["string", "boolean", "number"]},
                      "minItems": 1}]}
_STEPS = {"type": "array", "items": {"type": "string", "pattern": ID_PATTERN}, "minItems": 1}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["name", "flow", "messages"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$",
                 "description": "The broadcast's name: running the file again resumes it."},
        "flow": {"type": "string", "pattern": ID_PATTERN},
        "messages": {"type": "object", "minProperties": 1,
                     "propertyNames": {"pattern": LANGUAGE_PATTERN},
                     "additionalProperties": {"type": "string", "minLength": 1}},
        "audience": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "progress": {"enum": ["any", "unfinished", "finished"]},
                "phase": {"type": "string", "pattern": ID_PATTERN},
                "done": _STEPS,
                "not_done": _STEPS,
                "profile": {"type": "object", "additionalProperties": _VALUES},
                "circle": _ONE_OR_MORE,
                "source": _ONE_OR_MORE,
                "language": _ONE_OR_MORE,
                "channel": _ONE_OR_MORE,
            },
        },
        "send_at": {"type": "string", "pattern": DATETIME_PATTERN},
        "start_step": {"type": "string", "pattern": ID_PATTERN},
    },
}
_VALIDATOR = Draft202012Validator(SCHEMA)


@dataclass(frozen=True, slots=True)
class Audience:
    progress: Progress = "any"
    phase: str | None = None
    done: tuple[str, ...] = ()
    not_done: tuple[str, ...] = ()
    profile: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    circle: tuple[str, ...] = ()
    source: tuple[str, ...] = ()
    language: tuple[str, ...] = ()
    channel: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Spec:
    name: str
    flow_id: str
    messages: Mapping[str, str]
    audience: Audience = field(default_factory=Audience)
    send_at: str | None = None
    """Wall-clock time in the flow's time zone, as written."""
    start_step: str | None = None

    def to_json(self) -> dict[str, Any]:
        a = self.audience
        return {"name": self.name, "flow": self.flow_id, "messages": dict(self.messages),
                "audience": {"progress": a.progress, "phase": a.phase, "done": list(a.done),
                             "not_done": list(a.not_done),
                             "profile": {k: list(v) for k, v in a.profile.items()},
                             "circle": list(a.circle), "source": list(a.source),
                             "language": list(a.language), "channel": list(a.channel)},
                "send_at": self.send_at, "start_step": self.start_step}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Spec:
        raw = dict(data.get("audience") or {})
        named = str(raw.get("progress"))
        progress = cast(Progress, named if named in ("unfinished", "finished") else "any")
        audience = Audience(
            progress=progress,
            phase=raw.get("phase"),
            done=_many(raw.get("done")),
            not_done=_many(raw.get("not_done")),
            profile={str(k): _many(v) for k, v in (raw.get("profile") or {}).items()},
            circle=_many(raw.get("circle")),
            source=_many(raw.get("source")),
            language=_many(raw.get("language")),
            channel=_many(raw.get("channel")),
        )
        return cls(str(data["name"]), str(data["flow"]),
                   {str(k): str(v) for k, v in data["messages"].items()}, audience,
                   None if data.get("send_at") is None else str(data["send_at"]),
                   None if data.get("start_step") is None else str(data["start_step"]))

    def send_time(self, flow: Flow, now: datetime) -> datetime:
        """When it goes: ``send_at`` in the flow's zone (never before ``now``), deferred
        past quiet hours."""
        outreach = flow.outreach
        wanted = now if self.send_at is None else max(
            now, local_moment(self.send_at, outreach.zone))
        return outreach.quiet.release(wanted, outreach.zone)

    def message(self, flow: Flow, language: str) -> tuple[str, str]:
        """The text for a participant speaking ``language``, and the language it is in:
        theirs when given, else the flow's own."""
        if language in self.messages:
            return self.messages[language], language
        return self.messages[flow.default_language], flow.default_language


def word(value: Any) -> str:
    """A stored or written value as the filters compare it: a yes/no answer is ``true``
    or ``false`` however it was written."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _many(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, (str, bool, int, float)):
        return (word(value),)
    return tuple(word(v) for v in value)


def check_spec(text: str, name: str, find_flow: Callable[[str], Flow | None],
               flow_ids: Sequence[str] = (), *,
               now: datetime) -> tuple[Spec | None, Flow | None, list[Diagnostic]]:
    """The broadcast in ``text`` and its flow, or every problem with file and line."""
    doc, where, problems = read_document(text, name, _VALIDATOR, what="a broadcast")
    if where is None or problems:
        return None, None, problems
    spec = Spec.from_json(doc)
    flow = find_flow(spec.flow_id)
    if flow is None:
        hint = suggest(spec.flow_id, flow_ids) or (
            f" (known: {', '.join(flow_ids)})" if flow_ids else "")
        return spec, None, [where.diag(["flow"], f"no flow '{spec.flow_id}' is deployed"
                                       f"{hint}: give the id of a flow kolot serve runs")]
    diags: list[Diagnostic] = []
    _check_against(spec, flow, where, diags, now)
    return (None if diags else spec), flow, diags


def _check_against(spec: Spec, flow: Flow, where: Where, diags: list[Diagnostic],
                   now: datetime) -> None:
    languages = list(flow.languages)
    for language in spec.messages:
        if language not in languages:
            hint = suggest(language, languages)
            diags.append(where.diag(["messages", language], f"the flow does not speak "
                                    f"'{language}' ({', '.join(languages)}){hint}", key=True))
    if flow.default_language not in spec.messages:
        diags.append(where.diag(["messages"], f"give a message in {flow.default_language}, the "
                                "flow's own language: participants with no message in theirs "
                                "get that one", start=True))
    audience = spec.audience
    phases = [p.id for p in flow.outreach.phases]
    steps = [s.id for s in flow.steps]
    if audience.phase is not None and audience.phase not in phases:
        diags.append(where.diag(["audience", "phase"], f"phase '{audience.phase}' is not among "
                                f"the flow's phases{suggest(audience.phase, phases)}"))
    for key, named in (("done", audience.done), ("not_done", audience.not_done)):
        for n, step in enumerate(named):
            if step not in steps:
                diags.append(where.diag(["audience", key, n], f"step '{step}' does not exist"
                                        f"{suggest(step, steps)}"))
    for n, channel in enumerate(audience.channel):
        if channel not in CHANNELS:
            path: list[str | int] = ["audience", "channel"]
            if isinstance(where.doc["audience"]["channel"], list):
                path.append(n)
            diags.append(where.diag(path, f"'{channel}' is not a channel ("
                                    f"{', '.join(CHANNELS)}){suggest(channel, CHANNELS)}"))
    if spec.send_at is not None:
        try:
            local_moment(spec.send_at, flow.outreach.zone)
        except ValueError:
            diags.append(where.diag(["send_at"], f"'{spec.send_at}' is not a date and time "
                                    "(2026-12-22 09:00)"))
            return
    if spec.start_step is not None:
        if spec.start_step not in steps:
            diags.append(where.diag(["start_step"], f"step '{spec.start_step}' does not exist"
                                    f"{suggest(spec.start_step, steps)}"))
            return
        phase_id = flow.step(spec.start_step).phase
        if phase_id is not None:
            phase = flow.outreach.phase(phase_id)
            at = spec.send_time(flow, now)
            if not phase.open_at(at):
                zone = flow.outreach.zone

                def local(moment: datetime) -> str:
                    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M}"

                diags.append(where.diag(["start_step"], f"step '{spec.start_step}' belongs to "
                                        f"phase '{phase_id}' ({local(phase.starts)} to "
                                        f"{local(phase.ends)}), which is not open when this "
                                        f"goes ({local(at)})"))
