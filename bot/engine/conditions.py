"""Branch conditions: a tiny expression language, parsed without ``eval``.

Organisers write conditions such as ``importance >= 4 and sector == "public"`` or
``"childcare" in topics or profile.region in ["north", "south"]``. Flow files come from
outside the program, so they are parsed by this recursive-descent parser and evaluated
over plain data: nothing in a condition can call code, reach attributes or import.

Grammar (lowest precedence first)::

    expr    := or
    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | compare
    compare := operand (("=="|"!="|"<"|"<="|">"|">="|"in"|"not in") operand)?
    operand := NAME | "profile" "." NAME | literal | "[" (literal ("," literal)*)? "]"
             | "(" expr ")"
    literal := STRING | NUMBER | "true" | "false" | "null"

An answer that has not been given yet is ``null``; ordering comparisons with ``null``
are false rather than an error, so a branch over an optional question simply does not match.
Values of different kinds are never equal (``true`` is not ``1``, ``"4"`` is not ``4``).
``x in LIST`` tests membership; ``"word" in ANSWER`` tests whether a multi_choice answer
holds the option, or whether a text answer contains the word (in any case).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Union

__all__ = [
    "Compare",
    "Condition",
    "ConditionSyntaxError",
    "ListLiteral",
    "Literal",
    "Logic",
    "Name",
    "Not",
    "evaluate",
    "parse",
    "walk",
]


class ConditionSyntaxError(ValueError):
    """A condition that cannot be parsed; ``offset`` is the 0-based column in the condition."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


@dataclass(frozen=True, slots=True)
class Name:
    """An answer (``sector``) or a profile field (``profile.sector``)."""

    scope: str  # "answer" or "profile"
    name: str
    offset: int


@dataclass(frozen=True, slots=True)
class Literal:
    value: str | int | float | bool | None
    offset: int


@dataclass(frozen=True, slots=True)
class ListLiteral:
    items: tuple[Literal, ...]
    offset: int


@dataclass(frozen=True, slots=True)
class Compare:
    op: str
    left: Operand
    right: Operand


@dataclass(frozen=True, slots=True)
class Logic:
    op: str  # "and" | "or"
    parts: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Not:
    part: Condition


