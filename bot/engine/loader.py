"""Reading flow files: YAML with positions, schema check, then the organiser's mistakes.

Every problem becomes a :class:`Diagnostic` with the file, line, column and step, so
``kolot validate`` can print ``flows/x.yaml:12:7: error: step 'sector': ...`` and the
organiser can go straight there. Loading stops at the schema stage when the shape is wrong,
because later checks would only repeat the same mistake in other words. Checking never
raises on a bad file: whatever the text, the answer is a list of diagnostics.
"""

from __future__ import annotations

import bisect
import difflib
import hashlib
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
    SingleQuotedScalarString,
)

from bot.engine.diagnostics import Diagnostic
from bot.engine.errors import FlowError
from bot.engine.flow import Flow
from bot.engine.schema import (
    CLOCK_PATTERN,
    DATETIME_PATTERN,
    DURATION_PATTERN,
    STEP_TYPES,
    WEEKLY_PATTERN,
    flow_schema,
)

__all__ = [
    "Checked",
    "Where",
    "check_file",
    "check_source",
    "load_file",
    "load_source",
    "load_stored",
    "read_document",
]

_VALIDATOR = Draft202012Validator(flow_schema())


@dataclass(frozen=True)
class Checked:
    """The result of checking one file: the flow when it has no errors, and every finding."""

    flow: Flow | None
    diagnostics: list[Diagnostic]

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]


class Where:
    """Positions of the nodes of a parsed YAML document, by JSON path."""

    def __init__(self, doc: Any, name: str, source: str = "") -> None:
        self.doc = doc
        self.name = name
        self.source = source
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", source)]

    def _node(self, path: Sequence[str | int]) -> Any:
        node = self.doc
        for part in path:
            node = node[part]
        return node

    def at(self, path: Sequence[str | int], *, key: bool = False) -> tuple[int, int]:
        """1-based (line, column) of the value at ``path``, or of its key when ``key``."""
        if not path:
            return self.start(path)
        *parent_path, last = path
        try:
            parent = self._node(parent_path)
        except (KeyError, IndexError, TypeError):
            return self.at(parent_path[:-1]) if parent_path else (1, 1)
        try:
            if isinstance(parent, CommentedMap) and last in parent:
                line, col = parent.lc.key(last) if key else parent.lc.value(last)
                return line + 1, col + 1
            if isinstance(parent, CommentedSeq) and isinstance(last, int) and last < len(parent):
                line, col = parent.lc.item(last)
                return line + 1, col + 1
        except (KeyError, IndexError, TypeError):
            pass
        return self.start(parent_path)

    def start(self, path: Sequence[str | int]) -> tuple[int, int]:
        """Where the mapping or list at ``path`` begins (for 'missing key' errors)."""
        try:
            node = self._node(path)
        except (KeyError, IndexError, TypeError):
            return 1, 1
        if isinstance(node, (CommentedMap, CommentedSeq)) and node.lc.line is not None:
            return node.lc.line + 1, node.lc.col + 1
        return self.at(path) if path else (1, 1)

    def inside(self, path: Sequence[str | int], offset: int) -> tuple[int, int]:
        """1-based (line, column) of character ``offset`` of the text value at ``path``.

        Follows the value through the file as written: quotes, escapes, block scalars and
        lines folded into one, so a column inside a condition points at the right character.
        """
        line, col = self.at(path)
        try:
            node = self._node(path)
        except (KeyError, IndexError, TypeError):
            return line, col
        value = str(node)
        naive = (line, col + offset + (1 if _quoted(node) else 0))
        if line - 1 >= len(self._line_starts) or not value.strip():
            return naive
        index = self._line_starts[line - 1] + col - 1
        if _quoted(node):
            index += 1  # the opening quote
        elif isinstance(node, (LiteralScalarString, FoldedScalarString)):
            newline = self.source.find("\n", index)  # the text starts below '|' or '>'
            index = newline + 1 if newline >= 0 else index
        end = offset >= len(value.rstrip())
        target = len(value.rstrip()) - 1 if end else offset
        found = _align(self.source, index, value, target)
        if found is None:
            return naive
        found_line = bisect.bisect_right(self._line_starts, found) - 1
        return found_line + 1, found - self._line_starts[found_line] + 1 + (1 if end else 0)

    def step_id(self, path: Sequence[str | int]) -> str | None:
        if len(path) >= 2 and path[0] == "steps" and isinstance(path[1], int):
            try:
                sid = self.doc["steps"][path[1]].get("id")
            except (KeyError, IndexError, TypeError, AttributeError):
                return None
            return sid if isinstance(sid, str) else None
        return None

    def diag(
        self,
        path: Sequence[str | int],
        message: str,
        *,
        key: bool = False,
        severity: str = "error",
        start: bool = False,
        position: tuple[int, int] | None = None,
    ) -> Diagnostic:
        if position is not None:
            line, col = position
        else:
            line, col = self.start(path) if start else self.at(path, key=key)
        return Diagnostic(
            file=self.name,
            line=line,
            column=col,
            message=message,
            step=self.step_id(path),
            severity="warning" if severity == "warning" else "error",
        )


