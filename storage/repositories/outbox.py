"""The outbox: messages written with the state change, sent later by sender workers.

One participant's messages must arrive in the order they were written (a note, then the
question it introduces), so senders claim *participants*, not loose rows: a claim takes a
participant's due rows only while nothing older of theirs is still unsent and not yet due
(waiting for a retry, or held by another sender's lease). On PostgreSQL the participants
are locked with ``FOR UPDATE SKIP LOCKED`` for the claim, so concurrent senders take
different people without waiting for each other, and never two senders one person.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam, delete, exists, func, insert, or_, select, text, update
from sqlalchemy.orm import Session, aliased

from storage.models import UNSENT_SQL, OutboxMessage, Participant
from storage.repositories._statements import execute, table

__all__ = ["LEASE", "Claim", "Claimed", "Due", "OutboxRepository"]


class Due(NamedTuple):
    """A message taken for sending: just what a sender needs."""

    id: int
    address: str
    payload: dict[str, Any]


class Claimed(NamedTuple):
    """A claimed row. ``attempts`` counts this one; ``heard_at`` is when the participant
    last wrote (WhatsApp answers freely only within 24 hours of it)."""

    id: int
    participant_id: int
    address: str
    payload: dict[str, Any]
    attempts: int
    created_at: datetime
    heard_at: datetime | None = None
    once: bool = False
    """A broadcast's row: sent at most once (see :meth:`OutboxRepository.attempt`)."""


class Claim(NamedTuple):
    """What one claim took: rows oldest first, and which of their participants asked for no
    more messages or can't be reached (their rows are recorded as not sent, not sent)."""

    rows: list[Claimed]
    stopped: set[int]
    unreachable: set[int]

    def by_participant(self) -> list[list[Claimed]]:
        """Each participant's rows, oldest first: one list per person, whatever rows of
        others came between theirs (two of A's inputs around one of B's)."""
        people: dict[int, list[Claimed]] = {}
        for row in self.rows:
            people.setdefault(row.participant_id, []).append(row)
        return list(people.values())


_DELIVERY_ORDER = {"accepted": 1, "queued": 1, "sending": 2, "sent": 3, "delivered": 4,
                   "read": 5, "undelivered": 6, "failed": 6}
"""Later reports never undo earlier ones: a late "sent" leaves "delivered" alone."""

LEASE = timedelta(minutes=5)
"""How long a claim holds. A sender that dies mid-send leaves rows ``sending``; once the
lease has run out they are due again, so a crash can repeat a message but never lose one."""

_UNSENT = ("pending", "sending")
_TABLE = table(OutboxMessage)
_ENQUEUE = insert(_TABLE)
_EARLIER = aliased(OutboxMessage)
_HEAD_DUE = ~exists().where(
    _EARLIER.participant_id == OutboxMessage.participant_id,
    _EARLIER.channel == OutboxMessage.channel,
    _EARLIER.status.in_(_UNSENT),
    _EARLIER.next_attempt_at > bindparam("due_at"),
    _EARLIER.id < OutboxMessage.id,
)
"""Nothing older of the same participant is waiting: this row's turn has come."""


class _Claims(NamedTuple):
    candidates: Any
    lock: Any
    claim: Any


def _claims() -> _Claims:
    """The claim's two statements. A row is due when pending, or ``sending`` with its
    lease run out, unless its platform call had begun (``attempted_at``, a broadcast
    row): that one is never sent again."""
    due = and_(
        OutboxMessage.channel == bindparam("due_channel"),
        text(UNSENT_SQL),  # as the partial index says it, so the planner takes the index
        OutboxMessage.next_attempt_at <= bindparam("due_at"),
        or_(OutboxMessage.status == "pending", OutboxMessage.attempted_at.is_(None)),
    )
    # The oldest due rows, walked in id order along the partial index of unsent rows and
    # cut off early: a claim costs what it takes, not what the queue holds (a broadcast
    # puts 100,000 rows in it at once). A person may have several of them, so a few
    # times the rows, then at most ``due_limit`` people.
    candidates = (
        select(OutboxMessage.participant_id)
        .where(due, _HEAD_DUE)
        .order_by(OutboxMessage.id)
        .limit(bindparam("due_rows"))
    )
    lock = (
        select(Participant.id, Participant.stopped_at, Participant.unreachable_at,
               Participant.last_inbound_at)
        .where(Participant.id.in_(bindparam("chosen", expanding=True)))
        .with_for_update(skip_locked=True)
    )
    claim = (
        update(OutboxMessage)
        .where(OutboxMessage.participant_id.in_(bindparam("locked", expanding=True)), due,
               _HEAD_DUE)
        .values(
            status="sending",
            attempts=OutboxMessage.attempts + 1,
            next_attempt_at=bindparam("lease_until"),
            attempted_at=None,
        )
        .returning(
            OutboxMessage.id,
            OutboxMessage.participant_id,
            OutboxMessage.address,
            OutboxMessage.payload,
            OutboxMessage.attempts,
            OutboxMessage.created_at,
            OutboxMessage.broadcast_id,
        )
    )
    return _Claims(candidates, lock, claim)


