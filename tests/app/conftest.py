"""Fixtures of the command-line tests that run on both databases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from storage.database import make_engine, upgrade


@pytest.fixture
def migrated_url(empty_database_url: str) -> Iterator[tuple[str, Engine]]:
    """A migrated database of each kind, of this test alone: its URL and an engine."""
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    try:
        yield empty_database_url, engine
    finally:
        engine.dispose()
