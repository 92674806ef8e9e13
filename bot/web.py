"""The ASGI app: webhooks in, ``/healthz`` for whoever watches the process.

A webhook is answered only after its input committed (the reply messages are then in the
outbox, and the sender takes them from there), so Telegram redelivers anything we could
not take, and the stored ``update_id`` makes a redelivery change nothing. A request
without the right secret token, too large, or not an update is refused with a 4xx and
nothing is stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import re
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from bot.channels.base import DOCUMENT_NAME
from bot.rights import DOCUMENT_LIFETIME
from bot.routes import DATA, MEDIA, TELEGRAM_WEBHOOK, TWILIO_STATUS, WHATSAPP_WEBHOOK
from bot.server import Runtime
from storage import UnitOfWork

__all__ = [
    "SECRET_HEADER",
    "TELEGRAM_WEBHOOK",
    "TWILIO_STATUS",
    "WHATSAPP_WEBHOOK",
    "TelegramWebhook",
    "TwilioWebhook",
    "create_app",
]

log = logging.getLogger(__name__)


SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_SECRET = SECRET_HEADER.lower().encode()  # ASGI headers are lower-case bytes


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class _Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        self.status, self.reason = status, reason


def _headers(scope: Scope) -> dict[bytes, bytes]:
    return dict(scope["headers"])


async def _body(scope: Scope, receive: Receive, limit: int) -> bytes | None:
    """The request's body, at most ``limit`` bytes; ``None`` if the client went away."""
    declared = _headers(scope).get(b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _Refused(413, "too large")
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _Refused(413, "too large")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


class TelegramWebhook:
    """The Telegram webhook as a bare ASGI app.

    Every update crosses it, so it skips the framework's request objects and middleware
    (a tenth of an update's cost, measured): it checks the secret token in constant time,
    reads at most ``max_body_bytes``, and answers in plain text.
    """

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.secret = (runtime.settings.telegram_secret or "").encode()
        self.limit = runtime.settings.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            if scope["method"] != "POST":
                raise _Refused(405, "POST only")
            given = _headers(scope).get(_SECRET, b"")
            if not self.secret or not hmac.compare_digest(given, self.secret):
                raise _Refused(403, "forbidden")
            body = await _body(scope, receive, self.limit)
            if body is None:
                return
            try:
                data = json.loads(body)
            except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
                raise _Refused(400, "not JSON") from None
            if not isinstance(data, dict):
                raise _Refused(400, "not an update")
            try:
                reply = await self.runtime.telegram_update(data)
            except Exception as exc:  # Telegram redelivers: nothing was committed
                log.error("webhook update not applied (%s)", type(exc).__name__)
                raise _Refused(500, "not applied") from None
        except _Refused as refused:
            await _answer(send, refused.status, refused.reason)
            return
        await _answer(send, reply.status, reply.reason)


_EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


class TwilioWebhook:
    """Twilio's posts (incoming WhatsApp messages, or delivery reports) as a bare ASGI app.

    Each must carry ``X-Twilio-Signature`` as Twilio computes it over the public URL it
    called (``KOLOT_PUBLIC_URL`` plus the path: the server usually sits behind a proxy,
    so the URL it sees is not the one Twilio signed) and every posted parameter, checked
    with the SDK's ``RequestValidator``. Anything else gets 403 and changes nothing.
    Messages are answered with empty TwiML, so Twilio sends nothing on its own.
    """

    def __init__(self, runtime: Runtime, path: str, handle: Callable[[dict[str, str]],
                                                                      Awaitable[Any]]) -> None:
        from twilio.request_validator import RequestValidator

        self.runtime = runtime
        self.url = f"{runtime.settings.public_url or ''}{path}"
        self.validator = RequestValidator(runtime.settings.twilio_auth_token or "")
        self.handle = handle
        self.limit = runtime.settings.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            if scope["method"] != "POST":
                raise _Refused(405, "POST only")
            signature = _headers(scope).get(b"x-twilio-signature", b"").decode("latin-1")
            body = await _body(scope, receive, self.limit)
            if body is None:
                return
            try:
                params = dict(parse_qsl(body.decode(), keep_blank_values=True,
                                        strict_parsing=bool(body)))
            except (UnicodeDecodeError, ValueError):
                raise _Refused(400, "not a form") from None
            url = self.url
            if scope.get("query_string"):
                url = f"{url}?{scope['query_string'].decode('latin-1')}"
            if not signature or not self.validator.validate(url, params, signature):
                raise _Refused(403, "forbidden")
            try:
                await self.handle(params)
            except ValueError as exc:
                raise _Refused(400, str(exc)) from None
            except Exception as exc:  # Twilio retries: nothing was committed
                log.error("Twilio post not applied (%s)", type(exc).__name__)
                raise _Refused(500, "not applied") from None
        except _Refused as refused:
            await _answer(send, refused.status, refused.reason)
            return
        await _answer(send, 200, _EMPTY_TWIML, "text/xml")


async def _answer(send: Send, status: int, text: str, kind: str = "text/plain") -> None:
    body = text.encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", f"{kind}; charset=utf-8".encode()),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


Hook = Callable[[Scope, Receive, Send], Awaitable[None]]
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
_MEDIA_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,150}\.png")


