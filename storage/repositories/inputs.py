"""Processed platform messages: the record that makes every input apply once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import Session

from storage.models import ProcessedInput
from storage.repositories._statements import dialect, execute, per_dialect

__all__ = ["ProcessedInputRepository"]

_SEEN = select(
    exists().where(
        ProcessedInput.channel == bindparam("channel"),
        ProcessedInput.platform_id == bindparam("platform_id"),
    )
)


def _insert_new(insert: Callable[..., Any]) -> Any:
    # The row count says whether the row went in. SQLAlchemy reports it for INSERT only
    # when asked to preserve it, and inline() keeps it from adding RETURNING (of the new
    # id), after which PostgreSQL's count is not reported.
    return (
        insert(ProcessedInput.__table__)
        .inline()
        .on_conflict_do_nothing(index_elements=["channel", "platform_id"])
        .execution_options(preserve_rowcount=True)
    )


_RECORD = per_dialect(_insert_new)


class ProcessedInputRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def seen(self, channel: str, platform_id: str) -> bool:
        row = execute(self.session, _SEEN, {"channel": channel, "platform_id": platform_id})
        found = row.first()
        return bool(found[0]) if found is not None else False

    def record(
        self, channel: str, platform_id: str, participant_id: int | None, *, now: datetime
    ) -> bool:
        """Claim the input; ``False`` if it was applied before (or is being applied now).

        ``seen`` is only a fast path: two deliveries of one message can both pass it. The
        unique key decides, with ``ON CONFLICT DO NOTHING``: a duplicate raises nothing,
        so the caller's transaction stays usable, in one statement instead of a
        savepoint around an insert that fails. On PostgreSQL a concurrent transaction
        holding the same key makes this wait for it to end, then report ``False``.
        """
        result = execute(
            self.session,
            _RECORD[dialect(self.session)],
            {
                "channel": channel,
                "platform_id": platform_id,
                "participant_id": participant_id,
                "processed_at": now,
            },
        )
        return bool(result.rowcount == 1)
