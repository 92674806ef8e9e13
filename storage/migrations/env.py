"""Alembic environment for Kolot, used in-process by ``storage.database`` and by the CLI.

``storage.database.upgrade()`` hands over an open connection in
``config.attributes["connection"]`` (Alembic cookbook: "Sharing a Connection across one
or more programmatic migration commands"), so a caller's engine settings such as a
PostgreSQL ``search_path`` apply. Run as ``alembic -c storage/alembic.ini ...`` there is
no connection, and the URL comes from ``sqlalchemy.url`` or ``$KOLOT_DATABASE_URL``.
"""

from __future__ import annotations

from logging.config import fileConfig
from typing import Any

from alembic import context
from sqlalchemy import JSON, Connection, make_url

from storage.database import database_url, make_engine, migration_connection
from storage.models import Base
from storage.types import UTCDateTime

config = context.config
target_metadata = Base.metadata

if config.config_file_name is not None and config.file_config.has_section("loggers"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _render_item(kind: str, item: Any, autogen_context: Any) -> str | bool:
    """Write plain SQLAlchemy types into new migrations instead of importing ours: a
    migration must keep working when ``storage.types`` changes later."""
    if kind != "type":
        return False
    if isinstance(item, UTCDateTime):
        return "sa.DateTime()"
    if isinstance(item, JSON) and "postgresql" in item._variant_mapping:
        autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        return 'sa.JSON().with_variant(postgresql.JSONB(), "postgresql")'
    return False


def _options(dialect_name: str) -> dict[str, Any]:
    return {
        "target_metadata": target_metadata,
        "render_as_batch": dialect_name == "sqlite",  # SQLite can't ALTER most things
        "transactional_ddl": True,  # true of SQLite too, given storage.database's BEGIN
        "compare_type": True,
        "render_item": _render_item,
    }


def _url() -> str:
    return database_url(config.get_main_option("sqlalchemy.url") or None)


def _run(connection: Connection) -> None:
    context.configure(connection=connection, **_options(connection.dialect.name))
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    url = _url()
    context.configure(
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **_options(make_url(url).get_backend_name()),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    shared = config.attributes.get("connection")
    if shared is not None:
        _run(shared)
        return
    engine = make_engine(_url())
    try:
        with migration_connection(engine) as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
