"""Engines, sessions and schema migrations for SQLite and PostgreSQL.

SQLite needs two corrections to behave like a transactional database under SQLAlchemy:

* Python's ``sqlite3`` driver (before 3.16) does not emit ``BEGIN`` before SELECT, DDL or
  SAVEPOINT, so a released savepoint would escape the enclosing rollback and reads would
  not be repeatable. The driver's own transaction handling is switched off on connect and
  SQLAlchemy's ``begin`` event emits ``BEGIN`` instead (SQLAlchemy docs, "Enabling
  Non-Legacy SQLite Transactional Modes").
* A commit per input needs WAL with ``synchronous=NORMAL`` to reach thousands of commits a
  second: WAL appends instead of rewriting pages, NORMAL skips the fsync per commit while
  staying consistent after a crash (only the last commits can be lost on power failure).

Migrations run Alembic in-process with a ``Config`` built here, pointing at the
``migrations`` folder shipped inside this package, so they work from any directory and
from a wheel, without an ``alembic.ini``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

__all__ = [
    "DEFAULT_URL",
    "MIGRATIONS",
    "current_revision",
    "database_url",
    "downgrade",
    "head_revision",
    "is_up_to_date",
    "make_engine",
    "make_session_factory",
    "migration_connection",
    "upgrade",
]

DEFAULT_URL = "sqlite:///kolot.db"
_SQLITE_BEGIN = "kolot_sqlite_begin"
"""Execution option naming the statement that opens a transaction on SQLite."""
_MIGRATION_LOCK = 0x6B6F6C6F74  # "kolot": the PostgreSQL advisory lock held while migrating
MIGRATIONS = Path(__file__).resolve().parent / "migrations"

_SQLITE_PRAGMAS = (
    "PRAGMA busy_timeout=5000",  # first, so switching to WAL waits for other writers
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
)


def database_url(explicit: str | None = None) -> str:
    """The URL to use: an explicit one, else ``$KOLOT_DATABASE_URL``, else ``./kolot.db``.

    Hosting platforms hand out ``postgres://`` URLs; they are rewritten to the psycopg 3
    driver, the only PostgreSQL driver Kolot depends on.
    """
    url = explicit or os.environ.get("KOLOT_DATABASE_URL") or DEFAULT_URL
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _json_dumps(value: Any) -> str:
    # Keep Hebrew, Arabic and Russian answers readable in the database, not \u-escaped.
    return json.dumps(value, ensure_ascii=False)


def make_engine(url: str) -> Engine:
    engine = create_engine(url, json_serializer=_json_dumps)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the driver no longer BEGINs on its own
        cursor = dbapi_connection.cursor()
        try:
            for pragma in _SQLITE_PRAGMAS:
                cursor.execute(pragma)
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        options = connection.get_execution_options()
        if options.get("isolation_level") == "AUTOCOMMIT":
            return
        # Straight to the driver: this runs once per transaction, and SQLAlchemy's
        # statement machinery would cost more than SQLite takes to begin.
        connection.connection.driver_connection.execute(  # type: ignore[union-attr]
            options.get(_SQLITE_BEGIN, "BEGIN")
        )


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit (a UnitOfWork commits, then the
    caller still reads ids and fields of what it wrote)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def migration_connection(engine: Engine) -> Iterator[Connection]:
    """A connection in one transaction for migrating; committed if the block succeeds.

    Several processes starting at once may all call ``upgrade()``; the transaction first
    takes the database's write lock (SQLite ``BEGIN IMMEDIATE``, a PostgreSQL advisory
    lock), so one migrates and the others then find nothing left to do.

    On SQLite, Alembic's batch mode rebuilds a table by copying it and dropping the old
    one, and with foreign keys on, that DROP cascades into every referencing table. The
    pragma only takes effect outside a transaction, so it is switched off before BEGIN,
    the result is checked with ``foreign_key_check`` before commit, and switched back on.
    """
    with engine.connect() as connection:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            connection.execution_options(**{_SQLITE_BEGIN: "BEGIN IMMEDIATE"})
            connection.connection.driver_connection.execute(  # type: ignore[union-attr]
                "PRAGMA foreign_keys=OFF"
            )
        try:
            with connection.begin():
                if engine.dialect.name == "postgresql":
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK}
                    )
                yield connection
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"migration left dangling foreign keys: {broken}")
        finally:
            if sqlite:
                connection.connection.driver_connection.execute(  # type: ignore[union-attr]
                    "PRAGMA foreign_keys=ON"
                )


def _config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # configparser
    return config


def _migrate(url: str, engine: Engine | None, run: Callable[[Config], None]) -> None:
    owned = engine is None
    bound = make_engine(url) if engine is None else engine
    config = _config(url)
    try:
        with migration_connection(bound) as connection:
            config.attributes["connection"] = connection
            run(config)
    finally:
        if owned:
            bound.dispose()


def upgrade(url: str, *, engine: Engine | None = None) -> None:
    """Migrate the database to the newest schema (``alembic upgrade head``).

    Pass ``engine`` to migrate through an engine configured beyond its URL (for example a
    PostgreSQL ``search_path`` given in ``connect_args``).
    """
    _migrate(url, engine, lambda config: command.upgrade(config, "head"))


def downgrade(url: str, revision: str = "base", *, engine: Engine | None = None) -> None:
    _migrate(url, engine, lambda config: command.downgrade(config, revision))


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(url: str, *, engine: Engine | None = None) -> str | None:
    """The revision the database is at; ``None`` for a database never migrated."""
    bound = make_engine(url) if engine is None else engine
    try:
        with bound.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        if engine is None:
            bound.dispose()


def is_up_to_date(url: str, *, engine: Engine | None = None) -> bool:
    return current_revision(url, engine=engine) == head_revision()

