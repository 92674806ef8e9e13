"""Participants' pseudonyms: a keyed hash of their channel address.

Every export shows a participant by their pseudonym, never by their address (a Telegram
chat id, a WhatsApp phone number, a console name). The pseudonym is
``HMAC-SHA256(key, "<channel>:<address>")``, its first :data:`LENGTH` hex digits (80
bits): the same address gives the same pseudonym everywhere in one deployment (so the
organisers, holding the key, can find a person's rows when that person asks what is kept
about them), and nobody without the key can get from a pseudonym back to the address, not
even by trying every phone number.

The key is ``KOLOT_PSEUDONYM_KEY`` (see :mod:`bot.settings`), at least
:data:`MIN_KEY_LENGTH` characters, kept with the deployment's other secrets and never
changed: ``kolot serve`` refuses to start without it. The console (``kolot chat``) works
with no environment at all: without the variable it uses a key made for that process
(:meth:`Pseudonyms.for_process`).

A pseudonym is stored when the participant is enrolled and never computed again, so it
stays the same in the database whatever the key later is. Participants enrolled before
this module keep the random pseudonym they were given (16 hex digits: none of them can
collide with a keyed one, which has 20); there is nothing to migrate.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from bot.clock import IdFactory

__all__ = ["KEY_VARIABLE", "LENGTH", "MAKE_KEY", "MIN_KEY_LENGTH", "MISSING_KEY", "Pseudonyms"]

KEY_VARIABLE = "KOLOT_PSEUDONYM_KEY"
LENGTH = 20
"""Hex digits kept of the HMAC: 80 bits, no collision in any realistic population."""
MIN_KEY_LENGTH = 32
"""Characters a key must have at least (``secrets.token_urlsafe(32)`` gives 43)."""
MAKE_KEY = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
MISSING_KEY = (
    f"{KEY_VARIABLE} is not set: participants' pseudonyms in exports are a keyed hash of "
    f"their address, and the key must stay the same for the deployment's whole life. Make "
    f"one with `{MAKE_KEY}`, keep it with the other secrets (docs/deploy.md) and never "
    f"change it"
)


class Pseudonyms:
    """The pseudonyms of one deployment, from its key.

    Given to :class:`bot.service.Service` as its ``pseudonyms``; enrolment asks
    :meth:`at` for the address's own pseudonym. Calling it without an address (as if it
    were an ``IdFactory``) is a mistake (a pseudonym that is no hash of its address would
    be neither stable nor checkable), so it raises.
    """

    __slots__ = ("_key",)

    def __init__(self, key: str | bytes) -> None:
        raw = key.encode("utf-8") if isinstance(key, str) else key
        if len(raw) < MIN_KEY_LENGTH:
            raise ValueError(f"a pseudonym key has at least {MIN_KEY_LENGTH} characters")
        self._key = raw

    @classmethod
    def for_process(cls) -> Pseudonyms:
        """A key made for this process alone (the console's, with no key configured):
        pseudonyms are stable in the database, since they are stored at enrolment, but a
        later process would give a newcomer at the same address another one."""
        return cls(secrets.token_bytes(MIN_KEY_LENGTH))

    @classmethod
    def from_key(cls, key: str | None) -> Pseudonyms:
        """The deployment's pseudonyms, or a process's own where no key is configured."""
        return cls.for_process() if key is None else cls(key)

    def of(self, channel: str, address: str) -> str:
        """The pseudonym of ``address`` on ``channel``: :data:`LENGTH` hex digits."""
        message = f"{channel}:{address}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:LENGTH]

    def at(self, channel: str, address: str) -> IdFactory:
        """What enrolment draws the pseudonym of ``address`` from."""
        return lambda: self.of(channel, address)

    def __call__(self) -> str:
        raise TypeError("a keyed pseudonym needs the address: use Pseudonyms.at()")

    def __repr__(self) -> str:
        return "Pseudonyms(<key>)"