def _quoted(node: Any) -> bool:
    return isinstance(node, (DoubleQuotedScalarString, SingleQuotedScalarString))


def _align(source: str, index: int, value: str, target: int) -> int | None:
    """Index in ``source`` of ``value[target]``, matching characters greedily from ``index``.

    Characters of the file that the value does not contain (escapes, a closing quote, the
    indentation of a folded line) are stepped over; whitespace matches whitespace.
    """
    i = index
    for k in range(max(target, 0) + 1):
        wanted = value[k]
        while i < len(source):
            here = source[i]
            if here == wanted or (wanted.isspace() and here.isspace()):
                break
            i += 1
        if i >= len(source):
            return None
        if k < target:
            i += 1
    return i


def suggest(word: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' when a close match exists."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


# --- YAML syntax --------------------------------------------------------------------------


def _yaml_diagnostic(exc: YAMLError, name: str, text: str) -> Diagnostic:
    """Say what a YAML parser error means for someone who writes flows, not parsers."""
    if isinstance(exc, ReaderError):
        position = exc.position if isinstance(exc.position, int) else 0
        line = text.count("\n", 0, position) + 1
        col = position - (text.rfind("\n", 0, position) + 1) + 1
        return Diagnostic(name, line, col, "YAML syntax: the file holds an invisible control "
                          "character here; delete it (it often comes from copying text)")
    if not isinstance(exc, MarkedYAMLError):
        return Diagnostic(name, 1, 1, f"YAML syntax: {str(exc).strip() or 'not valid YAML'}")
    problem = (exc.problem or "").strip()
    context = (exc.context or "").strip()
    mark = exc.problem_mark or exc.context_mark
    opened = exc.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    lines = text.splitlines()
    row = lines[line - 1] if 0 < line <= len(lines) else ""
    before = row[: col - 1].rstrip()

    if isinstance(exc, DuplicateKeyError):
        found = re.search(r'duplicate key "(.*?)" with value', problem)
        key = found.group(1) if found else "?"
        first = ""
        if opened is not None:
            for n in range(opened.line, line - 1):
                if lines[n][col - 1 :].startswith(f"{key}:"):
                    first = f" (first at line {n + 1})"
                    break
        message = f"the key '{key}' is given twice here{first}; keep only one of them"
    elif problem == "mapping values are not allowed here":
        message = ("a ': ' inside a value starts a new key, so this line cannot be read; put "
                   "the whole value in quotes, as in text: \"Note: ...\"")
    elif problem.startswith("expected <block end>") and before.endswith(('"', "'")):
        message = ("text goes on after the closing quote; when a value starts with a quote, the "
                   "whole value must be inside quotes: use the other kind of quote outside, as "
                   "in when: '\"childcare\" in topics'")
    elif problem.startswith("expected <block end>"):
        message = ("this line does not line up with the lines above it: keys of one step (or "
                   "one mapping) must start in the same column, and so must the '-' of every "
                   "item of a list")
    elif problem == "could not find expected ':'" and opened is not None:
        line, col = opened.line + 1, opened.column + 1
        message = ("expected 'key: value' on this line; if it continues the text above, indent "
                   "it further, or put the whole text in quotes")
    elif "'\\t'" in problem:
        message = "a tab character; YAML indentation must use spaces, so replace it with spaces"
    elif "that cannot start any token" in problem:
        char = row[col - 1] if 0 < col <= len(row) else "?"
        message = f"a value cannot start with '{char}'; put the whole value in quotes"
    elif problem.startswith("found undefined alias"):
        message = ("a value starting with '*' refers to an anchor ('&name') that is not defined "
                   "above; put the value in quotes if the '*' is meant as text")
    elif context.startswith("while scanning a quoted scalar") and opened is not None:
        line, col = opened.line + 1, opened.column + 1
        message = "this quoted text is never closed; add the closing quote"
    elif context.startswith(("while parsing a flow sequence", "while parsing a flow mapping")) \
            and opened is not None:
        bracket, closer = ("[", "]") if "sequence" in context else ("{", "}")
        message = (f"this '{bracket}' is not closed where YAML expected it (at line {line}, "
                   f"column {col}); add the closing '{closer}', or put the whole value in quotes "
                   f"if the '{bracket}' is part of the text")
        line, col = opened.line + 1, opened.column + 1
    elif context.startswith("expected a single document"):
        message = "the file holds a second YAML document after '---'; keep one flow per file"
    else:
        message = f"{context}: {problem}" if context else problem or "not valid YAML"
    return Diagnostic(name, line, col, f"YAML syntax: {message}")


def _not_a_flow(doc: Any, name: str, text: str) -> Diagnostic:
    line, col = 1, 1
    for n, row in enumerate(text.splitlines()):
        stripped = row.strip()
        if stripped and not stripped.startswith(("#", "---")):
            line, col = n + 1, len(row) - len(row.lstrip()) + 1
            break
    needs = "id, version, default_language and steps"
    if doc is None:
        message = f"the file is empty; a flow is a mapping of keys: {needs}"
    elif isinstance(doc, list):
        message = (f"the file is a list, but a flow is a mapping of keys: start it with {needs}:"
                   ", and put the list of steps under steps:")
    else:
        message = f"the file holds only {_describe(doc)}, but a flow is a mapping of keys: {needs}"
    return Diagnostic(name, line, col, message)


# --- schema errors ------------------------------------------------------------------------

_TYPE_NAMES = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping of keys",
}

