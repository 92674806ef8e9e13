"""The condition language: parsing, precedence, evaluation, errors, and that it runs no code."""

from __future__ import annotations

from typing import Any

import pytest

from bot.engine.conditions import (
    Compare,
    ConditionSyntaxError,
    ListLiteral,
    Literal,
    Logic,
    Name,
    Not,
    evaluate,
    parse,
)


def holds(source: str, answers: dict[str, Any] | None = None, **profile: Any) -> bool:
    return evaluate(parse(source), answers or {}, profile)


def test_and_binds_tighter_than_or() -> None:
    tree = parse("a == 1 or b == 2 and c == 3")
    assert isinstance(tree, Logic) and tree.op == "or"
    assert isinstance(tree.parts[1], Logic) and tree.parts[1].op == "and"
    assert holds("a == 1 or b == 2 and c == 3", {"a": 1, "b": 0, "c": 0})
    assert not holds("(a == 1 or b == 2) and c == 3", {"a": 1, "b": 0, "c": 0})


def test_not_binds_tighter_than_and() -> None:
    tree = parse("not a == 1 and b == 2")
    assert isinstance(tree, Logic) and tree.op == "and"
    assert isinstance(tree.parts[0], Not)
    assert holds("not a == 1 and b == 2", {"a": 2, "b": 2})
    assert not holds("not (a == 1 and b == 2)", {"a": 1, "b": 2})
    assert holds("not not a", {"a": True})


def test_comparison_operators() -> None:
    answers = {"n": 4}
    assert holds("n == 4", answers) and holds("n != 5", answers)
    assert holds("n < 5", answers) and holds("n <= 4", answers)
    assert holds("n > 3", answers) and holds("n >= 4", answers)
    assert not holds("n > 4", answers)
    assert holds("n >= 3.5", answers)
    assert holds("n > -1", answers)


def test_in_and_not_in_with_lists() -> None:
    tree = parse('sector not in ["public", "civil"]')
    assert isinstance(tree, Compare) and tree.op == "not in"
    assert isinstance(tree.right, ListLiteral)
    assert [item.value for item in tree.right.items] == ["public", "civil"]
    assert holds('sector in ["public", "civil"]', {"sector": "civil"})
    assert holds('sector not in ["public", "civil"]', {"sector": "business"})
    assert holds("n in [1, 2, 3]", {"n": 2})
    assert holds("n in []", {"n": 2}) is False


def test_in_tests_a_multi_choice_answer_and_text() -> None:
    assert holds('"childcare" in topics', {"topics": ["childcare", "flexible"]})
    assert not holds('"mentoring" in topics', {"topics": ["childcare"]})
    assert holds('"mentoring" not in topics', {"topics": ["childcare"]})
    assert holds('"bus" in barrier', {"barrier": "The Bus never comes"})


def test_strings_with_quotes_and_escapes() -> None:
    assert parse('"it\'s"') == Literal("it's", 0)
    assert parse("'it\\'s'") == Literal("it's", 0)
    assert parse('"say \\"hi\\""') == Literal('say "hi"', 0)
    assert parse("'say \"hi\"'") == Literal('say "hi"', 0)
    assert holds('a == "x y"', {"a": "x y"})


def test_numbers_booleans_and_null() -> None:
    assert parse("12") == Literal(12, 0)
    assert parse("-3") == Literal(-3, 0)
    assert parse("2.5") == Literal(2.5, 0)
    assert parse("true") == Literal(True, 0)
    assert parse("false") == Literal(False, 0)
    assert parse("null") == Literal(None, 0)


def test_profile_fields() -> None:
    tree = parse('profile.age_band == "30_44"')
    assert isinstance(tree, Compare)
    assert tree.left == Name("profile", "age_band", 0)
    assert holds('profile.age_band == "30_44"', age_band="30_44")
    assert not holds('profile.age_band == "30_44"', {"age_band": "30_44"})


def test_unanswered_is_null_and_never_orders() -> None:
    assert holds("years == null")
    assert not holds("years != null")
    for op in ("<", "<=", ">", ">="):
        assert not holds(f"years {op} 3")
    assert not holds('"a" in topics')
    assert holds('"a" not in topics')
    assert not holds("profile.region == 'north'")
    assert holds("not mentor")


def test_values_of_different_kinds_are_never_equal() -> None:
    assert not holds("mentor == 1", {"mentor": True})
    assert holds("mentor != 1", {"mentor": True})
    assert not holds('n == "4"', {"n": 4})
    assert not holds('n < "5"', {"n": 4})
    assert not holds("flag > false", {"flag": True})
    assert holds("n == 4.0", {"n": 4})
    assert not holds("1 in [true]", {})


def test_a_step_id_alone_tests_the_answer() -> None:
    assert holds("mentor", {"mentor": True})
    assert not holds("mentor", {"mentor": False})
    assert holds("topics", {"topics": ["a"]})
    assert not holds("topics", {"topics": []})


@pytest.mark.parametrize(
    ("source", "offset", "message"),
    [
        ("importance = 5", 11, "use '==' to compare"),
        ("importance => 5", 11, "write '>=', not '=>'"),
        ("a && b", 2, "write 'and'"),
        ("a || b", 2, "write 'or'"),
        ('sector == "public', 10, "never closed"),
        ("a ==", 4, "but found the end of the condition"),
        ("(a == 1 or b", 0, "this '(' is never closed"),
        ("a in [1, 2", 5, "this '[' is never closed"),
        ("a == 1 )", 7, "there is no '(' for it to close"),
        ("a == 1 AND b", 7, "write 'and' in lower case"),
        ("a == 1 == 2", 7, "cannot be chained"),
        ("profile.", 8, "profile field"),
        ("a.b == 1", 1, "only profile fields are written with a dot"),
        ("a in [b]", 6, "put option ids in quotes"),
        ("a == שלום", 5, "put other text in quotes"),
        ("a == 1 b == 2", 7, "join two conditions with 'and' or 'or'"),
        ("", 0, "but found the end of the condition"),
        ("(" * 40 + "a" + ")" * 40, 32, "nests more than 32 levels"),
    ],
)
def test_syntax_errors_say_where_and_what(source: str, offset: int, message: str) -> None:
    with pytest.raises(ConditionSyntaxError) as caught:
        parse(source)
    assert caught.value.offset == offset
    assert message in caught.value.message


@pytest.mark.parametrize(
    "source",
    [
        '__import__("os").system("echo hi")',
        "open('/etc/passwd')",
        "a.__class__",
        "().__class__.__bases__",
        "exec('1')",
        "lambda: 1",
        "a[0]",
        "a if b else c",
    ],
)
def test_code_is_not_a_condition(source: str) -> None:
    with pytest.raises(ConditionSyntaxError):
        parse(source)


def test_python_names_are_only_names() -> None:
    tree = parse("__import__ == 'os' or __builtins__ or eval")
    assert isinstance(tree, Logic)
    names = [part for part in tree.parts if isinstance(part, Name)]
    assert [n.name for n in names] == ["__builtins__", "eval"]
    # Evaluated over plain data they are unanswered steps: null, so false.
    assert holds("__import__ == 'os' or __builtins__ or eval") is False
    assert holds("__class__ == null")
    assert holds("__import__", {"__import__": True})
