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
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.server import Runtime

__all__ = ["SECRET_HEADER", "TELEGRAM_WEBHOOK", "TelegramWebhook", "create_app"]

log = logging.getLogger(__name__)

TELEGRAM_WEBHOOK = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_SECRET = SECRET_HEADER.lower().encode()  # ASGI headers are lower-case bytes


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


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
        if scope["method"] != "POST":
            await _answer(send, 405, "POST only")
            return
        given = b""
        declared = None
        for name, value in scope["headers"]:
            if name == _SECRET:
                given = value
            elif name == b"content-length":
                declared = value
        if not self.secret or not hmac.compare_digest(given, self.secret):
            await _answer(send, 403, "forbidden")
            return
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _answer(send, 413, "too large")
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await _answer(send, 413, "too large")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        try:
            data = json.loads(b"".join(chunks))
        except (UnicodeDecodeError, json.JSONDecodeError):
            await _answer(send, 400, "not JSON")
            return
        if not isinstance(data, dict):
            await _answer(send, 400, "not an update")
            return
        try:
            reply = await self.runtime.telegram_update(data)
        except Exception as exc:  # Telegram redelivers: nothing was committed
            log.error("webhook update not applied (%s)", type(exc).__name__)
            await _answer(send, 500, "not applied")
            return
        await _answer(send, reply.status, reply.reason)


async def _answer(send: Send, status: int, text: str) -> None:
    body = text.encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class _Routed:
    """The webhook ahead of the framework; everything else (``/healthz``, the lifespan)
    through Starlette."""

    def __init__(self, app: Starlette, webhook: TelegramWebhook | None) -> None:
        self.app = app
        self.webhook = webhook

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.webhook is not None and scope["type"] == "http" \
                and scope["path"] == TELEGRAM_WEBHOOK:
            await self.webhook(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def create_app(runtime: Runtime) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    async def healthz(request: Request) -> Response:
        try:
            await runtime.run_db(runtime.ping)
        except Exception as exc:
            return JSONResponse({"status": "error", "database": type(exc).__name__},
                                status_code=503)
        sender = runtime.sender
        return JSONResponse({
            "status": "ok",
            "role": runtime.role,
            "flows": runtime.registry.ids(),
            "sender": None if sender is None else {"delivered": sender.delivered},
        })

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await runtime.start()
        _on_sighup(runtime)
        try:
            yield
        finally:
            await runtime.stop()

    app = Starlette(routes=[Route("/healthz", healthz, methods=["GET"])], lifespan=lifespan)
    takes_webhooks = runtime.role in ("web", "all") and runtime.bot is not None
    return _Routed(app, TelegramWebhook(runtime) if takes_webhooks else None)


def _on_sighup(runtime: Runtime) -> None:
    """SIGHUP reloads the flow files; participants mid-flow carry on where they are."""

    def reload() -> None:
        for note in runtime.reload_flows():
            log.info("%s", note)

    # Not every platform (or thread) can take signal handlers; reloading is then off.
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, reload)
