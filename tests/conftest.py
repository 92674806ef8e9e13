"""Shared fixtures: a real database per backend, and a rolled-back transaction per test.

Every test that needs the database runs twice, on SQLite and on PostgreSQL. PostgreSQL
comes from ``$KOLOT_TEST_POSTGRES_URL`` (default: local trust auth, database ``test``);
each test session migrates into its own schema and drops it at the end, so parallel
sessions and leftovers can't interfere. Unreachable PostgreSQL skips those tests locally
and fails them under CI, where skipping would hide a broken pipeline.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from storage.database import database_url as normalise_url
from storage.database import make_engine, upgrade

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


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


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false")


def postgres_server_url() -> str:
    return normalise_url(os.environ.get("KOLOT_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL)


def with_search_path(url: str, schema: str) -> str:
    """``url`` with every connection's ``search_path`` set to ``schema``.

    Carried in the URL (libpq ``options``), so anything given only the URL (Alembic,
    ``make_engine``, a CLI under test) lands in the test schema too.
    """
    parsed = make_url(url)
    given = parsed.query.get("options", ())
    options = " ".join([*([given] if isinstance(given, str) else given), f"-csearch_path={schema}"])
    return parsed.update_query_dict({"options": options}).render_as_string(hide_password=False)


def _require_postgres(url: str) -> None:
    parsed = make_url(url)
    where = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    probe = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 3})
    try:
        with probe.connect():
            pass
    except SQLAlchemyError as exc:
        error = str(getattr(exc, "orig", exc) or exc).strip().splitlines()[0]
        if parsed.password:
            error = error.replace(parsed.password, "***")
        message = (
            f"PostgreSQL not reachable at {where} ({error}); "
            "set KOLOT_TEST_POSTGRES_URL or start PostgreSQL to run these tests"
        )
        if _in_ci():
            pytest.fail(f"{message} (CI is set, so this is an error, not a skip)", pytrace=False)
        pytest.skip(message)
    finally:
        probe.dispose()


def create_schema(server_url: str, prefix: str = "kolot_test") -> tuple[str, str]:
    """A new empty schema; returns its name and a URL that works inside it."""
    schema = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    admin = create_engine(server_url, poolclass=NullPool)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    finally:
        admin.dispose()
    return schema, with_search_path(server_url, schema)


def drop_schema(server_url: str, schema: str) -> None:
    admin = create_engine(server_url, poolclass=NullPool)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"], ids=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A URL to an empty database of each kind, private to this test session."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'kolot.db'}"
        return
    server = postgres_server_url()
    _require_postgres(server)
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