Operand = Union[Name, Literal, ListLiteral, "Condition"]
Condition = Compare | Logic | Not | Name | Literal | ListLiteral

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<op>==|!=|<=|>=|<|>)
  | (?P<punct>[\[\](),.])
  | (?P<word>[A-Za-z_][A-Za-z0-9_\-]*)
    """,
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "in", "true", "false", "null"}
_MAX_DEPTH = 32


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str
    text: str
    offset: int


# Characters people bring from spreadsheets and programming languages, and what to write.
_INSTEAD = {
    "=": "use '==' to compare, not '='",
    "&": "write 'and' instead of '&' or '&&'",
    "|": "write 'or' instead of '|' or '||'",
    "!": "write 'not' instead of '!' (or '!=' for 'is not equal to')",
    "-": "a '-' must be followed by a number, as in -1",
}


def _tokens(source: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    while pos < len(source):
        m = _TOKEN.match(source, pos)
        if m is None:
            char = source[pos]
            if char in "\"'":
                raise ConditionSyntaxError(
                    f"the text starting with {char} is never closed; add the closing {char}", pos
                )
            message = f"unexpected character {char!r}: {_instead(source, pos)}"
            raise ConditionSyntaxError(message, pos)
        kind = m.lastgroup or ""
        if kind != "ws":
            text = m.group()
            if kind == "word" and text in _KEYWORDS:
                kind = text
            out.append(_Tok(kind, text, pos))
        pos = m.end()
    out.append(_Tok("end", "", len(source.rstrip())))
    return out


def _instead(source: str, pos: int) -> str:
    pair = source[pos : pos + 2]
    if pair in ("=>", "=<"):
        return f"write {pair[::-1]!r}, not {pair!r}"
    char = source[pos]
    if char in _INSTEAD:
        return _INSTEAD[char]
    if char.isalpha():
        return "step ids use only the letters A-Z, digits, '_' and '-'; put other text in quotes"
    return "a condition holds step ids, values in quotes, numbers, lists in [ ], parentheses, " \
        "and the operators == != < <= > >= in and or not"


def _found(tok: _Tok) -> str:
    return "the end of the condition" if tok.kind == "end" else repr(tok.text)


class _Parser:
    def __init__(self, source: str) -> None:
        self.toks = _tokens(source)
        self.i = 0
        self.depth = 0

    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        if tok.kind != "end":
            self.i += 1
        return tok

    def close(self, opener: _Tok, closer: str) -> None:
        tok = self.peek()
        if tok.text != closer:
            if tok.kind == "end":
                raise ConditionSyntaxError(
                    f"this {opener.text!r} is never closed; add {closer!r}", opener.offset
                )
            raise ConditionSyntaxError(
                f"expected {closer!r} to close the {opener.text!r} at column "
                f"{opener.offset + 1} of the condition, but found {_found(tok)}",
                tok.offset,
            )
        self.take()

    def nest(self, tok: _Tok) -> None:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise ConditionSyntaxError(
                f"the condition nests more than {_MAX_DEPTH} levels deep; simplify it",
                tok.offset,
            )

    def parse(self) -> Condition:
        node = self.or_()
        tok = self.peek()
        if tok.kind != "end":
            raise ConditionSyntaxError(_unexpected(tok), tok.offset)
        return node

    def or_(self) -> Condition:
        parts = [self.and_()]
        while self.peek().kind == "or":
            self.take()
            parts.append(self.and_())
        return parts[0] if len(parts) == 1 else Logic("or", tuple(parts))

    def and_(self) -> Condition:
        parts = [self.not_()]
        while self.peek().kind == "and":
            self.take()
            parts.append(self.not_())
        return parts[0] if len(parts) == 1 else Logic("and", tuple(parts))

    def not_(self) -> Condition:
        tok = self.peek()
        if tok.kind == "not":
            self.take()
            self.nest(tok)
            part = self.not_()
            self.depth -= 1
            return Not(part)
        return self.compare()

    def compare(self) -> Condition:
        left = self.operand()
        tok = self.peek()
        if tok.kind == "op" or tok.kind == "in":
            self.take()
            return Compare(tok.text, left, self.operand())
        if tok.kind == "not" and self.toks[self.i + 1].kind == "in":
            self.take()
            self.take()
            return Compare("not in", left, self.operand())
        return left

    def operand(self) -> Condition:
        tok = self.take()
        if tok.kind == "number":
            number = float(tok.text) if "." in tok.text else int(tok.text)
            return Literal(number, tok.offset)
        if tok.kind == "string":
            return Literal(_unquote(tok.text), tok.offset)
        if tok.kind in ("true", "false"):
            return Literal(tok.kind == "true", tok.offset)
        if tok.kind == "null":
            return Literal(None, tok.offset)
        if tok.kind == "word":
            if tok.text == "profile" and self.peek().text == ".":
                self.take()
                field = self.take()
                if field.kind == "word" or field.kind in _KEYWORDS:
                    return Name("profile", field.text, tok.offset)
                raise ConditionSyntaxError(
                    f"expected the name of a profile field after 'profile.' but found "
                    f"{_found(field)}",
                    field.offset,
                )
            return Name("answer", tok.text, tok.offset)
        if tok.text == "[":
            return self.list_(tok)
        if tok.text == "(":
            self.nest(tok)
            inner = self.or_()
            self.close(tok, ")")
            self.depth -= 1
            return inner
        raise ConditionSyntaxError(
            f"expected a step id, a value in quotes or a number, but found {_found(tok)}",
            tok.offset,
        )

    def list_(self, opener: _Tok) -> ListLiteral:
        items: list[Literal] = []
        while self.peek().text != "]" and self.peek().kind != "end":
            tok = self.peek()
            if tok.kind not in ("number", "string", "true", "false", "null"):
                hint = " (put option ids in quotes)" if tok.kind == "word" else ""
                raise ConditionSyntaxError(
                    f"a list may hold only values in quotes, numbers, true, false or null, "
                    f"not {_found(tok)}{hint}",
                    tok.offset,
                )
            item = self.operand()
            assert isinstance(item, Literal)
            items.append(item)
            if self.peek().text != ",":
                break
            self.take()
        self.close(opener, "]")
        return ListLiteral(tuple(items), opener.offset)


def _unexpected(tok: _Tok) -> str:
    """Why a complete condition cannot be followed by ``tok``."""
    if tok.text == "(":
        return "unexpected '(': a condition cannot call anything; compare a step id with a value"
    if tok.text == ".":
        return "unexpected '.': only profile fields are written with a dot, as profile.NAME"
    if tok.text == ")":
        return "unexpected ')': there is no '(' for it to close"
    if tok.kind == "op":
        return (
            f"unexpected {tok.text!r}: comparisons cannot be chained; "
            "join two comparisons with 'and'"
        )
    if tok.kind == "word" and tok.text.lower() in ("and", "or", "not", "in"):
        return f"unexpected {tok.text!r}: write {tok.text.lower()!r} in lower case"
    return f"unexpected {_found(tok)}: join two conditions with 'and' or 'or'"


def _unquote(text: str) -> str:
    body = text[1:-1]
    return re.sub(r"\\(.)", r"\1", body)


def parse(source: str) -> Condition:
    """Parse a condition; raises :class:`ConditionSyntaxError` with the column of the problem."""
    return _Parser(source).parse()


def walk(node: Condition) -> Iterator[Condition]:
    """Every node of a condition, parents first (used by the validator)."""
    yield node
    if isinstance(node, Compare):
        yield from walk(node.left)
        yield from walk(node.right)
    elif isinstance(node, Logic):
        for part in node.parts:
            yield from walk(part)
    elif isinstance(node, Not):
        yield from walk(node.part)
    elif isinstance(node, ListLiteral):
        yield from node.items


def evaluate(node: Condition, answers: Mapping[str, Any], profile: Mapping[str, Any]) -> bool:
    """Truth of a condition over a participant's answers and profile."""
    return bool(_value(node, answers, profile))


