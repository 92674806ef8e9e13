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
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.server import Runtime

__all__ = ["SECRET_HEADER", "TELEGRAM_WEBHOOK", "create_app"]

log = logging.getLogger(__name__)

TELEGRAM_WEBHOOK = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class _TooLarge(Exception):
    pass


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(runtime: Runtime) -> Starlette:
    async def telegram_webhook(request: Request) -> Response:
        secret = runtime.settings.telegram_secret or ""
        given = request.headers.get(SECRET_HEADER, "")
        if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
            return PlainTextResponse("forbidden", status_code=403)
        try:
            body = await _body(request, runtime.settings.max_body_bytes)
        except _TooLarge:
            return PlainTextResponse("too large", status_code=413)
        except ClientDisconnect:
            return PlainTextResponse("gone", status_code=400)
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return PlainTextResponse("not JSON", status_code=400)
        if not isinstance(data, dict):
            return PlainTextResponse("not an update", status_code=400)
        reply = await runtime.telegram_update(data)
        return PlainTextResponse(reply.reason, status_code=reply.status)

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

    routes = [Route("/healthz", healthz, methods=["GET"])]
    if runtime.role in ("web", "all") and runtime.bot is not None:
        routes.append(Route(TELEGRAM_WEBHOOK, telegram_webhook, methods=["POST"]))
    return Starlette(routes=routes, lifespan=lifespan)


def _on_sighup(runtime: Runtime) -> None:
    """SIGHUP reloads the flow files; participants mid-flow carry on where they are."""

    def reload() -> None:
        for note in runtime.reload_flows():
            log.info("%s", note)

    # Not every platform (or thread) can take signal handlers; reloading is then off.
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, reload)
