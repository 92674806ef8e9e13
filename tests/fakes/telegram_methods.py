"""What the fake Telegram server does with a request: chats, messages, updates, rate limits.

No I/O and no locking here: ``telegram_api.FakeTelegram`` decodes each request, calls
``BotApi.dispatch`` with its lock held and encodes what comes back. Error descriptions are
worded as Telegram words them, because bots and python-telegram-bot match on them.
"""

from __future__ import annotations

import math
import re
import struct
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

Params = dict[str, Any]
Limit = tuple[int, float]

INTEGER = re.compile(r"-?\d+")
SENDS = frozenset({"sendMessage", "sendPhoto", "sendDocument"})
# Methods Telegram's flood control counts: everything that puts or changes a message in a chat.
COUNTED = SENDS | {"editMessageText", "editMessageReplyMarkup"}
_HANDLERS = {
    "getMe": "_get_me", "sendMessage": "_send_message", "sendPhoto": "_send_photo",
    "sendDocument": "_send_document",
    "editMessageText": "_edit_message_text", "editMessageReplyMarkup": "_edit_reply_markup",
    "answerCallbackQuery": "_answer_callback_query", "setWebhook": "_set_webhook",
    "deleteWebhook": "_delete_webhook", "getWebhookInfo": "_get_webhook_info",
    "getUpdates": "_get_updates",
}
METHODS = {name.lower(): name for name in _HANDLERS}  # Telegram ignores the case of names
_BUTTON_ACTIONS = frozenset(
    {"url", "callback_data", "web_app", "login_url", "switch_inline_query",
     "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
     "callback_game", "pay"}
)
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
_NOT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_PHRASES = {500: "Internal Server Error", 502: "Bad Gateway"}
_PNG = b"\x89PNG\r\n\x1a\n"
_IMAGES = (_PNG, b"\xff\xd8\xff", b"GIF8", b"RIFF")  # PNG, JPEG, GIF, WebP


class ApiError(Exception):
    """An answer other than ok: handlers raise it, the server encodes it as Telegram does."""

    def __init__(self, status: int, description: str, parameters: Params | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


def bad_request(detail: str) -> ApiError:
    """Telegram prefixes every 400 description with "Bad Request: "."""
    return ApiError(400, f"Bad Request: {detail}")


def too_many_requests(retry_after: int) -> ApiError:
    """A 429 as Telegram words it; clients act on ``parameters.retry_after``."""
    return ApiError(429, f"Too Many Requests: retry after {retry_after}",
                    {"retry_after": retry_after})


@dataclass(frozen=True)
class Call:
    """One request as the fake received it; ``params`` typed as Telegram reads them."""

    method: str
    params: Params
    chat_id: str | None
    at: float
    status: int
    result: Any = None
    """What it answered on success (a Message for sendMessage): a test taps under it."""


@dataclass
class Rule:
    """An injected failure or delay for the next ``times`` requests that match it."""

    times: int
    method: str | None
    chat_id: str | None = None
    status: int = 0
    retry_after: int | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class Limits:
    """Rate limits as ``(count, seconds)``: at most ``count`` counted requests in any window
    of ``seconds``, each window shortened by ``tolerance`` (see ``FakeTelegram``)."""

    overall: Limit
    chat: Limit
    group: Limit
    tolerance: float
    enabled: bool


@dataclass(frozen=True)
class Poll:
    """getUpdates passed validation; the server computes its result after long polling."""

    limit: int
    timeout: float


def chat_key(chat_id: int | str) -> str:
    """Chat ids compare as the decimal string Telegram sees: 42 and "42" are one chat."""
    text = str(chat_id).strip()
    return str(int(text)) if INTEGER.fullmatch(text) else text


def take(rules: list[Rule], method: str, chat_id: str | None) -> Rule | None:
    """The first rule matching this request, used up by one; exhausted rules are dropped."""
    for rule in rules:
        if rule.method in (None, method.lower()) and rule.chat_id in (None, chat_id):
            rule.times -= 1
            if rule.times <= 0:
                rules.remove(rule)
            return rule
    return None


def wait_needed(log: deque[float], limit: int, window: float, now: float) -> float:
    """Seconds until one more request fits in at most ``limit`` per ``window`` seconds.

    ``log`` holds the arrival times of admitted requests, oldest first; entries that left the
    window are dropped here. A request at ``t`` leaves the window at ``t + window``.
    """
    while log and log[0] <= now - window:
        log.popleft()
    if len(log) < limit:
        return 0.0
    return log[len(log) - limit] + window - now


def _chat(chat_id: int) -> Params:
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "Test"}
    kind = "supergroup" if chat_id <= -(10**12) else "group"  # supergroup ids are -100xxxxxxxxxx
    return {"id": chat_id, "type": kind, "title": f"Test {kind}"}


