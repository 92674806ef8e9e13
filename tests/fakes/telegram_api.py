"""A fake Telegram Bot API server: the real wire format on a local port, for tests.

The project replaces platform APIs only at the network edge, so code under test runs its real
client, ``telegram.Bot(token, base_url=fake.base_url)``, against this server.

What it promises:

* It accepts requests as python-telegram-bot 22 sends them (form-encoded, nested values as
  JSON strings; multipart/form-data for uploads), JSON bodies and query strings, at
  ``/bot<token>/<method>`` with method names case-insensitive, and answers in Telegram's
  envelope, ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code", "description",
  "parameters"}``, with the same HTTP status and descriptions worded as Telegram's.
  Wrong token: 401 Unauthorized; unknown method: 404 Not Found.
* getMe, sendMessage, sendPhoto, sendDocument (uploads), editMessageText,
  editMessageReplyMarkup, answerCallbackQuery, setWebhook, deleteWebhook, getWebhookInfo and
  getUpdates (long polling), with Telegram's
  checks for what bots trip over in practice: text and caption length, callback_data of 1-64
  UTF-8 bytes, "message is not modified", a callback query answered twice.
* Telegram's documented rate limits as sliding-window logs (overall, per private chat, per
  group); a request over a limit is not delivered and gets 429 with ``retry_after``.
* Failure injection: blocked chats, error statuses, slow answers, answers held back.

Where it differs from Telegram: ``parse_mode`` is accepted but not parsed (text is echoed as
sent, without entities); text length counts code points; every numeric chat exists (positive
ids are private chats, ids at or below -10**12 supergroups, other negative ids groups) and
``@username`` chats are "chat not found"; a photo has one PhotoSize; uploads cannot be
downloaded; a webhook is recorded but never called; inline messages and other methods are not
implemented (404). Telegram's real flood limits are undocumented beyond the rules of thumb
modelled here, so passing here is necessary, not sufficient.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, Self
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from .telegram_methods import (
    INTEGER,
    METHODS,
    SENDS,
    ApiError,
    BotApi,
    Call,
    Limit,
    Limits,
    Params,
    Poll,
    Rule,
    bad_request,
    chat_key,
    take,
)

__all__ = ["Call", "FakeTelegram"]

# Form bodies carry every value as a string; these fields are converted the way Telegram reads
# them, every other field stays a string (a text "007" must not become 7).
_JSON_FIELDS = frozenset({"reply_markup", "allowed_updates", "entities", "caption_entities",
                          "link_preview_options", "reply_parameters"})
_INT_FIELDS = frozenset({"chat_id", "message_id", "offset", "limit", "timeout",
                         "max_connections", "cache_time", "message_thread_id"})
_BOOL_FIELDS = frozenset({"show_alert", "drop_pending_updates", "disable_notification",
                          "protect_content", "has_spoiler", "show_caption_above_media"})
_PATH = re.compile(r"/bot([^/]+)/([^/]+)/?")
_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
_NAME = re.compile(r'\bname="([^"]*)"')
_FILENAME = re.compile(r";\s*filename\*?=", re.IGNORECASE)


class FakeTelegram:
    """A Telegram Bot API server on 127.0.0.1 for one bot token, run in a background thread.

    The thread has its own event loop, so sync tests, async tests (whatever their loop) and
    subprocesses all reach it the same way: over HTTP. State is guarded by one lock, so every
    public method may be called from any thread while the server runs.

    Rate limits are ``(count, seconds)``: at most ``count`` counted requests (sendMessage,
    sendPhoto, editMessageText, editMessageReplyMarkup) in any window of ``seconds``: overall,
    per private chat, and per group (negative chat id). ``tolerance`` shortens every window the
    fake checks by that many seconds: a client that paces itself exactly by its own clock sees
    its requests arrive here with loopback jitter (one delayed a few milliseconds, the next
    not), and must not be refused for that. ``limits_enabled=False`` is for throughput tests.
    """

    def __init__(
        self,
        token: str = "123456:TEST-token",
        *,
        global_limit: Limit = (30, 1.0),
        chat_limit: Limit = (3, 3.0),
        group_limit: Limit = (20, 60.0),
        tolerance: float = 0.05,
        limits_enabled: bool = True,
    ) -> None:
        if not re.fullmatch(r"\d+:[\w-]+", token):
            raise ValueError(f"not a bot token: {token!r}")
        if min(global_limit[0], chat_limit[0], group_limit[0]) < 1:
            raise ValueError("a rate limit must allow at least one request")
        self.token = token
        self._limits = Limits(global_limit, chat_limit, group_limit, tolerance, limits_enabled)
        self._api = BotApi(token, self._limits)
        self._lock = threading.Lock()
        self._port = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._failure: BaseException | None = None
        self._stopping = False
        self._wakeup = asyncio.Event()
        self._holding = False
        self._waiting_held = 0

    # -- running -----------------------------------------------------------------------------

    def start(self) -> Self:
        """Serve on a free port; returns once the port accepts connections."""
        if self._thread is not None:
            raise RuntimeError("the fake Telegram server is already running")
        # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only on sockets that say they are TCP;
        # without it every answer waits ~40 ms for a delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        app = Starlette(routes=[Route("/{path:path}", self._endpoint, methods=["GET", "POST"])])
        config = uvicorn.Config(app, log_config=None, log_level="warning", access_log=False,
                                lifespan="off", ws="none", timeout_graceful_shutdown=2)
        self._server = server = uvicorn.Server(config)
        self._loop, self._stopping, self._failure = asyncio.new_event_loop(), False, None
        self._wakeup = asyncio.Event()  # an Event binds to the loop that first waits on it
        self._thread = threading.Thread(target=self._serve, args=(sock,), daemon=True,
                                        name=f"fake-telegram:{self._port}")
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                failure = self._failure
                self.stop()
                raise RuntimeError("the fake Telegram server did not start") from failure
            time.sleep(0.005)
        socket.create_connection(("127.0.0.1", self._port), timeout=5).close()
        return self

    def _serve(self, sock: socket.socket) -> None:
        assert self._loop is not None and self._server is not None
        try:
            self._loop.run_until_complete(self._server.serve(sockets=[sock]))
        except BaseException as exc:  # start() reports it; a thread has nowhere to raise
            self._failure = exc
        finally:
            sock.close()
            self._loop.close()

    def stop(self) -> None:
        """Answer waiting long polls and delayed requests at once, then shut down."""
        if self._thread is None or self._server is None or self._loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop has already ended
            self._loop.call_soon_threadsafe(self._begin_stop)
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._thread = self._server = None

    def _begin_stop(self) -> None:
        self._stopping = True
        self._notify()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if not self._port:
            raise RuntimeError("the fake Telegram server was never started")
        return f"http://127.0.0.1:{self._port}"

    @property
    def base_url(self) -> str:
        """For ``telegram.Bot(base_url=...)``, which appends the token."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``telegram.Bot(base_file_url=...)``; no files are served there yet."""
        return f"{self.url}/file/bot"

    # -- observing ---------------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        """Every request so far, in arrival order (a copy: safe to read from any thread)."""
        with self._lock:
            return list(self._api.calls)

    def sent(self, chat_id: int | str | None = None) -> list[Call]:
        """Accepted sendMessage and sendPhoto calls, to one chat or to all."""
        key = None if chat_id is None else chat_key(chat_id)
        return [call for call in self.calls
                if call.method in SENDS and call.status == 200 and key in (None, call.chat_id)]

    def upload(self, file_id: str) -> bytes:
        """The bytes of a document uploaded with sendDocument."""
        with self._lock:
            return self._api.uploads[file_id]

    def texts(self, chat_id: int | str) -> list[str]:
        """Texts and photo captions delivered to a chat, in order (a photo without a caption
        delivers no text and is left out)."""
        found = (call.params.get("text", call.params.get("caption")) for call in self.sent(chat_id))
        return [text for text in found if isinstance(text, str)]

    @property
    def rejected_429(self) -> int:
        """How many 429s a rate limit caused (injected ones are not counted)."""
        with self._lock:
            return self._api.rejected_429

    @property
    def webhook(self) -> Params | None:
        """The parameters of the last setWebhook; None when no webhook is set."""
        with self._lock:
            return None if self._api.webhook is None else dict(self._api.webhook)

    # -- steering ----------------------------------------------------------------------------

    def block(self, chat_id: int | str) -> None:
        """Sends and edits to this chat answer 403, as once the user has blocked the bot."""
        with self._lock:
            self._api.blocked.add(chat_key(chat_id))

    def unblock(self, chat_id: int | str) -> None:
        with self._lock:
            self._api.blocked.discard(chat_key(chat_id))

    def fail(self, status: int = 500, times: int = 1, *, method: str | None = None,
             chat_id: int | str | None = None, retry_after: int | None = None) -> None:
        """The next ``times`` matching requests answer ``status`` and take no effect.

        A 429 carries ``parameters.retry_after``: ``retry_after``, or 1 when not given, since
        Telegram always sends it. Injected 429s do not count in ``rejected_429``.
        """
        if status < 400 or status not in set(HTTPStatus) or times < 1:
            raise ValueError("fail() needs an HTTP error status (>= 400) and times >= 1")
        rule = Rule(times, method and method.lower(),
                    None if chat_id is None else chat_key(chat_id), status, retry_after)
        with self._lock:
            self._api.failures.append(rule)

    def slow(self, seconds: float, times: int = 1, *, method: str | None = None) -> None:
        """Answer the next ``times`` matching requests ``seconds`` late, to make clients time
        out. The request still takes effect on arrival, as a real one that timed out on the
        client may well have: a slowed send counts as delivered whether or not the client
        waits for the answer."""
        with self._lock:
            self._api.delays.append(Rule(times, method and method.lower(), seconds=seconds))

    def hold(self) -> None:
        """From now on every request takes effect on arrival but is not answered until
        :meth:`release`: a platform that received the calls while the client still waits
        (the moment a sender killed mid-send leaves in doubt)."""
        with self._lock:
            self._holding = True

    def release(self) -> None:
        """Answer the held requests (to a client that may be gone), and stop holding."""
        with self._lock:
            self._holding = False
        loop = self._loop
        if loop is not None and loop.is_running():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._notify)

    @property
    def held(self) -> int:
        """Requests waiting for their answer because of :meth:`hold`."""
        with self._lock:
            return self._waiting_held

    def push_update(self, update: Params) -> None:
        """Queue an update for getUpdates (``update_id`` is assigned when missing)."""
        with self._lock:
            self._api.push(update)
        loop = self._loop
        if loop is not None and loop.is_running():
            with contextlib.suppress(RuntimeError):  # the loop ended meanwhile
                loop.call_soon_threadsafe(self._notify)

    def reset(self) -> None:
        """Forget everything (calls, rate windows, messages, blocks, injected failures, queued
        updates, the webhook) but keep serving, so one server can serve many tests. A long
        poll already waiting keeps waiting on the old state, so it cannot take updates pushed
        for the next test."""
        with self._lock:
            self._api = BotApi(self.token, self._limits)

    # -- serving -----------------------------------------------------------------------------

    async def _endpoint(self, request: Request) -> JSONResponse:
        arrived = time.monotonic()
        found = _PATH.fullmatch(request.url.path)
        name = found.group(2) if found else request.url.path
        method = METHODS.get(name.lower())
        params: Params = {}
        outcome: Any = None
        if found is not None and found.group(1) != self.token:
            outcome = ApiError(401, "Unauthorized")
        elif found is None or method is None:
            outcome = ApiError(404, "Not Found")
        else:
            name = method
            try:
                params = await _read_params(request)
            except ApiError as exc:
                outcome = exc
        chat_id = None if params.get("chat_id") is None else chat_key(params["chat_id"])
        with self._lock:
            api = self._api
            if outcome is None:
                outcome = api.dispatch(name, params, chat_id)
            status = outcome.status if isinstance(outcome, ApiError) else 200
            result = None if isinstance(outcome, (ApiError, Poll)) else outcome
            api.calls.append(Call(name, params, chat_id, arrived, status, result))
            delay = take(api.delays, name, chat_id)
            holding = self._holding
            if holding:
                self._waiting_held += 1
        if isinstance(outcome, Poll):
            outcome = await self._poll(api, outcome)
        if delay is not None:
            await self._wait(arrived + delay.seconds, lambda: False)
        if holding:
            try:
                await self._wait(time.monotonic() + 3600, lambda: not self._holding)
            finally:
                with self._lock:
                    self._waiting_held -= 1
        return _answer(outcome)

    async def _poll(self, api: BotApi, poll: Poll) -> list[Params]:
        def pending() -> list[Params]:
            with self._lock:
                return api.pending(poll.limit)

        await self._wait(time.monotonic() + poll.timeout, lambda: bool(pending()))
        return pending()

    async def _wait(self, deadline: float, ready: Callable[[], bool]) -> None:
        """Sleep until ``ready()``, the deadline or the server stopping; ``_notify`` wakes it."""
        while not self._stopping and not ready():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), remaining)

    def _notify(self) -> None:
        """Wake every waiter (on the server loop); each checks again what it waits for."""
        woken, self._wakeup = self._wakeup, asyncio.Event()
        woken.set()


