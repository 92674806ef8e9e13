"""Delivering outbox rows to WhatsApp through Twilio's official SDK (asynchronously).

Inside the 24-hour window after the participant's last message, a row goes as a session
message (text, quick replies or a list, see :mod:`.render`). Outside it only an approved
template may go: the one configured for the row's purpose and language, its ``{{1}}``
filled with the text; with none configured the row is held with the reason, never sent to
fail. Twilio's answers become outcomes the sender acts on:

* 63016 (outside the window): held, as above; 63018 and 429/20429 (rate limits): pause.
* 21211, 21408, 21610, 63003, 63024 (no such WhatsApp user, opted out, blocked): unreachable.
* 20003 (credentials refused): pause and say so loudly; rows wait for the fix.
* 5xx, timeouts, connection errors: retried with backoff (a broadcast's message that
  went out unanswered is not: it becomes unconfirmed, see :mod:`bot.outbox.attempts`).
* Any other 4xx: this message fails with Twilio's code and message.

Logs name the outbox row and the error code, never a phone number or a text.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy.orm import Session, sessionmaker
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client
from twilio.rest.content.v1.content import ContentList

from bot.channels.base import Outbound
from bot.channels.unanswered import may_have_arrived
from bot.channels.whatsapp.render import Content, Send, render
from bot.channels.whatsapp.templates import Templates
from bot.channels.whatsapp.transport import TwilioHttp
from bot.clock import Clock, utc_now
from bot.i18n import translator
from bot.outbox.outcomes import (
    Doubt,
    Failed,
    Gate,
    Held,
    Outcome,
    Pause,
    Retry,
    Sent,
    Superseded,
    Unreachable,
)
from bot.outbox.pace import Pace
from bot.rights import texts as rights_texts
from bot.routes import DATA
from storage import UnitOfWork
from storage.repositories.outbox import Claimed

__all__ = ["WINDOW", "WhatsAppChannel", "twilio_client"]

log = logging.getLogger(__name__)

WINDOW = timedelta(hours=24) - timedelta(minutes=5)
"""WhatsApp's customer-service window, less a margin for the time a message takes."""
_OUTSIDE = {63016}
_SLOW_DOWN = {63018, 20429, 14107}
_GONE = {21211, 21408, 21610, 21614, 63003, 63024}
_BAD_CREDENTIALS = {20003}
_PAUSE = 2.0


def twilio_client(account_sid: str, auth_token: str, api_url: str | None) -> Client:
    """The SDK's client on its aiohttp transport; ``api_url`` points the Messages and
    Content APIs elsewhere (a test's fake, or a regional edge)."""
    client = Client(account_sid, auth_token, http_client=TwilioHttp())
    if api_url:
        client.api.base_url = api_url
        client.content.base_url = api_url
    return client