_NEEDS = {
    "id": "a short name made of letters, digits, '_' and '-'",
    "type": f"one of: {', '.join(STEP_TYPES)}",
    "text": "the words the participant reads",
    "options": "a list of options, each {id: ..., label: ...}",
    "rules": "a list of rules, each {when: CONDITION, next: STEP_ID}",
    "when": "a condition, such as: importance >= 4",
    "next": "the id of the step to go to",
    "label": "the text on its button",
    "version": "a whole number, 1 for the first version",
    "default_language": "a language code, such as en",
    "steps": "the list of steps",
    "retention_days": "the number of days to keep the data, such as 180,",
}


_NUMBER_WORDS = {
    word: n
    for n, word in enumerate(
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
    )
}


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if value is None:
        return "empty"
    if type(value).__name__ in ("date", "datetime", "TimeStamp"):
        return "a date"
    return "a special YAML value"


def _key_name(path: Sequence[str | int]) -> str:
    names = [p for p in path if isinstance(p, str)]
    return names[-1] if names else "the file"


def _owner(path: Sequence[str | int], instance: Any) -> str:
    """What the mapping at ``path`` is, for messages: 'a choice step', 'an option'."""
    if len(path) == 2 and path[0] == "steps":
        kind = instance.get("type") if isinstance(instance, dict) else None
        if isinstance(kind, str) and kind in STEP_TYPES:
            return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} step"
        return "a step"
    if len(path) >= 2 and path[-2] == "options":
        return "an option"
    if len(path) >= 2 and path[-2] == "rules":
        return "a branch rule"
    return "a flow"


def _slug(text: str, *, letter_first: bool) -> str:
    slug = re.sub(r"[^A-Za-z0-9_-]+", "_", text.strip()).strip("_-")
    if letter_first and not re.match(r"[A-Za-z]", slug):
        slug = f"q_{slug}" if slug else ""
    return slug