def _answer(outcome: Any) -> JSONResponse:
    """Telegram's envelope around a result or an error, with the matching HTTP status."""
    if not isinstance(outcome, ApiError):
        return JSONResponse({"ok": True, "result": outcome})
    body = {"ok": False, "error_code": outcome.status, "description": outcome.description}
    if outcome.parameters:
        body["parameters"] = outcome.parameters
    return JSONResponse(body, status_code=outcome.status)


async def _read_params(request: Request) -> Params:
    """All parameters of a request (query string and body), typed as Telegram reads them."""
    raw: dict[str, Any] = dict(request.query_params)
    content_type = request.headers.get("content-type", "")
    media_type = content_type.partition(";")[0].strip().lower()
    body = await request.body()
    try:
        if media_type == "application/json":
            parsed = json.loads(body or b"{}")
            if not isinstance(parsed, dict):
                raise ValueError("the JSON body is not an object")
            raw.update(parsed)
        elif media_type == "multipart/form-data":
            raw.update(_multipart(body, content_type))
        elif body:
            raw.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise bad_request("can't parse request body") from exc
    return {name: _typed(name, value) for name, value in raw.items()}


def _multipart(body: bytes, content_type: str) -> dict[str, str | bytes]:
    """The parts of a multipart/form-data body: files as bytes, other fields as text.

    Parsed here because Starlette's parser needs python-multipart, which the project does
    not depend on. Splitting on the boundary is exact: clients pick one that does not occur.
    """
    boundary = _BOUNDARY.search(content_type)
    if boundary is None:
        raise ValueError("a multipart body without boundary")
    fields: dict[str, str | bytes] = {}
    for part in body.split(b"--" + boundary.group(1).encode("latin-1"))[1:]:
        if part.startswith(b"--"):  # the closing delimiter
            break
        head, _, content = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        headers = head.decode("utf-8", "replace")
        if name := _NAME.search(headers):
            content = content.removesuffix(b"\r\n")
            is_file = _FILENAME.search(headers) is not None
            fields[name.group(1)] = content if is_file else content.decode("utf-8")
    return fields


def _typed(name: str, value: Any) -> Any:
    """One form value converted to the type Telegram gives that field."""
    if not isinstance(value, str):
        return value
    if name in _JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError as exc:
            what = "reply keyboard markup" if name == "reply_markup" else name
            raise bad_request(f"can't parse {what} JSON object") from exc
    if name in _INT_FIELDS and INTEGER.fullmatch(value):
        return int(value)
    if name in _BOOL_FIELDS and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    return value
