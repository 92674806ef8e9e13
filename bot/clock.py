"""The clock and id generators, injected everywhere so tests and transcripts repeat."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime

__all__ = ["Clock", "IdFactory", "random_id", "utc_now"]

Clock = Callable[[], datetime]
IdFactory = Callable[[], str]


def utc_now() -> datetime:
    return datetime.now(UTC)


def random_id() -> str:
    """16 hex characters from the OS's random source: a pseudonym nobody can reverse."""
    return secrets.token_hex(8)
