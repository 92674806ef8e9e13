"""Statements built once, and ``INSERT ... ON CONFLICT`` for both databases.

At a commit per input, building a SQLAlchemy statement costs more than SQLite takes to
run it (measured: an ORM select built per call ~240 us, prebuilt with bind parameters
~110 us; raw sqlite3 ~10 us). The hot-path statements are therefore module constants
with ``bindparam``s. ``ON CONFLICT`` is spelled the same on SQLite (3.24+) and
PostgreSQL, but SQLAlchemy keeps the construct in each dialect, so those statements are
built once per dialect and picked by the session's database.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from sqlalchemy import ClauseElement, Connection, Executable, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler

__all__ = ["dialect", "execute", "per_dialect", "table"]

T = TypeVar("T")

_INSERTS: dict[str, Callable[..., Any]] = {
    "postgresql": postgresql.insert,
    "sqlite": sqlite.insert,
}


def per_dialect(build: Callable[[Callable[..., Any]], T]) -> dict[str, T]:
    """``build(insert)`` for each supported database's ``insert`` construct."""
    return {name: build(insert) for name, insert in _INSERTS.items()}


def dialect(session: Session) -> str:
    name = session.get_bind().dialect.name
    if name not in _INSERTS:
        raise NotImplementedError(f"Kolot supports SQLite and PostgreSQL, not {name}")
    return name


def execute(session: Session, statement: Executable, params: dict[str, Any]) -> Any:
    """Run a Core statement on the session's connection, in its transaction.

    ``Session.execute`` would first route a Core statement through the ORM's execution
    machinery (measured ~60 us against ~25 us here). Nothing is flushed first, so use it
    only for statements that don't depend on unflushed ORM changes.

    On SQLite the statement goes to the driver's cursor directly, compiled once (see
    :class:`_Prepared`): the result has ``first()``, ``all()``, iteration, ``rowcount``
    and ``inserted_primary_key``, which is what the repositories use.
    """
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        prepared = _prepared(connection.dialect, statement, params)
        if prepared is not None:
            return prepared.run(connection, params)
    return connection.execute(statement, params)


class _FastResult:
    __slots__ = ("_rows", "inserted_primary_key", "rowcount")

    def __init__(self, rows: list[Any], rowcount: int, lastrowid: int | None) -> None:
        self._rows = rows
        self.rowcount = rowcount
        self.inserted_primary_key = (lastrowid,)

    def first(self) -> Any:
        return self._rows[0] if self._rows else None

    def all(self) -> list[Any]:
        return self._rows

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)


class _Prepared:
    """A prebuilt statement compiled once for SQLite: its SQL, the parameters in order with
    their types' converters, and the converters and names of its result columns.

    Through SQLAlchemy's execution machinery a statement costs several times what SQLite
    takes to run it (~60 us against ~10 us here), and every input runs six or seven. This
    applies the same type conversions (UTC datetimes, JSON) and skips the machinery. Only
    statements it can run exactly are prepared: none with parameters that expand to
    lists, or with Python-side column defaults the execution context would fill in.
    """

    __slots__ = ("binds", "converters", "row", "sql")

    def __init__(self, dialect: Dialect, compiled: SQLCompiler) -> None:
        names = compiled.positiontup or []
        self.sql = compiled.string
        self.binds = [(name, compiled.binds[name], compiled.binds[name].type
                       ._cached_bind_processor(dialect)) for name in names]
        columns = getattr(compiled, "_result_columns", [])
        self.converters = [column[3]._cached_result_processor(dialect, None)
                           for column in columns]
        self.row: Any = namedtuple("Row", [column[0] for column in columns],
                                   rename=True) if columns else None

    def run(self, connection: Connection, params: dict[str, Any]) -> _FastResult:
        values = []
        for name, bind, convert in self.binds:
            if name in params:
                value = params[name]
            else:
                value = bind.callable() if bind.callable is not None else bind.value
            values.append(convert(value) if convert is not None else value)
        driver = connection.connection.driver_connection
        assert driver is not None
        cursor = driver.execute(self.sql, values)
        rows: list[Any] = []
        if self.row is not None:
            converters = self.converters
            make = self.row._make
            rows = [make([c(v) if c is not None else v for c, v in zip(converters, raw,
                                                                       strict=True)])
                    for raw in cursor.fetchall()]
        return _FastResult(rows, cursor.rowcount, cursor.lastrowid)


_PREPARED: dict[tuple[int, frozenset[str]], _Prepared | None] = {}


def _prepared(dialect: Dialect, statement: Executable, params: dict[str, Any]) -> _Prepared | None:
    key = (id(statement), frozenset(params))
    if key in _PREPARED:
        return _PREPARED[key]
    found: _Prepared | None = None
    if isinstance(statement, ClauseElement) and not any(
        getattr(b, "expanding", False) for b in statement._get_embedded_bindparams()
    ):
        compiled = statement.compile(dialect=dialect, column_keys=list(params))
        assert isinstance(compiled, SQLCompiler)
        defaults = getattr(compiled, "insert_prefetch", []) or getattr(
            compiled, "update_prefetch", [])
        if not defaults and compiled.positiontup is not None and \
                not getattr(compiled, "postfetch", None):
            found = _Prepared(dialect, compiled)
    _KEEP.append(statement)  # ids stay unique while the statement lives: keep it alive
    _PREPARED[key] = found
    return found


_KEEP: list[Any] = []


def table(model: type[Any]) -> Table:
    """A mapped class's ``Table``, typed as one (the ORM declares ``__table__`` loosely)."""
    found = model.__table__
    assert isinstance(found, Table)
    return found