class WhatsAppChannel:
    name = "whatsapp"

    def __init__(
        self,
        client: Client,
        sender: str,
        pace: Pace,
        session_factory: sessionmaker[Session],
        run_db: Callable[[Callable[[], Any]], Awaitable[Any]],
        *,
        templates: Templates | None = None,
        status_callback: str | None = None,
        interactive: bool = True,
        clock: Clock = utc_now,
        media: tuple[Path, str] | None = None,
    ) -> None:
        self.client = client
        self.sender = sender
        self.pace = pace
        self.session_factory = session_factory
        self.run_db = run_db
        self.templates = templates or Templates()
        self.status_callback = status_callback
        self.interactive = interactive
        self.clock = clock
        self.media = media
        """The folder of pictures Kolot made, and the public address it is served at:
        WhatsApp fetches a picture by its URL, so a file there goes as its address."""
        self._contents: dict[str, str] = {}

    async def deliver(self, row: Claimed, message: Outbound, *,
                      gate: Gate | None = None) -> Outcome:
        sends = self._sends(row, message)
        if isinstance(sends, Held):
            return sends
        last: str | None = None
        for send in sends:
            try:
                async with self.pace.slot(str(row.participant_id)):
                    if gate is not None and not await gate():
                        return Superseded()
                    gate = None  # asked before the first call only
                    last = await self._send(row.address, send)
            except TwilioRestException as error:
                return _outcome(row, error)
            except (aiohttp.ClientError, TimeoutError) as error:
                reason = f"{type(error).__name__} talking to Twilio"
                return Doubt(reason) if may_have_arrived(error) else Retry(reason)
        return Sent(last)

    def _sends(self, row: Claimed, message: Outbound) -> list[Send] | Held:
        if message.action != "send":
            return []
        heard = row.heard_at
        if heard is not None and self.clock() - heard < WINDOW:
            return render(self._addressed(row, message), translator(message.language),
                          interactive=self.interactive)
        template = self.templates.find(message.purpose, message.language)
        if template is None:
            purpose = message.purpose or "a reply"
            return Held(f"outside WhatsApp's 24-hour window and no approved template for "
                        f"{purpose} in {message.language or 'the flow language'} "
                        "(see KOLOT_WHATSAPP_TEMPLATES)")
        return [Send(template=template, variables={"1": message.text})]

    def _addressed(self, row: Claimed, message: Outbound) -> Outbound:
        """A file of ours as the address WhatsApp fetches it from: a picture in the media
        folder by its name, a participant's data file by the row and its secret token
        (served from the row itself: see ``bot.web``). Without a public address a
        data file can't go: the participant is told so."""
        if message.document is not None:
            if message.document_token and self.media is not None:
                return replace(message, image=f"{self.media[1]}/{DATA}/{row.id}/"
                                              f"{message.document_token}")
            missing = translator(message.language).gettext(rights_texts.MYDATA_FILE_MISSING)
            return replace(message, text=missing)
        image = message.image
        if image is None or image.startswith(("https://", "http://")) or self.media is None:
            return message
        folder, url = self.media
        path = Path(image).resolve()
        if not path.is_relative_to(folder.resolve()) or not path.is_file():
            return message  # not ours to publish: the caption goes alone
        return replace(message, image=f"{url}/{path.name}")

    async def _send(self, to: str, send: Send) -> str:
        kwargs: dict[str, Any] = {"to": to, "from_": self.sender}
        if self.status_callback:
            kwargs["status_callback"] = self.status_callback
        if send.content is not None:
            kwargs["content_sid"] = await self._content(send.content)
        elif send.template is not None:
            kwargs["content_sid"] = send.template
            kwargs["content_variables"] = json.dumps(send.variables, ensure_ascii=False)
        else:
            kwargs["body"] = send.body
        if send.media_url:
            kwargs["media_url"] = [send.media_url]
        created = await self.client.messages.create_async(**kwargs)
        return str(created.sid)

    async def _content(self, content: Content) -> str:
        """The content's sid: from memory, the database, or created now (and kept)."""
        digest = content.digest
        known = self._contents.get(digest)
        if known is not None:
            return known

        def look() -> str | None:
            with UnitOfWork(self.session_factory) as uow:
                return uow.contents.get(digest)

        sid = await self.run_db(look)
        if sid is None:
            request = ContentList.ContentCreateRequest(
                {"friendly_name": f"kolot_{digest[:16]}", **content.definition}
            )
            created = await self.client.content.v1.contents.create_async(request)
            sid = str(created.sid)
            now = self.clock()

            def keep() -> None:
                with UnitOfWork(self.session_factory) as uow:
                    uow.contents.put(digest, str(sid), now=now)
                    uow.commit()

            await self.run_db(keep)
        self._contents[digest] = str(sid)
        return str(sid)


def _outcome(row: Claimed, error: TwilioRestException) -> Outcome:
    code = int(error.code) if error.code is not None else 0
    reason = f"Twilio {error.status}/{code}: {_message(error)}"
    if code in _OUTSIDE:
        return Held(f"outside WhatsApp's 24-hour window ({reason})")
    if code in _SLOW_DOWN or error.status == 429:
        return Pause(_PAUSE, reason)
    if code in _BAD_CREDENTIALS or error.status == 401:
        log.error("Twilio refused the credentials (%s); sending is paused", code)
        return Pause(60.0, reason)
    if code in _GONE:
        return Unreachable(reason)
    if error.status >= 500:
        return Retry(reason)
    log.warning("outbox row %s refused by Twilio (%s)", row.id, code)
    return Failed(reason)


def _message(error: TwilioRestException) -> str:
    """Twilio's message, without the phone number some of them quote."""
    text = str(error.msg or "")
    return " ".join(w for w in text.split() if not w.lstrip("'\"").startswith(("+", "whatsapp:")))


def held_reason(code: str | None, now: datetime) -> str | None:
    """The reason to hold a message Twilio reported failed after sending (63016 arrives
    by status callback), or ``None`` when the failure is final."""
    if code is not None and code.isdigit() and int(code) in _OUTSIDE:
        return f"outside WhatsApp's 24-hour window (Twilio 63016, {now:%Y-%m-%d %H:%M} UTC)"
    return None
