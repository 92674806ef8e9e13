"""A fake Twilio REST API for WhatsApp: the real wire format on a local port, for tests.

The project replaces platform APIs only at the network edge, so code under test runs the
real ``twilio.rest.Client`` (sync, or async with ``AsyncTwilioHttpClient``) against this
server. Point a client at it with ``fake.attach(client)``, which sets the two domains the
Messages and Content APIs live on (both served here)::

    client = Client(fake.account_sid, fake.auth_token)
    client.api.base_url = fake.url       # api.twilio.com: /2010-04-01/Accounts/...
    client.content.base_url = fake.url   # content.twilio.com: /v1/Content

(``Domain.base_url`` is read on every request. ``TWILIO_EDGE``/``TWILIO_REGION`` must be
unset: the SDK rewrites the host name with them.)

What it promises:

* ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` (form-encoded, as the SDK sends
  it) and ``GET .../Messages/{Sid}.json``; ``POST /v1/Content`` (JSON). HTTP Basic auth with
  the account SID and auth token (401, code 20003), the account in the path (404, 20404).
  Answers are Twilio's: 201 and the resource with every field the SDK reads, or the error
  JSON ``{code, message, more_info, status}`` the SDK turns into ``TwilioRestException``.
* The Messages checks WhatsApp senders trip over, with Twilio's codes: To/From must be
  ``whatsapp:+<E.164>`` (21211/21212), a Body, MediaUrl or ContentSid (21619), Body at most
  1600 characters (21617), a known ContentSid (21655), ContentVariables a JSON object
  (21656) and only with a ContentSid (21654), a StatusCallback URL (21609).
* Contents of type ``twilio/text``, ``twilio/quick-reply`` and ``twilio/list-picker``,
  checked against WhatsApp's limits (see ``twilio_resources``), rendered for ``seen``.
* WhatsApp's 24-hour rule: a message to someone not ``heard_from`` in the last 24 hours
  is accepted (201, queued) but fails with 63016 unless it is an ``approve``d template.
* Status callbacks as Twilio posts them, signed with ``X-Twilio-Signature``: sent, delivered
  (and read, with ``read_receipts``), or failed with ErrorCode. ``settle()`` waits for them.
* A per-sender rate limit as a sliding-window log (429, 20429); injected failures and delays.

Where it differs from Twilio: delivery is decided on arrival (``seen`` shows a message at
once; statuses and callbacks start as soon as the API answer is written, with no real delay
unless ``callback_delay``); no ``queued`` callback is sent; a Messaging Service without From gets no
sender picked (its callbacks carry no From); media is recorded, never fetched, and not part
of ``seen``; Body length counts code points; content variables are not checked against
WhatsApp's limits after substitution; other content types, message listing, updates,
deletes and every other resource are not implemented. Twilio queues rather than refuses
most traffic over a sender's throughput, so the 429 here is stricter than the real API:
passing here is necessary, not sufficient.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
import socket
import threading
import time
import uuid
from collections.abc import Coroutine, Iterable
from typing import Any, Self

import httpx
import uvicorn
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from .twilio_resources import (
    API_VERSION,
    WHATSAPP,
    Account,
    ApiError,
    Call,
    Callback,
    Limit,
    Limits,
    Message,
    Params,
    Rule,
    bad,
    decode_params,
    new_sid,
    one,
    status_params,
    take,
)

__all__ = ["Call", "Callback", "FakeTwilio", "Message", "inbound"]

DEFAULT_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
DEFAULT_AUTH_TOKEN = "fedcba9876543210" * 2
_MESSAGES = re.compile(r"/2010-04-01/Accounts/([^/]+)/Messages\.json")
_MESSAGE = re.compile(r"/2010-04-01/Accounts/([^/]+)/Messages/([^/]+)\.json")
_CONTENTS = "/v1/Content"


class FakeTwilio:
    """A Twilio API server on 127.0.0.1 for one account, run in a background thread.

    The thread has its own event loop, so sync tests, async tests (whatever their loop) and
    subprocesses all reach it the same way: over HTTP. State is guarded by one lock, so every
    public method may be called from any thread while the server runs.

    ``sender_limit`` is ``(count, seconds)``: at most ``count`` messages per sender (From) in
    any window of ``seconds``. ``tolerance`` shortens the window the fake checks by that many
    seconds: a client that paces itself exactly by its own clock sees its requests arrive here
    with loopback jitter, and must not be refused for that. ``limits_enabled=False`` is for
    throughput tests.

    Switches, read when a message is accepted or a callback is due: ``callbacks_enabled``
    (post status callbacks at all), ``read_receipts`` (also report ``read``),
    ``callback_delay`` (seconds between writing the API answer and the first status change;
    at 0 a callback may reach our webhook before the sender has stored the SID, as it can
    at Twilio).
    """

    def __init__(
        self,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        *,
        sender_limit: Limit = (80, 1.0),
        tolerance: float = 0.05,
        limits_enabled: bool = True,
    ) -> None:
        if not re.fullmatch(r"AC[0-9a-f]{32}", account_sid):
            raise ValueError(f"not an account SID: {account_sid!r}")
        if sender_limit[0] < 1:
            raise ValueError("a rate limit must allow at least one message")
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.callbacks_enabled = True
        self.read_receipts = False
        self.callback_delay = 0.0
        self._limits = Limits(sender_limit, tolerance, limits_enabled)
        self._account = Account(account_sid, self._limits)
        self._install_sid = new_sid("XE")  # the WhatsApp sender's channel, in callbacks
        self._lock = threading.Lock()
        self._settled = threading.Condition(self._lock)
        self._pending = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._port = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._http: httpx.AsyncClient | None = None
        self._failure: BaseException | None = None
        self._stopped = asyncio.Event()

    # -- running -----------------------------------------------------------------------------

    def start(self) -> Self:
        """Serve on a free port; returns once the port accepts connections."""
        if self._thread is not None:
            raise RuntimeError("the fake Twilio server is already running")
        # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only on sockets that say they are TCP;
        # without it every answer waits ~40 ms for a delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(self._app, interface="asgi3", log_config=None,
                                log_level="warning", access_log=False, lifespan="off",
                                ws="none", timeout_graceful_shutdown=2)
        self._server = server = uvicorn.Server(config)
        self._loop, self._failure = asyncio.new_event_loop(), None
        self._stopped = asyncio.Event()  # an Event binds to the loop that first waits on it
        self._thread = threading.Thread(target=self._serve, args=(sock,), daemon=True,
                                        name=f"fake-twilio:{self._port}")
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                failure = self._failure
                self.stop()
                raise RuntimeError("the fake Twilio server did not start") from failure
            time.sleep(0.005)
        socket.create_connection(("127.0.0.1", self._port), timeout=5).close()
        return self

    def _serve(self, sock: socket.socket) -> None:
        assert self._loop is not None
        try:
            self._loop.run_until_complete(self._run(sock))
        except BaseException as exc:  # start() reports it; a thread has nowhere to raise
            self._failure = exc
        finally:
            sock.close()
            self._loop.close()

    async def _run(self, sock: socket.socket) -> None:
        assert self._server is not None
        self._http = httpx.AsyncClient(timeout=10.0, trust_env=False)
        try:
            await self._server.serve(sockets=[sock])
        finally:
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await self._http.aclose()
            with self._settled:  # deliveries cancelled before they began: nothing to wait for
                self._pending = 0
                self._settled.notify_all()

    def stop(self) -> None:
        """Answer delayed requests at once, drop callbacks not yet made, then shut down."""
        if self._thread is None or self._server is None or self._loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop has already ended
            self._loop.call_soon_threadsafe(self._stopped.set)
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._thread = self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``: the base URL of both the api and the content domain."""
        if not self._port:
            raise RuntimeError("the fake Twilio server was never started")
        return f"http://127.0.0.1:{self._port}"

    def attach(self, client: Client) -> Client:
        """Point a real ``twilio.rest.Client`` at this server (both domains); returns it."""
        if client.edge or client.region:
            raise ValueError("a client with an edge or region rewrites the host; unset "
                             "TWILIO_EDGE and TWILIO_REGION")
        client.api.base_url = self.url
        client.content.base_url = self.url
        return client

    # -- observing ---------------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        """Every request so far, in arrival order (a copy: safe to read from any thread)."""
        with self._lock:
            return list(self._account.calls)

    def messages(self, to: str | None = None) -> list[Message]:
        """Accepted outbound messages (201), with their current status, in order."""
        with self._lock:
            return [m for m in self._account.messages if to in (None, m.to)]

    def seen(self, to: str) -> list[str]:
        """What the WhatsApp user ``to`` sees, one string per delivered message, in order.

        A Body as sent. A content: its body with ``{{n}}`` replaced (ContentVariables first,
        the content's default ``variables`` next, else left as written), then on the next
        line the quick-reply buttons as ``[Yes] [No]``, or the list as
        ``[Choose] Item one | Item two``. Failed messages (63016) are not seen.
        """
        return [m.text for m in self.messages(to) if m.delivered]

    @property
    def contents(self) -> dict[str, Params]:
        """Created Content resources by sid, as the Content API answered them (a copy)."""
        with self._lock:
            copy: dict[str, Params] = json.loads(json.dumps(self._account.contents))
        return copy

    @property
    def callbacks(self) -> list[Callback]:
        """Status callbacks made so far, with the status the receiver answered."""
        with self._lock:
            return list(self._account.callbacks)

    @property
    def rejected_429(self) -> int:
        """How many 429s the rate limit caused (injected ones are not counted)."""
        with self._lock:
            return self._account.rejected_429

    def settle(self, timeout: float = 5.0) -> None:
        """Wait until every accepted message reached its final status and its callbacks were
        made. Blocks: from an async test whose loop serves the receiver, use
        ``await asyncio.to_thread(fake.settle)``."""
        deadline = time.monotonic() + timeout
        with self._settled:
            while self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{self._pending} messages still in delivery")
                self._settled.wait(remaining)

    def sign(self, url: str, params: dict[str, str]) -> str:
        """``X-Twilio-Signature`` for a request to ``url`` (exactly as configured at Twilio,
        query string included) with these form ``params``, as Twilio computes it."""
        return str(RequestValidator(self.auth_token).compute_signature(url, params))

    # -- steering ----------------------------------------------------------------------------

    def heard_from(self, whatsapp_address: str, at: float | None = None) -> None:
        """The user wrote to us at ``at`` (``time.time()``; default now): their 24-hour
        window runs from then. Replaces any earlier time, so a test can also close it."""
        if not WHATSAPP.fullmatch(whatsapp_address):
            raise ValueError(f"not a WhatsApp address: {whatsapp_address!r}")
        with self._lock:
            self._account.heard[whatsapp_address] = time.time() if at is None else at

    def approve(self, content_sid: str) -> None:
        """WhatsApp approved this content as a template: it may open a conversation, outside
        the 24-hour window. List pickers cannot be approved (WhatsApp does not take them)."""
        with self._lock:
            content = self._account.contents[content_sid]
            if "twilio/list-picker" in content["types"]:
                raise ValueError("WhatsApp does not approve list-picker templates")
            self._account.approved.add(content_sid)

    def fail(self, status: int, code: int, times: int = 1, *, to: str | None = None,
             path_contains: str | None = None) -> None:
        """The next ``times`` matching requests (authenticated, to a known endpoint) answer
        Twilio's error JSON with this HTTP ``status`` and error ``code``, and take no effect.
        ``to`` matches the To parameter, ``path_contains`` a part of the path."""
        if status < 400 or times < 1:
            raise ValueError("fail() needs an HTTP error status (>= 400) and times >= 1")
        with self._lock:
            self._account.failures.append(Rule(times, path_contains, to, status, code))

    def slow(self, seconds: float, times: int = 1, *, path_contains: str | None = None) -> None:
        """Answer the next ``times`` requests ``seconds`` late, to make clients time out. The
        request still takes effect on arrival, as a real one that timed out on the client may
        well have: a slowed send counts as sent whether or not the client waits for it."""
        with self._lock:
            self._account.delays.append(Rule(times, path_contains, seconds=seconds))

    def reset(self) -> None:
        """Forget everything (calls, messages, contents, approvals, windows, callbacks,
        injected failures) but keep serving and keep the switches, so one server can serve
        many tests. Deliveries still running finish on the old state, out of sight."""
        with self._lock:
            self._account = Account(self.account_sid, self._limits)

    # -- serving -----------------------------------------------------------------------------

    async def _app(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI app. Plain ASGI, not a Starlette route, so that a message's delivery
        starts only once its API answer is written (or the client is gone)."""
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        now, arrived = time.time(), time.monotonic()
        path = request.url.path
        params, readable = decode_params(path, request.headers.get("content-type", ""),
                                         await request.body())
        with self._lock:
            account = self._account
            delay = take(account.delays, path, one(params, "To"))
            message: Message | None = None
            try:
                status, result, message = self._dispatch(
                    account, request.method, path, request.headers.get("authorization"),
                    params, readable, now, arrived)
            except ApiError as exc:
                status, result = exc.status, exc.body()
            account.calls.append(Call(request.method, path, params, status, now, result))
            if message is not None:
                self._pending += 1
        read = self.read_receipts
        headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'} if status == 401 else None
        try:
            if delay is not None:
                await self._sleep(delay.seconds)
            await JSONResponse(result, status_code=status, headers=headers)(scope, receive, send)
        finally:
            if message is not None:
                self._spawn(self._deliver(account, message, read))

    def _dispatch(self, account: Account, method: str, path: str, authorization: str | None,
                  params: Params, readable: bool, now: float,
                  arrived: float) -> tuple[int, Params, Message | None]:
        """Status, JSON and (for a send) the accepted message; raises ApiError otherwise."""
        if not self._authorized(authorization):
            raise ApiError(401, 20003)
        create, fetch = _MESSAGES.fullmatch(path), _MESSAGE.fullmatch(path)
        found = create or fetch
        if (found is None and path.rstrip("/") != _CONTENTS) or (
                found is not None and found.group(1) != self.account_sid):
            raise ApiError(404, 20404, f"The requested resource {path} was not found")
        if method != ("GET" if fetch else "POST"):
            raise ApiError(405, 20004)
        rule = take(account.failures, path, one(params, "To"))
        if rule is not None:
            raise ApiError(rule.status, rule.code)
        if fetch is not None:
            return 200, account.message_json(account.find(fetch.group(2))), None
        if create is not None:
            message = account.send(params, now, arrived)
            return 201, account.message_json(message), message
        if not readable:  # what twilio-python's AsyncTwilioHttpClient sends (see the tests)
            raise bad(20001, "Request input may be invalid")
        return 201, account.create_content(params, now), None

    def _authorized(self, header: str | None) -> bool:
        scheme, _, encoded = (header or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except ValueError:  # binascii.Error and UnicodeDecodeError are ValueErrors
            return False
        return (user, password) == (self.account_sid, self.auth_token)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, account: Account, message: Message, read: bool) -> None:
        """Walk one message through its statuses, posting a callback for each but queued."""
        try:
            if self.callback_delay > 0:
                await self._sleep(self.callback_delay)
            steps = ["sent", "delivered", *(["read"] if read else [])]
            if not message.delivered:
                steps = ["failed"]
            if message.status == "accepted":  # a Messaging Service queues it first
                steps.insert(0, "queued")
            for step in steps:
                with self._lock:
                    current = account.advance(message.sid, step, time.time())
                if step != "queued" and current.status_callback and self.callbacks_enabled:
                    await self._callback(account, current)
        finally:
            with self._settled:
                self._pending -= 1
                self._settled.notify_all()

    async def _callback(self, account: Account, message: Message) -> None:
        assert self._http is not None and message.status_callback is not None
        url = message.status_callback
        params = status_params(message, self.account_sid, self._install_sid)
        signature = self.sign(url, params)
        headers = {"X-Twilio-Signature": signature, "User-Agent": "TwilioProxy/1.1",
                   "I-Twilio-Idempotency-Token": str(uuid.uuid4())}
        answered, error = None, None
        try:
            answered = (await self._http.post(url, data=params, headers=headers)).status_code
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        with self._lock:
            account.callbacks.append(Callback(url, params, signature, answered, time.time(),
                                              error))

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but wake at once when the server stops."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopped.wait(), seconds)


def inbound(
    fake: FakeTwilio,
    *,
    frm: str,
    to: str,
    body: str = "",
    sid: str | None = None,
    button: tuple[str, str] | None = None,
    list_reply: tuple[str, str] | None = None,
    replied_to: str | None = None,
    media: Iterable[tuple[str, str]] = (),
    profile_name: str = "Dana",
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """The form Twilio posts to the incoming-message webhook when ``frm`` writes to ``to``.

    Also ``fake.heard_from(frm)``: writing opens the user's 24-hour window. Sign it for the
    webhook URL with ``fake.sign(url, params)``. ``button`` is a quick-reply tap (ButtonText,
    ButtonPayload = the action's id), ``list_reply`` a list pick (ListTitle, ListId); either
    becomes the Body unless ``body`` is given. ``replied_to`` is the SID of our message the
    user swiped to reply to. ``extra`` adds or overrides fields (MessagingServiceSid, ...).
    """
    if not (WHATSAPP.fullmatch(frm) and WHATSAPP.fullmatch(to)):
        raise ValueError("frm and to must be whatsapp:+<E.164> addresses")
    if button and list_reply:
        raise ValueError("a message is a button tap or a list pick, not both")
    attachments = list(media)
    sid = sid or new_sid("MM" if attachments else "SM")
    picked = button or list_reply
    kind = "interactive" if picked else "text"
    if attachments:
        major = attachments[0][1].partition("/")[0]
        kind = major if major in ("image", "video", "audio") else "document"
    params = {
        "SmsMessageSid": sid, "NumMedia": str(len(attachments)), "ProfileName": profile_name,
        "MessageType": kind, "SmsSid": sid, "WaId": frm.removeprefix("whatsapp:+"),
        "SmsStatus": "received", "Body": body or (picked[0] if picked else ""), "To": to,
        "NumSegments": "1", "ReferralNumMedia": "0", "MessageSid": sid,
        "AccountSid": fake.account_sid, "From": frm, "ApiVersion": API_VERSION,
    }
    if button:
        params.update(ButtonText=button[0], ButtonPayload=button[1])
    if list_reply:
        params.update(ListTitle=list_reply[0], ListId=list_reply[1])
    if replied_to:
        params.update(OriginalRepliedMessageSid=replied_to, OriginalRepliedMessageSender=to)
    for i, (url, content_type) in enumerate(attachments):
        params[f"MediaUrl{i}"], params[f"MediaContentType{i}"] = url, content_type
    params.update(extra or {})
    fake.heard_from(frm)
    return params
