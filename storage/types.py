"""Column types that behave the same on SQLite and PostgreSQL.

SQLite has no timezone-aware timestamp, and PostgreSQL's ``timestamptz`` would hand back
the session's zone. Storing naive UTC everywhere and attaching UTC on the way out gives
one behaviour on both, so code can compare stored times with ``datetime.now(UTC)``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

__all__ = ["JSONType", "UTCDateTime"]


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in, aware UTC out; a naive datetime is a bug and is refused.

    A naive value has no zone, so guessing one (local time? UTC?) would silently shift
    reminders and phase dates; refusing it finds the bug where it is made.
    """

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"UTCDateTime needs a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            raise ValueError(f"naive datetime {value.isoformat()} refused: pass an aware one")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]


JSONType = JSON().with_variant(JSONB(), "postgresql")
"""JSONB on PostgreSQL (indexable, compact, compared by value), JSON text elsewhere."""
