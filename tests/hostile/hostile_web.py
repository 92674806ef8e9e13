"""What the hostile webhook suites share: an in-process app on a fresh SQLite database
(``role="web"``: no sender or ticker writes behind a test's back), row counts of every
table, JSON values of any shape, and mutations of real payloads."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.server import Runtime
from bot.settings import Settings
from bot.web import create_app
from storage.models import Base

TESTS = Path(__file__).resolve().parents[1]
for folder in ("telegram", "whatsapp"):  # their payload builders, importable by name
    if str(TESTS / folder) not in sys.path:
        sys.path.append(str(TESTS / folder))

EXAMPLES = TESTS.parent / "flows" / "examples"
BASE_URL = "http://kolot.test"
LIMIT = 20_000
"""``max_body_bytes`` for these suites: small, so a body over it is cheap to send."""
ALLOWED = {200, 400, 403, 413}


def hostile(examples: int) -> settings:
    """A fixed seed and a bounded number of examples, so CI runs the same cases each time."""
    return settings(derandomize=True, max_examples=examples, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])


@dataclass
class App:
    runtime: Runtime
    client: httpx.AsyncClient

    def counts(self) -> dict[str, int]:
        """Rows in every table."""
        with self.runtime.session_factory() as session:
            return {table.name: int(session.scalar(select(func.count()).select_from(table))
                                    or 0)
                    for table in Base.metadata.sorted_tables}


@asynccontextmanager
async def running(database: Path, **overrides: Any) -> AsyncIterator[App]:
    settings_ = replace(Settings(database_url=f"sqlite:///{database}"),
                        flows=(EXAMPLES / "neighbourhood-park.yaml",), public_url=BASE_URL,
                        max_body_bytes=LIMIT, **overrides)
    runtime = Runtime(settings_, role="web")
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        try:
            yield App(runtime, client)
        finally:
            await runtime.stop()


SCALARS = (st.none() | st.booleans() | st.integers() | st.integers(-2**70, 2**70)
           | st.floats(allow_nan=False) | st.text(max_size=30))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=12)


def _paths(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [at] if at else []
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*at, key))
    elif isinstance(value, list):
        for n, inner in enumerate(value):
            found += _paths(inner, (*at, n))
    return found


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    """``base`` with a few fields deleted or given a value of another type."""
    import copy

    data = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(data)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent: Any = data
        for key in path[:-1]:
            parent = parent[key]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(JSON)
    return data
