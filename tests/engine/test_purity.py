"""The engine is pure: no I/O, no clock, no randomness, nothing from the layers around it.

Checked on the source with ``ast``, so a forbidden import or call fails here even on a path
no other test runs. The loader is the one part of ``bot/engine`` that reads a file (the
organiser's flow, in :func:`bot.engine.loader.check_file`) and parses YAML against the
schema; it gets exactly those exceptions and no more.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ROOT / "bot" / "engine"

# Standard-library modules that pure logic needs: data types, text, hashing, JSON.
# ``datetime`` is here for the type of ``now``; calls that read the clock are refused below.
# ``gettext`` is here for ``NullTranslations``, the default translator (it loads nothing).
PURE = frozenset({
    "__future__", "abc", "bisect", "collections", "collections.abc", "dataclasses",
    "datetime", "decimal", "difflib", "enum", "fractions", "functools", "gettext", "hashlib",
    "itertools", "json", "math", "operator", "re", "string", "textwrap", "types", "typing",
    "unicodedata", "warnings",
})
# Per module, what it may use beyond PURE, and why.
EXTRA = {
    "loader.py": frozenset({"pathlib", "ruamel.yaml", "jsonschema"}),  # reads the flow file
    "validate.py": frozenset({"ruamel.yaml"}),  # positions of YAML nodes for the messages
    "outreach.py": frozenset({"zoneinfo"}),  # a flow's time zone: rules as data, no clock
    "outreach_check.py": frozenset({"zoneinfo", "ruamel.yaml"}),  # checking that time zone
}
# Calls that read the outside world, whatever module they come from.
FORBIDDEN_CALLS = frozenset({
    "open", "input", "print", "eval", "exec", "compile", "__import__", "breakpoint",
})
CLOCK = frozenset({"now", "utcnow", "today", "time", "monotonic", "perf_counter", "time_ns"})
FILE_METHODS = frozenset({
    "read_text", "read_bytes", "write_text", "write_bytes", "open", "unlink", "mkdir",
    "touch", "iterdir", "glob", "rglob",
})
# The one function allowed to read a file: the flow file an organiser hands to the loader.
READS_FILES = {("loader.py", "check_file"): frozenset({"read_text"})}
# What importing the engine must never drag in, even indirectly.
NEVER_LOADED = (
    "sqlalchemy", "alembic", "storage", "bot.channels", "bot.service", "bot.outbox",
    "bot.registry", "asyncio", "socket", "sqlite3", "httpx", "apscheduler", "telegram",
    "twilio", "requests",
)


@dataclass(frozen=True)
class Finding:
    line: int
    what: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.what}"


def _module_allowed(name: str, allowed: frozenset[str]) -> bool:
    if name == "bot.engine" or name.startswith("bot.engine."):
        return True
    parts = name.split(".")
    return any(".".join(parts[:n]) in allowed for n in range(1, len(parts) + 1))


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else node.attr
    return ""


class _Checker(ast.NodeVisitor):
    def __init__(self, module: str, allowed: frozenset[str]) -> None:
        self.module = module
        self.allowed = allowed
        self.function: list[str] = []
        self.findings: list[Finding] = []
        self.clock_names: set[str] = {"datetime", "date", "time"}

    def _find(self, node: ast.AST, what: str) -> None:
        self.findings.append(Finding(getattr(node, "lineno", 0), what))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if not _module_allowed(alias.name, self.allowed):
                self._find(node, f"imports {alias.name}")
            if alias.asname and alias.name in ("datetime", "time"):
                self.clock_names.add(alias.asname)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:  # relative: inside the package
            return
        name = node.module or ""
        if not _module_allowed(name, self.allowed):
            self._find(node, f"imports from {name}")
        for alias in node.names:
            if alias.asname and alias.name in ("datetime", "date"):
                self.clock_names.add(alias.asname)

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        if isinstance(node, ast.AsyncFunctionDef):
            self._find(node, f"async def {node.name}: the engine does no I/O to await")
        self.function.append(node.name)
        self.generic_visit(node)
        self.function.pop()

    visit_FunctionDef = _visit_function
    visit_AsyncFunctionDef = _visit_function

    def visit_Call(self, node: ast.Call) -> None:
        name = _dotted(node.func)
        head, _, tail = name.rpartition(".")
        if name in FORBIDDEN_CALLS:
            self._find(node, f"calls {name}()")
        elif tail in CLOCK and head.split(".")[-1] in self.clock_names:
            self._find(node, f"reads the clock: {name}()")
        elif tail in FILE_METHODS and head:
            here = (self.module, self.function[0] if self.function else "")
            if tail not in READS_FILES.get(here, frozenset()):
                self._find(node, f"touches files: {name}()")
        self.generic_visit(node)


def check_source(source: str, module: str = "example.py") -> list[Finding]:
    """What in ``source`` breaks the engine's purity, as a module named ``module``."""
    checker = _Checker(module, PURE | EXTRA.get(module, frozenset()))
    checker.visit(ast.parse(source))
    return checker.findings


def _engine_modules() -> list[Path]:
    return sorted(ENGINE.rglob("*.py"))


def test_the_engine_has_modules_to_check() -> None:
    names = {p.relative_to(ENGINE).as_posix() for p in _engine_modules()}
    assert {"runner.py", "state.py", "loader.py", "steps/choice.py"} <= names


@pytest.mark.parametrize(
    "path", _engine_modules(), ids=lambda p: p.relative_to(ENGINE).as_posix()
)
def test_engine_module_is_pure(path: Path) -> None:
    findings = check_source(path.read_text(encoding="utf-8"), path.name)
    where = path.relative_to(ROOT)
    assert not findings, f"{where} is not pure:\n" + "\n".join(f"  {f}" for f in findings)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import os", "imports os"),
        ("import sqlalchemy.orm", "imports sqlalchemy.orm"),
        ("from storage.models import Run", "imports from storage.models"),
        ("from bot.channels.base import Inbound", "imports from bot.channels.base"),
        ("import socket", "imports socket"),
        ("from datetime import datetime\ndatetime.now()", "reads the clock: datetime.now()"),
        (
            "import datetime\ndatetime.datetime.utcnow()",
            "reads the clock: datetime.datetime.utcnow()",
        ),
        ("from datetime import date\ndate.today()", "reads the clock: date.today()"),
        ("import time as t\nt.time()", "imports time"),
        ("open('flow.yaml')", "calls open()"),
        ("def f(p):\n    return p.read_text()", "touches files: p.read_text()"),
        ("async def f():\n    pass", "async def f: the engine does no I/O to await"),
        ("import random", "imports random"),
    ],
)
def test_the_check_finds_what_it_forbids(source: str, expected: str) -> None:
    assert expected in [f.what for f in check_source(source)]


def test_the_check_passes_pure_code_and_the_loaders_one_file_read() -> None:
    pure = "from datetime import datetime\n\ndef f(now: datetime) -> str:\n    return now.ctime()\n"
    assert check_source(pure) == []
    reader = "def check_file(path):\n    return path.read_text(encoding='utf-8')\n"
    assert check_source(reader, "loader.py") == []
    found = [f.what for f in check_source(reader, "runner.py")]
    assert found == ["touches files: path.read_text()"]


def test_importing_the_engine_loads_nothing_from_the_layers_around_it() -> None:
    probe = (
        "import sys, bot.engine\n"
        f"never = {NEVER_LOADED!r}\n"
        "bad = [m for m in sys.modules if any(m == n or m.startswith(n + '.') for n in never)]\n"
        "print(','.join(sorted(bad)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "", f"importing bot.engine loaded: {done.stdout.strip()}"
