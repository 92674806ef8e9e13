"""What the WhatsApp tests share: a participant's chat with the running server, through
forms signed as Twilio signs them, and what the fake Twilio delivered back."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from fakes.twilio_api import FakeTwilio, inbound
from sqlalchemy import func, select

from bot.server import Runtime
from bot.web import WHATSAPP_WEBHOOK
from storage.models import OutboxMessage

SENDER = "whatsapp:+14155238886"
FAST_RETRIES = (timedelta(milliseconds=50), timedelta(milliseconds=100),
                timedelta(milliseconds=200))
UNSIGNED = object()


@dataclass
class Chat:
    runtime: Runtime
    url: str
    twilio: FakeTwilio
    client: httpx.AsyncClient

    async def post(self, params: dict[str, str], *, path: str = WHATSAPP_WEBHOOK,
                   signature: Any = None) -> httpx.Response:
        """Post a form; signed by Twilio's rule unless ``signature`` says otherwise
        (``UNSIGNED`` sends none)."""
        headers = {}
        if signature is None:
            headers["X-Twilio-Signature"] = self.twilio.sign(self.url + path, params)
        elif signature is not UNSIGNED:
            headers["X-Twilio-Signature"] = signature
        return await self.client.post(path, data=params, headers=headers)

    async def say(self, phone: str, text: str, **kw: Any) -> dict[str, str]:
        params = inbound(self.twilio, frm=f"whatsapp:{phone}", to=SENDER, body=text, **kw)
        response = await self.post(params)
        assert response.status_code == 200, response.text
        await self.settled()
        return params

    async def tap(self, phone: str, label: str) -> None:
        """Tap ``label`` under the newest quick replies or list the phone received."""
        message, kind, ids = self.choices(phone)
        position = ids[label]
        reply = {"button": (label, position)} if kind == "twilio/quick-reply" \
            else {"list_reply": (label, position)}
        params = inbound(self.twilio, frm=f"whatsapp:{phone}", to=SENDER, body=label,
                         replied_to=message.sid, **reply)  # type: ignore[arg-type]
        response = await self.post(params)
        assert response.status_code == 200, response.text
        await self.settled()

    def choices(self, phone: str) -> tuple[Any, str, dict[str, str]]:
        """The newest interactive message to ``phone``: the message, its content type and
        its options by title."""
        for message in reversed(self.twilio.messages(f"whatsapp:{phone}")):
            if message.content_sid and message.content_sid in self.twilio.contents:
                types = self.twilio.contents[message.content_sid]["types"]
                if "twilio/quick-reply" in types:
                    actions = types["twilio/quick-reply"]["actions"]
                    return message, "twilio/quick-reply", {a["title"]: a["id"] for a in actions}
                if "twilio/list-picker" in types:
                    items = types["twilio/list-picker"]["items"]
                    return message, "twilio/list-picker", {i["item"]: i["id"] for i in items}
        raise AssertionError("no quick replies or list")

    def seen(self, phone: str) -> list[str]:
        return self.twilio.seen(f"whatsapp:{phone}")

    async def settled(self, timeout: float = 15.0) -> None:
        """Nothing due is left in the outbox, and Twilio's reports have come back."""
        deadline = time.monotonic() + timeout
        while await self.runtime.run_db(self._unsent):
            assert time.monotonic() < deadline, "the outbox did not drain in time"
            await asyncio.sleep(0.02)
        await asyncio.to_thread(self.twilio.settle)

    def _unsent(self) -> int:
        with self.runtime.session_factory() as session:
            return int(session.scalar(
                select(func.count()).select_from(OutboxMessage)
                .where(OutboxMessage.status.in_(("pending", "sending")))) or 0)
