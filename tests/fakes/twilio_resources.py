"""What the fake Twilio server does with a request: messages, contents, the 24-hour window.

No I/O and no locking here: ``twilio_api.FakeTwilio`` decodes each request, calls ``Account``
with its lock held and encodes what comes back. Error codes and messages are Twilio's (see
``ERRORS``), because the SDK turns them into ``TwilioRestException.code`` and ``.msg`` and
callers branch on the code.

Content limits are those of Twilio's content-type pages: a quick-reply or list body at most
1,024 characters; quick-reply titles at most 20, ids 200; a list's button at most 20, 1 to 10
items of at most 24 characters, ids 200 (unique), descriptions 72. Twilio's own code for an
invalid content is not documented: the fake answers 400 with code 20001 and a message that
names the field. Lengths count code points (WhatsApp may count otherwise for emoji).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from collections import defaultdict, deque
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl, urlsplit

Params = dict[str, Any]
Limit = tuple[int, float]

API_VERSION = "2010-04-01"
WINDOW = 24 * 3600.0  # WhatsApp's customer service window, from the user's last message
BODY_LIMIT = 1600  # Twilio's limit on Body, whatever the channel
WHATSAPP = re.compile(r"whatsapp:\+[1-9]\d{6,14}")
CONTENT_SID = re.compile(r"HX[0-9a-fA-F]{32}")
SERVICE_SID = re.compile(r"MG[0-9a-fA-F]{32}")
_VARIABLE = re.compile(r"\{\{\s*(\w+)\s*\}\}")
# Twilio's wording for the codes the fake answers; fail() falls back to "Error <code>".
ERRORS = {
    20001: "Invalid parameter",
    20003: "Authenticate",
    20004: "Method not allowed",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    20500: "Internal Server Error",
    20503: "Service Unavailable",
    21211: "Invalid 'To' Phone Number",
    21212: "Invalid From Number (caller ID)",
    21603: "A 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
    21609: "Invalid StatusCallback url",
    21617: "The concatenated message body exceeds the 1600 character limit.",
    21619: "A text message body or media urls must be specified.",
    21654: "ContentSid Required",
    21655: "The ContentSid is Invalid",
    21656: "The ContentVariables Parameter is invalid",
    21701: "The Messaging Service does not exist",
    63016: "Failed to send freeform message because you are outside the allowed window. "
           "If you are using WhatsApp, please use a Message Template.",
    63018: "Rate limit exceeded for Channel",
}


class ApiError(Exception):
    """An answer other than success, encoded as Twilio's error JSON with the same status."""

    def __init__(self, status: int, code: int, message: str | None = None) -> None:
        self.status, self.code = status, code
        self.message = message or ERRORS.get(code, f"Error {code}")
        super().__init__(self.message)

    def body(self) -> Params:
        return {"code": self.code, "message": self.message,
                "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
                "status": self.status}


def bad(code: int, message: str | None = None) -> ApiError:
    return ApiError(400, code, message)


@dataclass(frozen=True)
class Call:
    """One request as the fake received it."""

    method: str
    path: str
    params: Params
    """Form fields (a repeated field, like MediaUrl, as a list) or the parsed JSON body."""
    status: int
    at: float
    """Arrival, ``time.time()``: the clock ``heard_from`` uses."""
    result: Any = None
    """The JSON answered: the resource, or Twilio's error object."""


@dataclass(frozen=True)
class Message:
    """An outbound message the API accepted (201), with its current status."""

    sid: str
    to: str
    from_: str | None
    """None when sent through a Messaging Service without From (the fake picks no sender)."""
    body: str | None
    content_sid: str | None
    content_variables: dict[str, str]
    status_callback: str | None
    media_urls: tuple[str, ...]
    messaging_service_sid: str | None
    at: float
    text: str
    """What the user sees if it is delivered (the format of ``FakeTwilio.seen``)."""
    delivered: bool
    """Decided on arrival: False when it fails (outside the 24-hour window)."""
    status: str = "queued"
    error_code: int | None = None
    sent_at: float | None = None


@dataclass(frozen=True)
class Callback:
    """One status callback the fake made, and how the receiver answered."""

    url: str
    params: dict[str, str]
    signature: str
    status: int | None
    """The receiver's HTTP status; None when the request failed (``error`` says why)."""
    at: float
    error: str | None = None


@dataclass
class Rule:
    """An injected failure or delay for the next ``times`` requests that match it."""

    times: int
    path_contains: str | None = None
    to: str | None = None
    status: int = 0
    code: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class Limits:
    """At most ``sender[0]`` messages per From in any ``sender[1]`` seconds, the window
    shortened by ``tolerance`` (see ``FakeTwilio``)."""

    sender: Limit
    tolerance: float
    enabled: bool