_CANDIDATES, _LOCK, _CLAIM = _claims()  # built once: see storage.repositories._statements
_TAKE_SENT = (
    update(_TABLE)
    .where(
        _TABLE.c.status == "pending",
        _TABLE.c.channel == bindparam("due_channel"),
        _TABLE.c.next_attempt_at <= bindparam("due_at"),
        _TABLE.c.address == bindparam("due_address"),
    )
    .values(status="sent", sent_at=bindparam("due_at"), attempts=_TABLE.c.attempts + 1)
    .returning(_TABLE.c.id, _TABLE.c.address, _TABLE.c.payload)
)
_SENT = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("row_id"))
    .values(status="sent", sent_at=bindparam("sent_at"),
            platform_message_id=bindparam("platform_id"))
)
_LIVE = (
    select(OutboxMessage.id, OutboxMessage.payload, OutboxMessage.platform_message_id)
    .where(
        OutboxMessage.participant_id == bindparam("participant_id"),
        OutboxMessage.channel == bindparam("channel"),
        OutboxMessage.keyboard.is_(True),
    )
    .order_by(OutboxMessage.id.desc())
    .limit(1)
)


class OutboxRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def enqueue(
        self,
        participant_id: int,
        channel: str,
        address: str,
        payload: dict[str, Any],
        *,
        now: datetime,
        sent: bool = False,
        due: datetime | None = None,
    ) -> int:
        """Queue one message, due ``due`` (default now); returns its id. Every input writes
        a few of these, so it is one prebuilt ``INSERT`` rather than an ORM object.

        ``sent=True`` records a message that a synchronous channel shows right after this
        transaction commits (see ``Service.handle``), so it is never pending.
        """
        result = execute(
            self.session,
            _ENQUEUE,
            {
                "participant_id": participant_id,
                "channel": channel,
                "address": address,
                "payload": payload,
                "status": "sent" if sent else "pending",
                "attempts": 1 if sent else 0,
                "next_attempt_at": due or now,
                "created_at": now,
                "sent_at": now if sent else None,
                "keyboard": bool(payload.get("buttons")) and not payload.get("action"),
            },
        )
        key = result.inserted_primary_key
        assert key is not None  # a single-row INSERT always reports its key
        return int(key[0])

    def claim(self, channel: str, *, now: datetime, limit: int = 100) -> Claim:
        """Take the due rows of up to ``limit`` participants on ``channel`` as ``sending``.

        Three statements in one transaction: find the people whose oldest unsent row is
        due, lock them (``SKIP LOCKED`` passes over those another sender, or an input
        being handled, holds), then claim their due rows. The claim reads after the lock was
        granted, so it sees any claim another sender committed before letting go of the
        same person. SQLite drops the locking clause; its single writer is the lock.
        The caller commits before sending, so a slow send holds no lock. A claim is a
        lease (:data:`LEASE`): rows a sender that died left ``sending`` come due again,
        unless they are broadcast rows whose platform call had begun.
        """
        params = {"due_channel": channel, "due_at": now, "due_rows": limit * 4}
        # The people whose rows are the oldest due, oldest first (a dict keeps the order).
        chosen = list(dict.fromkeys(execute(self.session, _CANDIDATES, params).scalars()))
        if not chosen:
            return Claim([], set(), set())
        locked = execute(self.session, _LOCK, {"chosen": chosen[:limit]}).all()
        if not locked:
            return Claim([], set(), set())
        rows = execute(
            self.session,
            _CLAIM,
            {**params, "locked": [row.id for row in locked], "lease_until": now + LEASE},
        ).all()
        heard = {row.id: row.last_inbound_at for row in locked}
        return Claim(
            sorted((Claimed(row[0], row[1], row[2], row[3], row[4], row[5], heard.get(row[1]),
                            row[6] is not None) for row in rows), key=lambda r: r.id),
            {row.id for row in locked if row.stopped_at is not None},
            {row.id for row in locked if row.unreachable_at is not None},
        )

    def attempt(self, rows: Iterable[Claimed], *, now: datetime) -> set[int]:
        """Mark claimed broadcast rows as having their platform call begin; returns the ids
        still held by this claim (the row is ``sending`` with the attempt this claim
        counted, and no call began yet), which are then this sender's to send.

        Committed before the call, this is what makes a broadcast at most once per
        person: after a crash a marked row is in doubt and becomes ``unconfirmed``, never
        sent again, and one not marked was certainly not sent and goes again. A claim
        that ``kolot broadcast`` took back meanwhile (``BroadcastRepository.take_back``)
        fails the check, so two senders never both call the platform for one row.
        """
        won: set[int] = set()
        by_attempt: dict[int, list[int]] = {}
        for row in rows:
            by_attempt.setdefault(row.attempts, []).append(row.id)
        for attempts, ids in by_attempt.items():
            won.update(self.session.scalars(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), OutboxMessage.status == "sending",
                       OutboxMessage.attempts == attempts,
                       OutboxMessage.attempted_at.is_(None))
                .values(attempted_at=now)
                .returning(OutboxMessage.id)))
        return won

    def unconfirm(self, ids: Iterable[int], reason: str) -> None:
        """The platform call of these broadcast rows began but no answer came (a read
        timeout, a dropped connection): they may have arrived, so they are not sent again."""
        ids = list(ids)
        if ids:
            self.session.execute(
                update(OutboxMessage).where(OutboxMessage.id.in_(ids))
                .values(status="unconfirmed", last_error=reason[:1000]))

    def settle(self, *, now: datetime, broadcast: int | None = None) -> int:
        """Broadcast rows a sender left ``sending`` after their call began become
        ``unconfirmed`` (once the lease ran out, or at once for ``broadcast``, which
        ``kolot broadcast`` is resuming); returns how many."""
        query = update(OutboxMessage).where(
            OutboxMessage.status == "sending", OutboxMessage.attempted_at.is_not(None))
        if broadcast is None:
            query = query.where(OutboxMessage.next_attempt_at <= now)
        else:
            query = query.where(OutboxMessage.broadcast_id == broadcast)
        result = self.session.execute(query.values(
            status="unconfirmed",
            last_error="the sender stopped during the platform call: it may have arrived, "
                       "so it is not sent again"))
        return int(getattr(result, "rowcount", 0) or 0)

    def take_sent(self, channel: str, address: str, *, now: datetime) -> list[Due]:
        """Mark one address's due messages sent and return them, oldest first.

        For a channel that delivers synchronously inside this transaction (the console
        prints): the caller sends, then commits. If sending fails, the rollback leaves the
        rows pending, so nothing is lost; at worst a message is shown twice.
        """
        params = {"due_channel": channel, "due_address": address, "due_at": now}
        rows = execute(self.session, _TAKE_SENT, params).all()
        return [Due._make(row) for row in sorted(rows)]  # RETURNING promises no order

    def mark_sent(
        self, ids: Iterable[int], *, now: datetime, platform_ids: Sequence[str | None] = ()
    ) -> None:
        """Record rows as sent, with the platform's message id of each where known."""
        ids = list(ids)
        if not ids:
            return
        refs = list(platform_ids) or [None] * len(ids)
        execute_many(
            self.session,
            _SENT,
            [{"row_id": i, "sent_at": now, "platform_id": ref} for i, ref in zip(ids, refs,
                                                                                  strict=True)],
        )

    def mark_failed(
        self, id: int, error: str, *, now: datetime, retry_at: datetime | None
    ) -> None:
        """Record a failed send: back to ``pending`` at ``retry_at``, or ``failed`` for good."""
        values: dict[str, Any] = {"last_error": error[:1000]}
        if retry_at is None:
            values["status"] = "failed"
        else:
            values.update(status="pending", next_attempt_at=retry_at)
        self.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == id).values(**values)
        )

    def release(self, rows: Iterable[Claimed], *, at: datetime) -> None:
        """Give claimed rows back unsent, due ``at``, without counting the attempt: they
        waited behind an earlier row that failed, or the platform asked us to pause. A row
        another claim has taken since (see :meth:`attempt`) is left to that claim."""
        by_attempt: dict[int, list[int]] = {}
        for row in rows:
            by_attempt.setdefault(row.attempts, []).append(row.id)
        for attempts, ids in by_attempt.items():
            self.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), OutboxMessage.status == "sending",
                       OutboxMessage.attempts == attempts)
                .values(status="pending", next_attempt_at=at, attempted_at=None,
                        attempts=OutboxMessage.attempts - 1)
            )

    def live_keyboard(
        self, participant_id: int, channel: str
    ) -> tuple[int, dict[str, Any], str | None] | None:
        """The participant's newest message with buttons: the only one a tap may answer.
        Its id, payload and the platform's id of it (once sent)."""
        row = execute(
            self.session, _LIVE, {"participant_id": participant_id, "channel": channel}
        ).first()
        if row is None:
            return None
        return int(row.id), dict(row.payload), row.platform_message_id

    def forget_documents(self, *, before: datetime) -> int:
        """Drop the data files (``/mydata``) of rows written before ``before`` from their
        payloads: once delivered, a copy of someone's data has no business in the outbox.
        Returns how many rows had one."""
        rows = self.session.execute(
            select(OutboxMessage.id, OutboxMessage.payload)
            .where(OutboxMessage.created_at < before,
                   OutboxMessage.payload["document_token"].as_string().is_not(None))).all()
        for row in rows:
            payload = {k: v for k, v in dict(row.payload).items()
                       if k not in ("document", "document_token")}
            self.session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id)
                                 .values(payload=payload))
        return len(rows)

    def newest(self, participant_id: int) -> int | None:
        """The id of the newest row written for the participant."""
        return self.session.scalar(select(func.max(OutboxMessage.id))
                                   .where(OutboxMessage.participant_id == participant_id))

    def sending(self, channel: str) -> bool:
        """Whether any row on the channel is claimed and not yet recorded as sent."""
        return self.session.scalar(select(exists().where(
            OutboxMessage.channel == channel, OutboxMessage.status == "sending"))) or False

    def document(self, id: int, token: str, *, since: datetime) -> str | None:
        """The data file (``/mydata``) a row carries, if ``token`` is its secret and the
        row was written after ``since``: a platform fetching it by URL gets it only briefly."""
        row = self.session.execute(
            select(OutboxMessage.payload)
            .where(OutboxMessage.id == id, OutboxMessage.created_at >= since)
        ).first()
        if row is None:
            return None
        payload = dict(row.payload)
        secret, document = payload.get("document_token"), payload.get("document")
        if not isinstance(secret, str) or not isinstance(document, str):
            return None
        return document if hmac.compare_digest(secret.encode(), token.encode()) else None

    def mark_held(self, id: int, reason: str) -> None:
        """It may not be sent as it is (and must not be sent to fail): kept, with why."""
        self.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == id)
            .values(status="held", last_error=reason[:1000])
        )

    def report_delivery(
        self, platform_id: str, status: str, error: str | None, held: str | None = None
    ) -> bool:
        """What the platform later said of a sent message (Twilio's status callback).

        Reports arrive in any order and more than once; a row only moves forward
        (sent, delivered, read), and a failure is final. ``held``: the failure means the
        message may not be sent now (outside WhatsApp's window): the row is held, with
        that reason. Returns whether a row had that platform id.
        """
        row = self.session.execute(
            select(OutboxMessage.id, OutboxMessage.delivery_status)
            .where(OutboxMessage.platform_message_id == platform_id)
        ).first()
        if row is None:
            return False
        if _DELIVERY_ORDER.get(status, 0) <= _DELIVERY_ORDER.get(row.delivery_status or "", 0):
            return True
        values: dict[str, Any] = {"delivery_status": status, "delivery_error": error}
        if held is not None:
            values.update(status="held", last_error=held)
        self.session.execute(
            update(OutboxMessage).where(OutboxMessage.id == row.id).values(**values)
        )
        return True

    def cancel_pending(self, participant_id: int, reason: str) -> int:
        """Mark every unsent row of a participant failed with ``reason``; returns how many."""
        result = self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.participant_id == participant_id,
                   OutboxMessage.status == "pending")
            .values(status="failed", last_error=reason)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def pending_count(self, channel: str | None = None) -> int:
        query = select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.status == "pending"
        )
        if channel is not None:
            query = query.where(OutboxMessage.channel == channel)
        return int(self.session.scalar(query) or 0)

    def status_counts(self, channel: str | None = None) -> dict[str, int]:
        """How many rows are in each status: what ``/healthz`` and operators look at."""
        query = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        if channel is not None:
            query = query.where(OutboxMessage.channel == channel)
        return {str(status): int(n) for status, n in self.session.execute(query).all()}

    def remove_settled(self, participant_ids: Sequence[int]) -> int:
        """Delete these participants' rows that are no longer waiting to be sent (sent,
        failed, held, unconfirmed): the words sent to them, and their address with them
        (retention). Rows still pending or being sent stay. How many went."""
        ids = list(participant_ids)
        connection = self.session.connection()
        return sum(int(connection.execute(
            delete(_TABLE).where(_TABLE.c.participant_id.in_(ids[start:start + 5000]),
                                 _TABLE.c.status.not_in(_UNSENT))).rowcount)
            for start in range(0, len(ids), 5000))


def execute_many(session: Session, statement: Any, rows: list[dict[str, Any]]) -> None:
    """One statement, many parameter sets: the driver's ``executemany``."""
    session.connection().execute(statement, rows)
