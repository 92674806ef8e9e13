"""Real databases for tests: PostgreSQL reachability, and a private schema per use.

PostgreSQL comes from ``$KOLOT_TEST_POSTGRES_URL`` (default: local trust auth, database
``test``). Unreachable PostgreSQL skips its tests locally and fails them under CI, where
skipping would hide a broken pipeline.
"""

from __future__ import annotations

import os
import secrets

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from storage.database import database_url as normalise_url

__all__ = [
    "DEFAULT_POSTGRES_URL",
    "create_schema",
    "drop_schema",
    "in_ci",
    "postgres_server_url",
    "require_postgres",
    "require_redis",
    "with_search_path",
]

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def in_ci() -> bool:
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


def require_postgres(url: str) -> None:
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
        if in_ci():
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


def require_redis(url: str = "redis://127.0.0.1:6379/0") -> None:
    """Skip (locally) or fail (under CI) when Redis is not reachable."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        message = (f"Redis not reachable at {url.split('@')[-1]} ({type(exc).__name__}); "
                   "start it to run the shared rate-cap tests")
        if in_ci():
            pytest.fail(f"{message} (CI is set, so this is an error, not a skip)",
                        pytrace=False)
        pytest.skip(message)
    finally:
        client.close()