def take(rules: list[Rule], path: str, to: str | None) -> Rule | None:
    """The first rule matching this request, used up by one; exhausted rules are dropped."""
    for rule in rules:
        if rule.path_contains is not None and rule.path_contains not in path:
            continue
        if rule.to is not None and rule.to != to:
            continue
        rule.times -= 1
        if rule.times <= 0:
            rules.remove(rule)
        return rule
    return None


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def rfc2822(at: float | None) -> str | None:
    """The Messages API's dates: ``Thu, 24 Aug 2023 05:01:45 +0000``."""
    if at is None:
        return None
    moment = dt.datetime.fromtimestamp(int(at), dt.UTC)
    return moment.strftime("%a, %d %b %Y %H:%M:%S +0000")


def iso8601(at: float) -> str:
    """The Content API's dates (the SDK parses them as ISO 8601, not RFC 2822)."""
    return dt.datetime.fromtimestamp(int(at), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def one(params: Params, name: str) -> str | None:
    """A form field sent once (the last value when repeated); None when absent."""
    value = params.get(name)
    return value[-1] if isinstance(value, list) else value


# -- contents ----------------------------------------------------------------------------------

def _text(spec: Any, name: str, where: str, limit: int, *, required: bool = True) -> None:
    value = spec.get(name) if isinstance(spec, dict) else None
    if value is None and not required:
        return
    if not isinstance(value, str) or not value.strip():
        raise bad(20001, f"{where}.{name} is required and must be a non-empty string")
    if len(value) > limit:
        raise bad(20001, f"{where}.{name} is {len(value)} characters; the limit is {limit}")


def _entries(spec: Params, name: str, where: str, most: int) -> list[Any]:
    entries = spec.get(name)
    if not isinstance(entries, list) or not 1 <= len(entries) <= most:
        count = len(entries) if isinstance(entries, list) else 0
        raise bad(20001, f"{where}.{name} must hold 1 to {most} entries (got {count})")
    return entries


def _check_text(spec: Params) -> None:
    _text(spec, "body", "twilio/text", BODY_LIMIT)


def _check_quick_reply(spec: Params) -> None:
    where = "twilio/quick-reply"
    _text(spec, "body", where, 1024)
    # WhatsApp takes 3 buttons in a session message, up to 10 in an approved template; Kolot
    # sends quick replies in session, so more than 3 is refused here outright.
    for i, action in enumerate(_entries(spec, "actions", where, 3)):
        _text(action, "title", f"{where}.actions[{i}]", 20)
        _text(action, "id", f"{where}.actions[{i}]", 200, required=False)
        if action.get("type") not in (None, "QUICK_REPLY"):
            raise bad(20001, f"{where}.actions[{i}].type must be QUICK_REPLY")


def _check_list_picker(spec: Params) -> None:
    where = "twilio/list-picker"
    _text(spec, "body", where, 1024)
    _text(spec, "button", where, 20)
    items = _entries(spec, "items", where, 10)
    for i, item in enumerate(items):
        _text(item, "item", f"{where}.items[{i}]", 24)
        _text(item, "id", f"{where}.items[{i}]", 200)
        _text(item, "description", f"{where}.items[{i}]", 72, required=False)
    ids = [item["id"] for item in items]
    if len(set(ids)) != len(ids):
        raise bad(20001, f"{where}.items ids must be unique")


_TYPES = {"twilio/text": _check_text, "twilio/quick-reply": _check_quick_reply,
          "twilio/list-picker": _check_list_picker}


def check_content(payload: Any) -> Params:
    """The ContentCreateRequest fields, validated with WhatsApp's limits, or an ApiError."""
    if not isinstance(payload, dict):
        raise bad(20001, "Request input may be invalid")
    language, name = payload.get("language"), payload.get("friendly_name")
    if not isinstance(language, str) or not language:
        raise bad(20001, "language is required")
    if name is not None and not isinstance(name, str):
        raise bad(20001, "friendly_name must be a string")
    variables = payload.get("variables") or {}
    if not isinstance(variables, dict) or not all(
            isinstance(v, str) for v in variables.values()):
        raise bad(20001, "variables must map variable names to string values")
    types = payload.get("types")
    if not isinstance(types, dict) or not types:
        raise bad(20001, "types must hold at least one content type")
    for kind, spec in types.items():
        if kind not in _TYPES:
            raise bad(20001, f"content type {kind} is not modelled by the fake "
                             f"(only {', '.join(_TYPES)})")
        if not isinstance(spec, dict):
            raise bad(20001, f"{kind} must be an object")
        _TYPES[kind](spec)
    return {"friendly_name": name, "language": language, "variables": dict(variables),
            "types": json.loads(json.dumps(types))}


def render(types: Params, values: dict[str, str]) -> tuple[str, str | None]:
    """What a WhatsApp user sees of a content: its body with ``{{n}}`` substituted, and the
    quick-reply buttons as ``[title] [title]`` or the list as ``[button] item | item``."""

    def sub(text: str) -> str:
        return _VARIABLE.sub(lambda found: values.get(found.group(1), found.group(0)), text)

    if picker := types.get("twilio/list-picker"):
        items = " | ".join(sub(entry["item"]) for entry in picker["items"])
        return sub(picker["body"]), f"[{sub(picker['button'])}] {items}"
    if quick := types.get("twilio/quick-reply"):
        return sub(quick["body"]), " ".join(f"[{sub(a['title'])}]" for a in quick["actions"])
    return sub(types["twilio/text"]["body"]), None


# -- the account -------------------------------------------------------------------------------

@dataclass
class Account:
    """Everything one fake account holds; ``FakeTwilio.reset`` starts a new one."""

    sid: str
    limits: Limits
    calls: list[Call] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    contents: dict[str, Params] = field(default_factory=dict)
    approved: set[str] = field(default_factory=set)
    heard: dict[str, float] = field(default_factory=dict)
    callbacks: list[Callback] = field(default_factory=list)
    failures: list[Rule] = field(default_factory=list)
    delays: list[Rule] = field(default_factory=list)
    rejected_429: int = 0
    windows: defaultdict[str, deque[float]] = field(
        default_factory=lambda: defaultdict(deque))
    positions: dict[str, int] = field(default_factory=dict)  # message sid -> index

    def send(self, params: Params, now: float, arrived: float) -> Message:
        """Validate a Messages create as Twilio does, in Twilio's order, and accept it.

        ``now`` is wall-clock time (the 24-hour window), ``arrived`` monotonic (rate limits).
        """
        to, frm = one(params, "To"), one(params, "From")
        service = one(params, "MessagingServiceSid")
        body, content_sid = one(params, "Body") or None, one(params, "ContentSid") or None
        raw_variables, callback = one(params, "ContentVariables"), one(params, "StatusCallback")
        media = params.get("MediaUrl", [])
        media = tuple(media if isinstance(media, list) else [media])
        if not to:
            raise bad(21604)
        if not WHATSAPP.fullmatch(to):
            raise bad(21211, f"Invalid 'To' Phone Number: {to}")
        if not frm and not service:
            raise bad(21603)
        if frm and not WHATSAPP.fullmatch(frm):
            raise bad(21212, f"Invalid From Number (caller ID): {frm}")
        if service and not SERVICE_SID.fullmatch(service):
            raise bad(21701)
        if not body and not media and not content_sid:
            raise bad(21619)
        if body and len(body) > BODY_LIMIT:
            raise bad(21617)
        if raw_variables is not None and not content_sid:
            raise bad(21654)
        variables = _variables(raw_variables)
        if content_sid is not None and content_sid not in self.contents:
            raise bad(21655)
        if callback is not None and not _is_url(callback):
            raise bad(21609)
        self._count(frm or service or "", arrived)
        last = self.heard.get(to)
        in_session = last is not None and now - last <= WINDOW
        text = self._rendered(content_sid, variables, body)
        message = Message(
            new_sid("MM" if media and not content_sid else "SM"), to, frm or None, body,
            content_sid, variables, callback, media, service, now, text,
            delivered=in_session or content_sid in self.approved,
            status="queued" if frm else "accepted")
        self.positions[message.sid] = len(self.messages)
        self.messages.append(message)
        return message

    def _rendered(self, content_sid: str | None, variables: dict[str, str],
                  body: str | None, *, full: bool = True) -> str:
        """The text the user sees (``full``), or the body the API reports for the message."""
        if content_sid is None:
            return body or ""
        content = self.contents[content_sid]
        main, controls = render(content["types"], {**content["variables"], **variables})
        return f"{main}\n{controls}" if full and controls else main

    def _count(self, sender: str, arrived: float) -> None:
        """Admit one more message from ``sender`` or answer 429 (a sliding-window log)."""
        if not self.limits.enabled:
            return
        count, seconds = self.limits.sender
        window = max(seconds - self.limits.tolerance, 0.0)
        log = self.windows[sender]
        while log and log[0] <= arrived - window:
            log.popleft()
        if len(log) >= count:
            self.rejected_429 += 1
            raise ApiError(429, 20429)
        log.append(arrived)

    def advance(self, sid: str, status: str, now: float) -> Message:
        """Move a message on to ``status`` (the fake's own clock of delivery)."""
        index = self.positions[sid]
        message = self.messages[index]
        changes: Params = {"status": status}
        if status == "failed":
            changes["error_code"] = 63016
        elif status == "sent":
            changes["sent_at"] = now
        self.messages[index] = message = replace(message, **changes)
        return message

    def find(self, sid: str) -> Message:
        if sid in self.positions:
            return self.messages[self.positions[sid]]
        raise ApiError(404, 20404, f"The requested resource /{API_VERSION}/Accounts/"
                                   f"{self.sid}/Messages/{sid}.json was not found")

    def message_json(self, message: Message) -> Params:
        """The Message resource as the Messages API answers it (every field MessageInstance
        reads)."""
        uri = f"/{API_VERSION}/Accounts/{self.sid}/Messages/{message.sid}"
        error = message.error_code
        return {
            "account_sid": self.sid, "api_version": API_VERSION,
            "body": self._rendered(message.content_sid, message.content_variables,
                                   message.body, full=False),
            "date_created": rfc2822(message.at), "date_sent": rfc2822(message.sent_at),
            "date_updated": rfc2822(message.sent_at or message.at),
            "direction": "outbound-api", "error_code": error,
            "error_message": None if error is None else ERRORS[error],
            "from": message.from_, "messaging_service_sid": message.messaging_service_sid,
            "num_media": str(len(message.media_urls)), "num_segments": "1",
            "price": None, "price_unit": "USD", "sid": message.sid, "status": message.status,
            "subresource_uris": {"media": f"{uri}/Media.json", "feedback": f"{uri}/Feedback.json"},
            "to": message.to, "uri": f"{uri}.json",
        }

    def create_content(self, payload: Any, now: float) -> Params:
        fields = check_content(payload)
        sid = new_sid("HX")
        url = f"https://content.twilio.com/v1/Content/{sid}"
        self.contents[sid] = resource = {
            "sid": sid, "account_sid": self.sid, **fields, "url": url,
            "date_created": iso8601(now), "date_updated": iso8601(now),
            "links": {"approval_create": f"{url}/ApprovalRequests/whatsapp",
                      "approval_fetch": f"{url}/ApprovalRequests"},
        }
        return resource


def _variables(raw: str | None) -> dict[str, str]:
    """ContentVariables: a JSON object; numbers are taken as their text (Twilio's own examples
    send strings; anything else is 21656)."""
    if raw is None:
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError as exc:
        raise bad(21656) from exc
    if not isinstance(parsed, dict) or not all(
            isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in parsed.values()):
        raise bad(21656)
    return {str(k): str(v) for k, v in parsed.items()}


def _is_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and "_" not in (
        parts.hostname or "")


def decode_params(path: str, content_type: str, raw: bytes) -> tuple[Params, bool]:
    """A request's parameters, and whether the body could be read at all.

    The Content API takes JSON; the Messages API form fields (a repeated field becomes a
    list). A JSON body on the Messages API reads as no fields, as it does at Twilio.
    """
    media_type = content_type.partition(";")[0].strip().lower()
    if path.startswith("/v1/"):
        try:
            parsed = json.loads(raw) if media_type == "application/json" else None
        except ValueError:
            parsed = None
        return (parsed, True) if isinstance(parsed, dict) else ({}, False)
    params: Params = {}
    if media_type in ("", "application/x-www-form-urlencoded"):
        for name, value in parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True):
            earlier = params.get(name)
            if earlier is None:
                params[name] = value
            else:
                params[name] = [*(earlier if isinstance(earlier, list) else [earlier]), value]
    return params, True


def status_params(message: Message, account_sid: str, install_sid: str) -> dict[str, str]:
    """The form Twilio posts to a StatusCallback for a WhatsApp message."""
    digits = message.to.removeprefix("whatsapp:")
    params = {
        "AccountSid": account_sid, "ApiVersion": API_VERSION,
        "ChannelInstallSid": install_sid, "ChannelPrefix": "whatsapp",
        "ChannelToAddress": digits[:-4] + "XXXX",  # Twilio masks the last four digits
        "MessageSid": message.sid, "MessageStatus": message.status,
        "SmsSid": message.sid, "SmsStatus": message.status, "To": message.to,
    }
    if message.from_:
        params["From"] = message.from_
    if message.messaging_service_sid:
        params["MessagingServiceSid"] = message.messaging_service_sid
    if message.status in ("delivered", "read"):
        params["EventType"] = message.status.upper()
    if message.error_code is not None:
        params["ErrorCode"] = str(message.error_code)
        params["ErrorMessage"] = ERRORS[message.error_code]
    return params
