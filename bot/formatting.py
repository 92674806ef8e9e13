"""Dates, times and numbers written the way the participant's language writes them, in the
flow's time zone (a deadline "Thursday 18:00" means Jerusalem time to everyone in Jerusalem,
whatever the server's clock says).

Babel (CLDR) knows the formats; nothing here is a hand-kept pattern. The results are meant
to be inserted into sentences with :func:`bot.engine.bidi.fill`, which isolates them as a
whole and leaves Babel's own direction marks (RLM in Arabic dates) as they are.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time
from babel.numbers import format_decimal

__all__ = ["day", "moment", "number", "time_of_day"]

Style = Literal["short", "medium", "long", "full"]


def _local(when: datetime, timezone: str) -> datetime:
    if when.tzinfo is None:
        raise ValueError("a naive datetime has no time zone to convert from; use UTC")
    return when.astimezone(ZoneInfo(timezone))


def moment(when: datetime, language: str, timezone: str, style: Style = "medium") -> str:
    """A date and time, e.g. en ``Nov 22, 2026, 10:30:00 AM`` for 08:30 UTC in Jerusalem."""
    return format_datetime(_local(when, timezone), style, locale=language)


def day(when: datetime, language: str, timezone: str, style: Style = "full") -> str:
    """The calendar day in the flow's time zone (a 23:30 UTC deadline is the next day in
    Jerusalem), e.g. en ``Sunday, November 22, 2026``."""
    return format_date(_local(when, timezone).date(), style, locale=language)


def time_of_day(when: datetime, language: str, timezone: str) -> str:
    return format_time(_local(when, timezone), "short", locale=language)


def number(value: float, language: str) -> str:
    """``1,234.5`` in English and Hebrew, ``1 234,5`` in Russian."""
    return format_decimal(value, locale=language)
