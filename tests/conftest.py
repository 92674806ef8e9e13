"""Shared fixtures: a real database per backend, and a rolled-back transaction per test.

Every test that needs the database runs twice, on SQLite and on PostgreSQL. PostgreSQL
comes from ``$KOLOT_TEST_POSTGRES_URL`` (default: local trust auth, database ``test``);
each test session migrates into its own schema and drops it at the end, so parallel
sessions and leftovers can't interfere. Unreachable PostgreSQL skips those tests locally
and fails them under CI, where skipping would hide a broken pipeline.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from databases import create_schema, drop_schema, postgres_server_url, require_postgres
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from storage.database import make_engine, upgrade


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-cases",
        action="store_true",
        help="regenerate tests/cases/*.yaml transcripts from the engine",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "database_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.storage)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"], ids=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A URL to an empty database of each kind, private to this test session."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'kolot.db'}"
        return
    server = postgres_server_url()
    require_postgres(server)
    schema, url = create_schema(server)
    try:
        yield url
    finally:
        drop_schema(server, schema)


@pytest.fixture
def empty_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A database of the same kind as ``database_url`` with nothing in it, not migrated."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    server = postgres_server_url()
    schema, url = create_schema(server, prefix="kolot_empty")
    try:
        yield url
    finally:
        drop_schema(server, schema)


@pytest.fixture
def fresh_database(empty_database_url: str) -> str:
    """An empty database of each kind for one test, which a server under test migrates."""
    return empty_database_url


@pytest.fixture(scope="session")
def db_engine(database_url: str) -> Iterator[Engine]:
    """The migrated database. Tests that commit through it must clean up after themselves."""
    engine = make_engine(database_url)
    upgrade(database_url, engine=engine)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def session_factory(db_engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Sessions inside one outer transaction that is rolled back after the test.

    Code under test may commit (a UnitOfWork does): with ``create_savepoint`` each
    session's commit only releases a savepoint, so later sessions in the same test see
    the data and the next test sees none of it (SQLAlchemy docs, "Joining a Session into
    an External Transaction").
    """
    with db_engine.connect() as connection:
        outer = connection.begin()
        try:
            yield sessionmaker(
                bind=connection,
                join_transaction_mode="create_savepoint",
                expire_on_commit=False,
            )
        finally:
            outer.rollback()
