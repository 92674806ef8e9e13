"""Participants, found by (channel, address) and created on first contact."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import Participant

__all__ = ["ParticipantRepository"]

_PSEUDONYM_TRIES = 3

_BY_ADDRESS = select(Participant).where(
    Participant.channel == bindparam("channel"), Participant.address == bindparam("address")
)  # built once: see storage.repositories._statements


class ParticipantRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, channel: str, address: str) -> Participant | None:
        return self.session.scalars(
            _BY_ADDRESS, {"channel": channel, "address": address}
        ).one_or_none()

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

    def get_or_create(
        self,
        channel: str,
        address: str,
        *,
        now: datetime,
        pseudonym_factory: Callable[[], str],
        language: str | None = None,
    ) -> Participant:
        """The participant, created if new.

        Two processes may see the same newcomer at once; the insert runs in a savepoint
        so the loser of that race reads the winner's row instead of failing the input.
        A pseudonym collision (the other unique key) just draws a new pseudonym.
        """
        existing = self.get(channel, address)
        if existing is not None:
            return existing
        for _ in range(_PSEUDONYM_TRIES):
            try:
                with self.session.begin_nested():
                    return self.create(
                        channel, address, now=now, pseudonym=pseudonym_factory(),
                        language=language,
                    )
            except IntegrityError:
                existing = self.get(channel, address)
                if existing is not None:
                    return existing
        raise RuntimeError(f"no unused pseudonym after {_PSEUDONYM_TRIES} tries")