def _type_message(path: list[str | int], expected: Any, instance: Any) -> str:
    if len(path) == 2 and path[0] == "steps":
        return (f"each step must be a mapping of keys (id, type, text, ...), not "
                f"{_describe(instance)}; write '- id: ...' with the step's keys below it")
    if len(path) >= 2 and path[-2] in ("options", "rules") and isinstance(path[-1], int):
        example = "{id: bus, label: By bus}" if path[-2] == "options" else "{when: ..., next: ...}"
        return f"each entry must be a mapping such as {example}, not {_describe(instance)}"
    name = _key_name(path)
    if instance is None:
        return f"'{name}' is empty; write {_NEEDS.get(name, 'a value')} after '{name}:'"
    wanted = _TYPE_NAMES.get(expected, str(expected)) if isinstance(expected, str) else expected
    message = f"'{name}' must be {wanted}, not {_describe(instance)}"
    if expected == "string" and (
        isinstance(instance, (bool, int, float)) or _describe(instance) == "a date"
    ):
        return f"{message}; put it in quotes"
    if name == "retention_days" and isinstance(instance, str) \
            and not instance.strip().isdigit():
        return (f"{message} ({instance!r}); write the number of days the data is kept after "
                "the flow closes, in digits, such as 180 for about six months")
    if expected in ("integer", "number") and isinstance(instance, str):
        try:
            float(instance)
        except ValueError:
            digits = _NUMBER_WORDS.get(instance.strip().lower(), 3)
            return f"{message} ({instance!r}); write it in digits, such as {digits}"
        return f"{message}; write the number without quotes"
    if expected == "integer" and isinstance(instance, float):
        return f"'{name}' must be a whole number, not {instance}"
    if expected == "boolean":
        return f"{message}; write true or false"
    if expected == "array":
        lists = {
            "languages": "[en, ar]",
            "options": "one '- {id: ..., label: ...}' line per option",
            "rules": "one '- when: ...' entry per rule",
            "steps": "one '- id: ...' entry per step",
        }
        return f"{message}; write {lists[name]}" if name in lists else message
    return message


_FORMATS = {
    DATETIME_PATTERN: "a date and time such as 2026-12-22 09:00",
    DURATION_PATTERN: "a length of time such as 90m, 24h, 2d or 1w",
    CLOCK_PATTERN: "a time of day such as 21:00",
    WEEKLY_PATTERN: "a weekday and time such as fri 16:00",
}


def _pattern_message(path: list[str | int], instance: Any, pattern: str = "") -> str:
    name = _key_name(path)
    if pattern in _FORMATS:
        return f"'{instance}' is not {_FORMATS[pattern]}"
    if name in ("default_language", "languages"):
        return (f"'{instance}' is not a language code; use a code such as en, he, ar, ru "
                "or pt_BR")
    option = "options" in path
    what = {
        "next": "step id",
        "otherwise": "step id",
        "profile": "profile field name",
    }.get(name, "option id" if option else "step id" if path[:1] == ["steps"] else "flow id")
    rule = "letters, digits, '_' and '-'" + ("" if option else ", starting with a letter")
    example = _slug(str(instance), letter_first=not option)
    hint = f", such as '{example}'" if example and example != instance else ""
    return f"'{instance}' is not a valid {what}: use only {rule}{hint}"


def _schema_diagnostics(where: Where, error: ValidationError) -> list[Diagnostic]:
    path = list(error.absolute_path)
    kind = error.validator
    instance = error.instance
    name = _key_name(path)
    if kind == "additionalProperties" and isinstance(instance, dict):
        allowed = list(error.schema.get("properties", {}))
        owner = _owner(path, instance)
        out = []
        for extra in [k for k in instance if k not in allowed]:
            if owner == "an end step" and extra in ("next", "options", "rules", "otherwise"):
                message = (f"an end step finishes the run, so it has no '{extra}'; remove it, "
                           "or use a message step to say something and go on")
            else:
                message = (f"unknown key '{extra}'{suggest(str(extra), allowed)}; {owner} "
                           f"can have: {', '.join(allowed)}")
            out.append(where.diag([*path, extra], message, key=True))
        return out
    if kind == "required" and isinstance(instance, dict):
        owner = _owner(path, instance).split(" ", 1)[1]
        return [
            where.diag(
                path,
                f"missing key '{k}': every {owner} needs one, with {_NEEDS.get(str(k), 'a value')}",
                start=True,
            )
            for k in error.validator_value
            if k not in instance
        ]
    if kind == "enum" and path[-1:] == ["type"]:
        return [
            where.diag(
                path,
                f"unknown step type '{instance}'{suggest(str(instance), STEP_TYPES)}; "
                f"use one of: {', '.join(STEP_TYPES)}",
            )
        ]
    if kind == "type":
        message = _type_message(path, error.validator_value, instance)
        return [where.diag(path, message, key=instance is None)]
    if kind == "pattern":
        return [where.diag(path, _pattern_message(path, instance, str(error.validator_value)))]
    if kind == "minItems":
        count = error.validator_value
        what = {"options": "option", "steps": "step", "rules": "rule"}.get(name, "item")
        if count == 1:
            return [where.diag(path, f"'{name}' is empty; add at least one {what}")]
        return [where.diag(path, f"'{name}' needs at least {count} {what}s; add more")]
    if kind == "minLength":
        return [where.diag(path, f"'{name}' is empty; write {_NEEDS.get(name, 'a value')}")]
    if kind == "minimum":
        return [where.diag(path, f"'{name}' must be at least {error.validator_value}")]
    if kind == "uniqueItems" and isinstance(instance, list):
        seen: list[Any] = []
        out = []
        for i, item in enumerate(instance):
            if item in seen:
                out.append(where.diag([*path, i], f"'{name}' lists '{item}' twice; keep one"))
            seen.append(item)
        return out
    return [where.diag(path, error.message)]