class BotApi:
    """Telegram's side of one bot: its messages, queued updates, webhook and rate windows."""

    def __init__(self, token: str, limits: Limits) -> None:
        self.bot_id = int(token.partition(":")[0])
        self.limits = limits
        self.calls: list[Call] = []
        self.rejected_429 = 0
        self.blocked: set[str] = set()
        self.failures: list[Rule] = []
        self.delays: list[Rule] = []
        self.updates: list[Params] = []
        self.last_update_id = 0
        self.allowed_updates: list[str] = []
        self.webhook: Params | None = None
        self._overall_log: deque[float] = deque()
        self._chat_logs: defaultdict[int, deque[float]] = defaultdict(deque)
        self._messages: dict[tuple[int, int], Params] = {}
        self._last_message_id: defaultdict[int, int] = defaultdict(int)
        self._files: dict[str, Params] = {}
        self.uploads: dict[str, bytes] = {}
        """Uploaded documents' bytes by file_id (Telegram keeps them; tests read them)."""
        self._answered: set[str] = set()

    def dispatch(self, method: str, params: Params, chat_id: str | None) -> Any:
        """The result of one request, or the ApiError to answer; injected failures first."""
        rule = take(self.failures, method, chat_id)
        if rule is not None and rule.status == 429:
            return too_many_requests(rule.retry_after or 1)
        if rule is not None:
            return ApiError(rule.status, _PHRASES.get(rule.status, HTTPStatus(rule.status).phrase))
        try:
            return getattr(self, _HANDLERS[method])(params)
        except ApiError as exc:
            return exc

    def push(self, update: Params) -> None:
        update = {"update_id": self.last_update_id + 1, **update}
        self.last_update_id = max(self.last_update_id, update["update_id"])
        self.updates.append(update)

    def pending(self, limit: int) -> list[Params]:
        """Queued updates getUpdates would return now (filtered by allowed_updates)."""
        allowed = self.allowed_updates
        return [
            update for update in self.updates
            if (kind := next((key for key in update if key != "update_id"), ""))
            and (kind in allowed if allowed else kind not in _NOT_BY_DEFAULT)
        ][:limit]

    # -- shared checks -----------------------------------------------------------------------

    def _bot_user(self) -> Params:
        return {"id": self.bot_id, "is_bot": True, "first_name": "Kolot Test",
                "username": "kolot_test_bot"}

    def _target(self, params: Params) -> int:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise bad_request("chat_id is empty")
        if isinstance(raw, bool) or not INTEGER.fullmatch(str(raw)):
            raise bad_request("chat not found")
        chat_id = int(raw)
        if str(chat_id) in self.blocked:
            kind = _chat(chat_id)["type"]
            raise ApiError(403, "Forbidden: bot was blocked by the user" if kind == "private"
                           else f"Forbidden: bot was kicked from the {kind} chat")
        return chat_id

    @staticmethod
    def _text(params: Params) -> str:
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():  # Telegram trims whitespace
            raise bad_request("message text is empty")
        if len(text) > 4096:
            raise bad_request("message is too long")
        return text

    @staticmethod
    def _markup(params: Params) -> Params:
        """The reply_markup a Message shows: only inline keyboards are echoed, as Telegram."""
        markup = params.get("reply_markup")
        if markup is None:
            return {}
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        rows = markup.get("inline_keyboard")
        if rows is None:
            return {}
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request("can't parse inline keyboard markup JSON object")
        for button in (button for row in rows for button in row):
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad_request("can't parse inline keyboard button: Text must be a String")
            if not _BUTTON_ACTIONS & button.keys():
                raise bad_request("can't parse inline keyboard button: "
                                  "Text buttons are unallowed in the inline keyboard")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode("utf-8")) <= 64:
                raise bad_request("BUTTON_DATA_INVALID")
        return {"reply_markup": {"inline_keyboard": rows}}

    def _admit(self, chat_id: int) -> None:
        """Count a send or edit against the rate windows, or refuse it with 429 (uncounted)."""
        limits = self.limits
        if not limits.enabled:
            return
        now = time.monotonic()
        windows = [(self._overall_log, limits.overall),
                   (self._chat_logs[chat_id], limits.chat if chat_id > 0 else limits.group)]
        wait = max(wait_needed(log, count, max(seconds - limits.tolerance, 0.0), now)
                   for log, (count, seconds) in windows)
        if wait > 0:
            self.rejected_429 += 1
            raise too_many_requests(max(1, math.ceil(wait)))
        for log, _ in windows:
            log.append(now)

    def _deliver(self, chat_id: int, content: Params) -> Params:
        self._last_message_id[chat_id] += 1
        message = {"message_id": self._last_message_id[chat_id], "date": int(time.time()),
                   "chat": _chat(chat_id), "from": self._bot_user(), **content}
        self._messages[chat_id, message["message_id"]] = message
        return message

    def _editable(self, params: Params) -> tuple[int, Params]:
        if params.get("inline_message_id"):
            raise bad_request("inline messages are not supported by the fake")
        chat_id = self._target(params)
        message_id = params.get("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        message = self._messages.get((chat_id, message_id))
        if message is None:
            raise bad_request("message to edit not found")
        return chat_id, message

    def _edit(self, chat_id: int, message: Params, changes: Params) -> Params:
        """Editing without a reply_markup removes the keyboard, as it does on Telegram."""
        before = {key: value for key, value in message.items() if key != "edit_date"}
        after = {key: value for key, value in before.items() if key != "reply_markup"} | changes
        if after == before:
            raise bad_request(_NOT_MODIFIED)
        self._admit(chat_id)
        after["edit_date"] = int(time.time())
        self._messages[chat_id, message["message_id"]] = after
        return after

    def _photo(self, params: Params) -> Params:
        photo = params.get("photo")
        if isinstance(photo, str) and photo.startswith("attach://"):
            photo = params.get(photo.removeprefix("attach://"))
        if isinstance(photo, bytes):
            if not photo.startswith(_IMAGES):
                raise bad_request("IMAGE_PROCESS_FAILED")
            width, height = struct.unpack(">II", photo[16:24]) if photo.startswith(_PNG) \
                else (320, 320)
            return self._new_file(width, height, len(photo))
        if not photo:
            raise bad_request("there is no photo in the request")
        if isinstance(photo, str) and photo in self._files:
            return self._files[photo]
        if isinstance(photo, str) and photo.startswith(("http://", "https://")):
            return self._new_file(320, 320, None)
        raise bad_request("wrong file identifier/HTTP URL specified")

    def _new_file(self, width: int, height: int, size: int | None) -> Params:
        number = len(self._files) + 1
        file: Params = {"file_id": f"AgACAgQAAxkDAAI{number:06d}",
                        "file_unique_id": f"AQAD{number:06d}", "width": width, "height": height}
        if size is not None:
            file["file_size"] = size
        self._files[file["file_id"]] = file
        return file

    # -- methods -----------------------------------------------------------------------------

    def _get_me(self, params: Params) -> Params:
        return {**self._bot_user(), "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False, "can_connect_to_business": False,
                "has_main_web_app": False}

    def _send_message(self, params: Params) -> Params:
        chat_id = self._target(params)
        content = {"text": self._text(params), **self._markup(params)}
        self._admit(chat_id)
        return self._deliver(chat_id, content)

    def _send_photo(self, params: Params) -> Params:
        chat_id = self._target(params)
        caption = params.get("caption")
        if isinstance(caption, str) and len(caption) > 1024:
            raise bad_request("message caption is too long")
        markup = self._markup(params)
        self._admit(chat_id)
        content: Params = {"photo": [self._photo(params)]}
        return self._deliver(chat_id, content | ({"caption": caption} if caption else {}) | markup)

    def _send_document(self, params: Params) -> Params:
        """Only uploads (a file sent by id or URL is not needed yet); the document's bytes
        are kept in ``uploads`` for tests to read."""
        chat_id = self._target(params)
        caption = params.get("caption")
        if isinstance(caption, str) and len(caption) > 1024:
            raise bad_request("message caption is too long")
        document = params.get("document")
        if isinstance(document, str) and document.startswith("attach://"):
            document = params.get(document.removeprefix("attach://"))
        if not isinstance(document, bytes) or not document:
            raise bad_request("there is no document in the request")
        markup = self._markup(params)
        self._admit(chat_id)
        number = len(self._files) + 1
        file: Params = {"file_id": f"BQACAgQAAxkDAAI{number:06d}",
                        "file_unique_id": f"AgAD{number:06d}", "file_size": len(document)}
        self._files[file["file_id"]] = file
        self.uploads[file["file_id"]] = document
        content: Params = {"document": file}
        return self._deliver(chat_id, content | ({"caption": caption} if caption else {}) | markup)

    def _edit_message_text(self, params: Params) -> Params:
        chat_id, message = self._editable(params)
        if "text" not in message:
            raise bad_request("there is no text in the message to edit")
        return self._edit(chat_id, message, {"text": self._text(params), **self._markup(params)})

    def _edit_reply_markup(self, params: Params) -> Params:
        chat_id, message = self._editable(params)
        return self._edit(chat_id, message, self._markup(params))

    def _answer_callback_query(self, params: Params) -> bool:
        query_id = params.get("callback_query_id")
        if not query_id:
            raise bad_request("QUERY_ID_INVALID")
        if str(query_id) in self._answered:  # a query is answered once
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = params.get("text")
        if isinstance(text, str) and len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        self._answered.add(str(query_id))
        return True

    def _set_webhook(self, params: Params) -> bool:
        url = params.get("url") or ""
        if not url:  # Telegram: an empty url removes the webhook
            return self._delete_webhook(params)
        if not str(url).lower().startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise bad_request("secret token contains unallowed characters")
        connections = params.get("max_connections", 40)
        if not isinstance(connections, int) or not 1 <= connections <= 100:
            raise bad_request("bad webhook: max_connections must be between 1 and 100")
        if params.get("drop_pending_updates"):
            self.updates.clear()
        if "allowed_updates" in params:
            self.allowed_updates = list(params["allowed_updates"] or [])
        self.webhook = {key: value for key, value in params.items() if key != "certificate"}
        return True

    def _delete_webhook(self, params: Params) -> bool:
        if params.get("drop_pending_updates"):
            self.updates.clear()
        self.webhook = None
        return True

    def _get_webhook_info(self, params: Params) -> Params:
        info: Params = {"url": "", "has_custom_certificate": False,
                        "pending_update_count": len(self.updates)}
        if self.webhook is not None:
            info |= {"url": self.webhook["url"],
                     "max_connections": self.webhook.get("max_connections", 40)}
            info |= {key: self.webhook[key] for key in ("ip_address",) if key in self.webhook}
            if self.allowed_updates:
                info["allowed_updates"] = self.allowed_updates
        return info

    def _get_updates(self, params: Params) -> Poll:
        if self.webhook is not None:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first")
        offset, limit, timeout = (params.get(key, 0) for key in ("offset", "limit", "timeout"))
        if not all(isinstance(value, int | float) for value in (offset, limit, timeout)):
            raise bad_request("wrong parameter type")
        if offset < 0:  # the last -offset updates; all earlier ones are forgotten
            del self.updates[:offset]
        elif offset > 0:  # an offset confirms every update before it
            self.updates = [update for update in self.updates if update["update_id"] >= offset]
        if "allowed_updates" in params:  # kept for later calls, as Telegram does
            self.allowed_updates = list(params["allowed_updates"] or [])
        return Poll(limit=min(max(int(limit or 100), 1), 100), timeout=max(float(timeout), 0.0))
