"""URL selection, SQLite connection settings, and SQLite savepoints that really nest."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from storage.database import DEFAULT_URL, database_url, make_engine, make_session_factory


def test_url_explicit_then_environment_then_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KOLOT_DATABASE_URL", raising=False)
    assert database_url() == DEFAULT_URL == "sqlite:///kolot.db"
    monkeypatch.setenv("KOLOT_DATABASE_URL", "sqlite:///from-env.db")
    assert database_url() == "sqlite:///from-env.db"
    assert database_url("sqlite:///explicit.db") == "sqlite:///explicit.db"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@h:5432/db", "postgresql+psycopg://u:p@h:5432/db"),
        ("postgresql://u@h/db?sslmode=require", "postgresql+psycopg://u@h/db?sslmode=require"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////var/lib/kolot.db", "sqlite:////var/lib/kolot.db"),
    ],
)
def test_postgres_urls_use_psycopg(given: str, expected: str) -> None:
    assert database_url(given) == expected


def test_sqlite_connections_use_wal_and_enforce_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'pragmas.db'}")
    try:
        with engine.connect() as connection:
            pragmas = [
                connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            ]
    finally:
        engine.dispose()
    assert pragmas == ["wal", 1, 1, 5000]  # synchronous 1 is NORMAL


def test_sqlite_rollback_undoes_a_released_savepoint(tmp_path: Path) -> None:
    """With the driver's legacy BEGIN handling this fails: the savepoint commits alone."""
    engine = make_engine(f"sqlite:///{tmp_path / 'savepoints.db'}")
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        with engine.connect() as connection:
            outer = connection.begin()
            nested = connection.begin_nested()
            connection.execute(text("INSERT INTO t VALUES (1)"))
            nested.commit()
            outer.rollback()
            assert connection.execute(text("SELECT count(*) FROM t")).scalar() == 0
    finally:
        engine.dispose()


def test_sqlite_ddl_is_transactional(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'ddl.db'}")
    try:
        with engine.connect() as connection:
            with connection.begin() as transaction:
                connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
                transaction.rollback()
            names = connection.exec_driver_sql("SELECT name FROM sqlite_master").all()
    finally:
        engine.dispose()
    assert names == []


def test_session_factory_keeps_objects_readable_after_commit(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'expire.db'}")
    try:
        assert make_session_factory(engine).kw["expire_on_commit"] is False
    finally:
        engine.dispose()


def test_autocommit_connections_get_no_begin(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'auto.db'}")
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            driver = connection.connection.driver_connection
            assert driver is not None and not driver.in_transaction
    finally:
        engine.dispose()