def _positions_first(diags: list[Diagnostic]) -> list[Diagnostic]:
    unique = list(dict.fromkeys(diags))
    return sorted(unique, key=lambda d: (d.line, d.column, d.message))


# --- entry points -------------------------------------------------------------------------


def read_document(
    text: str, name: str, validator: Draft202012Validator, *, what: str = "a flow"
) -> tuple[Any, Where | None, list[Diagnostic]]:
    """YAML with positions, checked against a schema: the document, where its parts are,
    and what is wrong with its shape (errors first by position). Never raises."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. a reused anchor: legal YAML, nothing to fix
            doc = yaml.load(text)
    except YAMLError as exc:
        return None, None, [_yaml_diagnostic(exc, name, text)]
    except RecursionError:
        return None, None, [Diagnostic(name, 1, 1, f"the file nests too deeply to be {what}")]
    if not isinstance(doc, dict):
        return None, None, [_not_a_flow(doc, name, text) if what == "a flow" else
                            Diagnostic(name, 1, 1, f"this is not {what}: expected keys and "
                                                   "values (name: ...)")]
    where = Where(doc, name, text)
    schema_errors: list[Diagnostic] = []
    try:
        for error in validator.iter_errors(doc):
            schema_errors.extend(_schema_diagnostics(where, error))
    except RecursionError:
        return None, None, [Diagnostic(name, 1, 1, "the file nests too deeply (or an alias "
                                                   "refers to itself); simplify it")]
    return doc, where, _positions_first(schema_errors)


def check_source(text: str, name: str = "<flow>", *, built_is_enough: bool = False) -> Checked:
    """Check a flow given as text; ``name`` is what diagnostics call the file.

    ``built_is_enough`` returns the flow whenever it could be built, despite findings of
    the organiser-level checks (see :func:`load_stored`).
    """
    doc, where, problems = read_document(text, name, _VALIDATOR)
    if where is None or problems:
        return Checked(None, problems)

    from bot.engine.validate import build_and_check  # here: validate imports Where

    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    flow, diagnostics = build_and_check(doc, where, sha)
    ordered = _positions_first(diagnostics)
    has_errors = any(d.severity == "error" for d in ordered)
    return Checked(None if has_errors and not built_is_enough else flow, ordered)


def check_file(path: str | Path) -> Checked:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        message = f"the file is not UTF-8 text (byte {exc.start}); save it as UTF-8"
        return Checked(None, [Diagnostic(str(path), 1, 1, message)])
    except OSError as exc:
        return Checked(None, [Diagnostic(str(path), 1, 1,
                                         f"cannot read the file: {exc.strerror or exc}")])
    return check_source(text, str(path))


def load_source(text: str, name: str = "<flow>") -> Flow:
    checked = check_source(text, name)
    if checked.flow is None:
        raise FlowError(checked.diagnostics)
    return checked.flow


def load_stored(text: str, name: str = "<stored flow>") -> Flow:
    """A definition some runs started on, to finish them on it (the version policy).

    It passed validation when it was deployed. A check added to Kolot since then must not
    strand participants mid-flow, so only a text that can no longer be built raises.
    """
    checked = check_source(text, name, built_is_enough=True)
    if checked.flow is None:
        raise FlowError(checked.diagnostics)
    return checked.flow


def load_file(path: str | Path) -> Flow:
    checked = check_file(path)
    if checked.flow is None:
        raise FlowError(checked.diagnostics)
    return checked.flow
