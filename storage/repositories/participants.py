"""Participants, found by (channel, address) and created on first contact."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, and_, bindparam, delete, select, update
from sqlalchemy.orm import Session

from storage.models import Consent, Participant, Run
from storage.repositories._statements import dialect, execute, per_dialect, table

__all__ = ["KNOWN_COLUMNS", "Known", "ParticipantRepository", "known"]


class Known(NamedTuple):
    """What handling an input needs of a participant, read without the ORM."""

    id: int
    language: str | None
    profile: dict[str, Any]
    stopped: bool = False
    """They sent ``/stop``: nothing is sent to them until they come back."""
    source: str | None = None
    unreachable: bool = False
    erasing: bool = False
    """They confirmed ``/delete``: only their farewell is left to send."""


def known(values: tuple[Any, ...]) -> Known:
    """A :class:`Known` from a row of :data:`KNOWN_COLUMNS`."""
    id, language, profile, stopped, source, unreachable, erasing = values
    return Known(id, language, profile or {}, bool(stopped), source, bool(unreachable),
                 bool(erasing))


_PSEUDONYM_TRIES = 3

_AT_ADDRESS = (
    Participant.channel == bindparam("channel"),
    Participant.address == bindparam("address"),
)
_BY_ADDRESS = select(Participant).where(*_AT_ADDRESS)  # built once: see _statements
KNOWN_COLUMNS = (
    Participant.id,
    Participant.language,
    Participant.profile,
    Participant.stopped_at.is_not(None),
    Participant.source,
    Participant.unreachable_at.is_not(None),
    Participant.erasing_at.is_not(None),
)
_KNOWN = select(*KNOWN_COLUMNS).where(*_AT_ADDRESS)
_TABLE = table(Participant)
_SET_PROFILE = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("participant_id"))
    .values(profile=bindparam("profile"), updated_at=bindparam("now"))
)
_SET_LANGUAGE = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("participant_id"))
    .values(language=bindparam("language"), updated_at=bindparam("now"))
)
_ENROL = per_dialect(lambda insert: insert(_TABLE).on_conflict_do_nothing())
_HEARD = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("participant_id"))
    .values(last_inbound_at=bindparam("now"))
)
_SET_CONSENT = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("participant_id"))
    .values(
        consent_at=bindparam("now"),
        consent_sha256=bindparam("text_sha256"),
        updated_at=bindparam("now"),
    )
)


class ParticipantRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, channel: str, address: str) -> Participant | None:
        return self.session.scalars(
            _BY_ADDRESS, {"channel": channel, "address": address}
        ).one_or_none()

    def known(self, channel: str, address: str) -> Known | None:
        """The participant at an address as a plain row: every input starts with this."""
        row = execute(self.session, _KNOWN, {"channel": channel, "address": address}).first()
        return None if row is None else known(tuple(row))

    def set_profile(self, id: int, profile: dict[str, Any], *, now: datetime) -> None:
        execute(self.session, _SET_PROFILE, {"participant_id": id, "profile": profile, "now": now})

    def set_language(self, id: int, language: str, *, now: datetime) -> None:
        """The language the participant chose (a choice, unlike a channel's hint)."""
        params = {"participant_id": id, "language": language, "now": now}
        execute(self.session, _SET_LANGUAGE, params)

    def set_consent(self, id: int, text_sha256: str, *, now: datetime) -> None:
        """Record agreement to the consent text with that hash, at ``now``."""
        execute(
            self.session,
            _SET_CONSENT,
            {"participant_id": id, "text_sha256": text_sha256, "now": now},
        )

    def set_source(self, id: int, source: str, *, now: datetime) -> None:
        """Where they first came from; a later invite code does not overwrite it."""
        self.session.execute(
            update(_TABLE)
            .where(_TABLE.c.id == id, _TABLE.c.source.is_(None))
            .values(source=source, updated_at=now)
        )

    def heard_from(self, id: int, *, now: datetime) -> None:
        """They wrote just now (WhatsApp's 24-hour window starts again)."""
        execute(self.session, _HEARD, {"participant_id": id, "now": now})

    def set_stopped(self, id: int, stopped: bool, *, now: datetime) -> None:
        """``/stop`` (no more messages) or coming back after it."""
        self.session.execute(
            update(_TABLE).where(_TABLE.c.id == id)
            .values(stopped_at=now if stopped else None, updated_at=now)
        )

    def set_unreachable(
        self, ids: Iterable[int], reason: str | None, *, now: datetime
    ) -> None:
        """The platform can't deliver to them (``reason``), or can again (``None``)."""
        ids = list(ids)
        if ids:
            self.session.execute(
                update(_TABLE).where(_TABLE.c.id.in_(ids)).values(
                    unreachable_at=now if reason else None,
                    unreachable_reason=reason,
                    updated_at=now,
                )
            )

    def by_id(self, id: int) -> Participant | None:
        return self.session.get(Participant, id)

    def create(
        self,
        channel: str,
        address: str,
        *,
        now: datetime,
        pseudonym: str,
        language: str | None = None,
    ) -> Participant:
        participant = Participant(
            channel=channel,
            address=address,
            pseudonym=pseudonym,
            language=language,
            profile={},
            created_at=now,
            updated_at=now,
        )
        self.session.add(participant)
        self.session.flush()
        return participant

    def enrol(
        self,
        channel: str,
        address: str,
        *,
        now: datetime,
        pseudonym_factory: Callable[[], str],
        language: str | None = None,
        looked_up: bool = False,
    ) -> Known:
        """The participant at an address, created on first contact.

        Two processes may see the same newcomer at once. The insert skips any conflict
        (``ON CONFLICT DO NOTHING``, no savepoint, the transaction stays usable), then
        reads the row: the winner's if another process got there first. Finding no row
        means the pseudonym was taken (the other unique key): draw another.
        ``looked_up``: the caller has just found nobody at the address in this transaction.
        """
        existing = None if looked_up else self.known(channel, address)
        if existing is not None:
            return existing
        insert = _ENROL[dialect(self.session)]
        for _ in range(_PSEUDONYM_TRIES):
            execute(
                self.session,
                insert,
                {
                    "channel": channel,
                    "address": address,
                    "pseudonym": pseudonym_factory(),
                    "language": language,
                    "profile": {},
                    "created_at": now,
                    "updated_at": now,
                },
            )
            found = self.known(channel, address)
            if found is not None:
                return found
        raise RuntimeError(f"no unused pseudonym after {_PSEUDONYM_TRIES} tries")

    # -- retention (see bot.retention) --------------------------------------------------

    def lock_of_flow(self, flow_id: str) -> list[int]:
        """The ids of everyone with a run of the flow, their rows locked until the
        transaction ends on PostgreSQL (``FOR UPDATE``, in id order): an input of theirs
        being handled finishes first, and the next one waits, so what is read about them
        afterwards stays true until the commit."""
        return [int(i) for i in self.session.scalars(
            select(_TABLE.c.id)
            .where(_TABLE.c.id.in_(select(Run.participant_id).where(Run.flow_id == flow_id)))
            .order_by(_TABLE.c.id)
            .with_for_update())]

    def only_in(self, flow_id: str, *, granted: str) -> list[tuple[int, dict[str, Any]]]:
        """``(id, profile)`` of everyone whose every run is of this flow and who has given
        the consent ``granted`` (and not withdrawn it)."""
        rows = self.session.execute(
            select(_TABLE.c.id, _TABLE.c.profile)
            .where(_only_in(flow_id), _granted(granted))
            .order_by(_TABLE.c.id))
        return [(int(i), dict(profile or {})) for i, profile in rows]

    def remove_only_in(self, flow_id: str, *, unless: str) -> int:
        """Delete everyone whose every run is of this flow, but those who have given the
        consent ``unless``: their address goes, and by ``ON DELETE CASCADE`` their runs,
        answers, outbox rows and consents; their ideas and votes stay without them
        (``SET NULL``). How many went."""
        result = self.session.connection().execute(
            delete(_TABLE).where(_only_in(flow_id), ~_granted(unless)))
        return int(result.rowcount)

    def elsewhere(self, flow_id: str) -> dict[int, tuple[dict[str, Any], set[str]]]:
        """Everyone with a run of this flow and of another: their profile and the other
        flows they have runs of."""
        found: dict[int, tuple[dict[str, Any], set[str]]] = {}
        rows = self.session.execute(
            select(_TABLE.c.id, _TABLE.c.profile, Run.flow_id)
            .join(Run, Run.participant_id == _TABLE.c.id)
            .where(Run.flow_id != flow_id,
                   _TABLE.c.id.in_(select(Run.participant_id).where(Run.flow_id == flow_id))))
        for participant_id, profile, other in rows:
            found.setdefault(int(participant_id), (dict(profile or {}), set()))[1].add(str(other))
        return found


def _only_in(flow_id: str) -> ColumnElement[bool]:
    """The participant has runs of this flow and of no other."""
    here = select(Run.id).where(Run.participant_id == _TABLE.c.id, Run.flow_id == flow_id)
    other = select(Run.id).where(Run.participant_id == _TABLE.c.id, Run.flow_id != flow_id)
    return and_(here.exists(), ~other.exists())


def _granted(kind: str) -> ColumnElement[bool]:
    """The participant has given the consent ``kind`` and not withdrawn it."""
    return select(Consent.id).where(
        Consent.participant_id == _TABLE.c.id, Consent.kind == kind,
        Consent.granted_at.is_not(None), Consent.revoked_at.is_(None)).exists()