def _value(node: Condition, answers: Mapping[str, Any], profile: Mapping[str, Any]) -> Any:
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Name):
        return (answers if node.scope == "answer" else profile).get(node.name)
    if isinstance(node, ListLiteral):
        return [item.value for item in node.items]
    if isinstance(node, Not):
        return not _value(node.part, answers, profile)
    if isinstance(node, Logic):
        if node.op == "and":
            return all(_value(p, answers, profile) for p in node.parts)
        return any(_value(p, answers, profile) for p in node.parts)
    left = _value(node.left, answers, profile)
    right = _value(node.right, answers, profile)
    return _compare(node.op, left, right)


def _kind(value: Any) -> str:
    """Values of different kinds are never equal: ``true`` is not ``1``, ``"4"`` is not ``4``."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def _equal(left: Any, right: Any) -> bool:
    return _kind(left) == _kind(right) and bool(left == right)


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "==":
        return _equal(left, right)
    if op == "!=":
        return not _equal(left, right)
    if op in ("in", "not in"):
        if isinstance(right, str):
            found = isinstance(left, str) and left.casefold() in right.casefold()
        elif isinstance(right, (list, tuple)):
            found = any(_equal(left, item) for item in right)
        else:
            found = False
        return found if op == "in" else not found
    kinds = {_kind(left), _kind(right)}
    if kinds != {"number"} and kinds != {"str"}:
        return False  # null, true/false and lists have no order
    if op == "<":
        return bool(left < right)
    if op == "<=":
        return bool(left <= right)
    if op == ">":
        return bool(left > right)
    return bool(left >= right)