class _Routed:
    """The webhooks ahead of the framework; everything else (``/healthz``, the lifespan)
    through Starlette."""

    def __init__(self, app: Starlette, hooks: dict[str, Hook]) -> None:
        self.app = app
        self.hooks = hooks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        hook = self.hooks.get(scope["path"]) if scope["type"] == "http" else None
        if hook is not None:
            await hook(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def create_app(runtime: Runtime) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    async def healthz(request: Request) -> Response:
        try:
            await runtime.run_db(runtime.ping)
        except Exception as exc:
            return JSONResponse({"status": "error", "database": type(exc).__name__},
                                status_code=503)
        return JSONResponse({
            "status": "ok",
            "role": runtime.role,
            "flows": runtime.registry.ids(),
            "senders": {s.channel.name: {"delivered": s.delivered} for s in runtime.senders},
        })

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await runtime.start()
        _on_sighup(runtime)
        try:
            yield
        finally:
            await runtime.stop()

    async def media(request: Request) -> Response:
        """A picture Kolot made (WhatsApp fetches them by URL); nothing else in the folder's
        reach: one plain file name, no paths."""
        name = str(request.path_params["name"])
        path = runtime.settings.media / name
        if not _MEDIA_NAME.fullmatch(name) or not path.is_file():
            return Response("not found", status_code=404)
        return FileResponse(path, media_type="image/png")

    async def data(request: Request) -> Response:
        """A participant's data file (``/mydata``) for WhatsApp to fetch: by the outbox row
        and its secret token, for an hour after it was written; nothing is on disk."""
        row, token = int(request.path_params["row"]), str(request.path_params["token"])
        since = runtime.service.clock() - DOCUMENT_LIFETIME

        def look() -> str | None:
            with UnitOfWork(runtime.session_factory) as uow:
                return uow.outbox.document(row, token, since=since)

        document = await runtime.run_db(look) if _TOKEN.fullmatch(token) else None
        if document is None:
            return Response("not found", status_code=404)
        return Response(document.encode("utf-8"), media_type="text/plain; charset=utf-8",
                        headers={"Content-Disposition": f'inline; filename="{DOCUMENT_NAME}"',
                                 "Cache-Control": "no-store"})

    app = Starlette(routes=[Route("/healthz", healthz, methods=["GET"]),
                            Route(f"{MEDIA}/{{name}}", media, methods=["GET"]),
                            Route(f"{MEDIA}/{DATA}/{{row:int}}/{{token}}", data,
                                  methods=["GET"])],
                    lifespan=lifespan)
    hooks: dict[str, Hook] = {}
    if runtime.role in ("web", "all"):
        if runtime.bot is not None:
            hooks[TELEGRAM_WEBHOOK] = TelegramWebhook(runtime)
        if runtime.twilio is not None:
            hooks[WHATSAPP_WEBHOOK] = TwilioWebhook(runtime, WHATSAPP_WEBHOOK,
                                                    runtime.whatsapp_message)
            hooks[TWILIO_STATUS] = TwilioWebhook(runtime, TWILIO_STATUS, runtime.twilio_status)
    return _Routed(app, hooks)


def _on_sighup(runtime: Runtime) -> None:
    """SIGHUP reloads the flow files; participants mid-flow carry on where they are."""

    def reload() -> None:
        for note in runtime.reload_flows():
            log.info("%s", note)

    # Not every platform (or thread) can take signal handlers; reloading is then off.
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, reload)
