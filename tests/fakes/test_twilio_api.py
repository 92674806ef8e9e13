"""The fake Twilio API, driven only through twilio-python's real ``Client``, sync and async.

If these pass, the fake accepts what the real client sends and answers so that the client
reacts as it does to Twilio: the same resources, the same ``TwilioRestException`` codes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.rest.content.v1.content import ContentList

from bot.channels.whatsapp.transport import TwilioHttp

from .twilio_api import FakeTwilio, inbound

USER = "whatsapp:+972501234567"
OTHER = "whatsapp:+972507654321"
BOT = "whatsapp:+14155238886"
WEBHOOK = "https://kolot.example.org/twilio/whatsapp?channel=main"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture
def fake(server: FakeTwilio) -> FakeTwilio:
    server.reset()
    server.callbacks_enabled, server.read_receipts, server.callback_delay = True, False, 0.0
    return server


@pytest.fixture
def client(fake: FakeTwilio) -> Client:
    return fake.attach(Client(fake.account_sid, fake.auth_token))


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    params: dict[str, str]


class Receiver:
    """Our side of a status callback: a local endpoint that records what it is posted."""

    def __init__(self, status: int = 200) -> None:
        received: list[Received] = []
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                received.append(Received(self.path, dict(self.headers),
                                         dict(parse_qsl(body.decode()))))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.01,),
                                        daemon=True)
        self._thread.start()
        # The query string is part of what Twilio signs: keep one in the URL to prove it.
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/twilio/status?c=1"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    endpoint = Receiver()
    yield endpoint
    endpoint.close()


FixedAsyncTwilioHttpClient = TwilioHttp
"""Kolot's ``AsyncTwilioHttpClient`` with two faults of twilio-python 9.13 mended (see
bot/channels/whatsapp/transport.py): JSON bodies for the Content API (#932), and the
``Authorization`` header written directly instead of aiohttp's deprecated ``BasicAuth``."""


def stock_async_client(test: Any) -> Any:
    """The stock async client warns twice on every request with aiohttp 3.14 (see above)."""
    for message in ("BasicAuth is deprecated", "The 'auth' parameter is deprecated"):
        test = pytest.mark.filterwarnings(f"ignore:{message}:DeprecationWarning")(test)
    return test


def content_request(types: dict[str, Any], variables: dict[str, str] | None = None,
                    language: str | None = "he") -> ContentList.ContentCreateRequest:
    return ContentList.ContentCreateRequest({"friendly_name": "kolot_question",
                                             "language": language, "variables": variables,
                                             "types": types})


QUICK_REPLY = {"twilio/quick-reply": {
    "body": "Hello {{1}}, ready?",
    "actions": [{"title": "Yes", "id": "answer:yes"}, {"title": "Not now", "id": "answer:no"}],
}}
LIST_PICKER = {"twilio/list-picker": {
    "body": "Which neighbourhood, {{1}}?", "button": "Choose",
    "items": [{"item": "North", "id": "n:1", "description": "Above the river"},
              {"item": "South", "id": "n:2"}, {"item": "{{2}}", "id": "n:3"}],
}}


def refused(info: pytest.ExceptionInfo[TwilioRestException]) -> tuple[int, int | None]:
    return info.value.status, info.value.code


# -- sending ---------------------------------------------------------------------------------


def test_pointing_the_client_at_the_fake(fake: FakeTwilio) -> None:
    """What ``fake.attach(client)`` does: both domains' base URL, read on every request."""
    client = Client(fake.account_sid, fake.auth_token)
    client.api.base_url = fake.url
    client.content.base_url = fake.url
    fake.heard_from(USER)
    client.messages.create(to=USER, from_=BOT, body="hi")
    client.content.v1.contents.create(content_request({"twilio/text": {"body": "hi"}}))
    assert [call.status for call in fake.calls] == [201, 201]


def test_a_message_is_created_as_twilio_answers(client: Client, fake: FakeTwilio) -> None:
    fake.heard_from(USER)
    message = client.messages.create(to=USER, from_=BOT, body="שלום")
    assert re.fullmatch(r"SM[0-9a-f]{32}", message.sid or "")
    assert (message.status, message.to, message.from_, message.body) == ("queued", USER, BOT,
                                                                          "שלום")
    assert (message.account_sid, message.direction, message.api_version) == (
        fake.account_sid, "outbound-api", "2010-04-01")
    assert (message.num_segments, message.num_media, message.price, message.error_code,
            message.date_sent) == ("1", "0", None, None, None)
    assert isinstance(message.date_created, dt.datetime)
    assert abs(message.date_created.timestamp() - time.time()) < 5
    assert message.uri == f"/2010-04-01/Accounts/{fake.account_sid}/Messages/{message.sid}.json"
    assert message.subresource_uris is not None
    assert str(message.subresource_uris["media"]).endswith(f"{message.sid}/Media.json")
    [call] = fake.calls
    assert (call.method, call.status, call.params) == ("POST", 201,
                                                       {"To": USER, "From": BOT, "Body": "שלום"})
    assert fake.seen(USER) == ["שלום"]
    fake.settle()
    fetched = client.messages(message.sid or "").fetch()
    assert (fetched.status, fetched.sid) == ("delivered", message.sid)
    assert isinstance(fetched.date_sent, dt.datetime)


@stock_async_client
async def test_the_stock_async_client_sends_and_fetches(fake: FakeTwilio) -> None:
    fake.heard_from(USER)
    http = AsyncTwilioHttpClient()
    client = fake.attach(Client(fake.account_sid, fake.auth_token, http_client=http))
    try:
        message = await client.messages.create_async(
            to=USER, from_=BOT, body="a map", media_url=["https://example.org/a.png",
                                                         "https://example.org/b.png"])
        await asyncio.to_thread(fake.settle)  # blocking: not on the test's loop
        fetched = await client.messages(message.sid or "").fetch_async()
    finally:
        await http.close()
    assert re.fullmatch(r"MM[0-9a-f]{32}", message.sid or "")
    assert (message.num_media, fetched.status) == ("2", "delivered")
    assert fake.messages(USER)[0].media_urls == ("https://example.org/a.png",
                                                 "https://example.org/b.png")


def test_wrong_credentials_are_401_20003(fake: FakeTwilio) -> None:
    client = fake.attach(Client(fake.account_sid, "not-the-token"))
    with pytest.raises(TwilioRestException) as info:
        client.messages.create(to=USER, from_=BOT, body="hi")
    assert refused(info) == (401, 20003)
    assert "Authenticate" in info.value.msg
    assert fake.messages() == []


def test_another_account_in_the_path_is_404(fake: FakeTwilio) -> None:
    client = fake.attach(Client(fake.account_sid, fake.auth_token, account_sid="AC" + "1" * 32))
    with pytest.raises(TwilioRestException) as info:
        client.messages.create(to=USER, from_=BOT, body="hi")
    assert refused(info) == (404, 20404)


def test_body_is_limited_to_1600_characters(client: Client, fake: FakeTwilio) -> None:
    fake.heard_from(USER)
    client.messages.create(to=USER, from_=BOT, body="א" * 1600)
    with pytest.raises(TwilioRestException) as info:
        client.messages.create(to=USER, from_=BOT, body="א" * 1601)
    assert refused(info) == (400, 21617)
    assert "1600 character limit" in info.value.msg
    assert len(fake.messages()) == 1


@pytest.mark.parametrize(("fields", "code"), [
    ({"to": "+972501234567", "body": "x"}, 21211),  # an SMS number, not a WhatsApp address
    ({"to": "whatsapp:972501234567", "body": "x"}, 21211),
    ({"to": USER, "from_": "+14155238886", "body": "x"}, 21212),
    ({"to": USER}, 21619),
    ({"to": USER, "body": ""}, 21619),
    ({"to": USER, "content_sid": "HX" + "0" * 32}, 21655),
    ({"to": USER, "body": "x", "content_variables": "{}"}, 21654),
    ({"to": USER, "body": "x", "status_callback": "not a url"}, 21609),
])
def test_invalid_sends_are_refused_with_twilios_code(client: Client, fields: dict[str, Any],
                                                     code: int) -> None:
    with pytest.raises(TwilioRestException) as info:
        client.messages.create(**{"from_": BOT, **fields})
    assert refused(info) == (400, code)


# -- contents ---------------------------------------------------------------------------------


def test_quick_reply_content_is_created_and_sent(client: Client, fake: FakeTwilio) -> None:
    content = client.content.v1.contents.create(content_request(QUICK_REPLY, {"1": "friend"}))
    assert re.fullmatch(r"HX[0-9a-f]{32}", content.sid or "")
    assert (content.account_sid, content.language, content.variables) == (
        fake.account_sid, "he", {"1": "friend"})
    assert content.types == QUICK_REPLY
    assert isinstance(content.date_created, dt.datetime)
    assert content.url == f"https://content.twilio.com/v1/Content/{content.sid}"
    assert fake.contents[content.sid or ""]["types"] == QUICK_REPLY
    fake.heard_from(USER)
    sent = client.messages.create(to=USER, from_=BOT, content_sid=content.sid,
                                  content_variables=json.dumps({"1": "Dana"}))
    client.messages.create(to=USER, from_=BOT, content_sid=content.sid)  # the default
    assert sent.body == "Hello Dana, ready?"
    assert fake.seen(USER) == ["Hello Dana, ready?\n[Yes] [Not now]",
                               "Hello friend, ready?\n[Yes] [Not now]"]
    assert fake.messages(USER)[0].content_variables == {"1": "Dana"}
    for variables in ("not json", '["Dana"]', '{"1": {"name": "Dana"}}'):
        with pytest.raises(TwilioRestException) as info:
            client.messages.create(to=USER, from_=BOT, content_sid=content.sid,
                                   content_variables=variables)
        assert refused(info) == (400, 21656)


async def test_list_picker_content_through_the_async_client(fake: FakeTwilio) -> None:
    http = FixedAsyncTwilioHttpClient()
    client = fake.attach(Client(fake.account_sid, fake.auth_token, http_client=http))
    fake.heard_from(USER)
    try:
        content = await client.content.v1.contents.create_async(content_request(LIST_PICKER))
        await client.messages.create_async(
            to=USER, from_=BOT, content_sid=content.sid,
            content_variables=json.dumps({"1": "Dana", "2": "East"}))
    finally:
        await http.close()
    assert content.types == LIST_PICKER
    assert fake.seen(USER) == ["Which neighbourhood, Dana?\n[Choose] North | South | East"]


@stock_async_client
async def test_the_stock_async_client_cannot_create_content(fake: FakeTwilio) -> None:
    """twilio/twilio-python#932: the body goes out form-encoded under a JSON content type,
    which Twilio refuses with 400 ("Request input may be invalid"); so does the fake."""
    http = AsyncTwilioHttpClient()
    client = fake.attach(Client(fake.account_sid, fake.auth_token, http_client=http))
    try:
        with pytest.raises(TwilioRestException) as info:
            await client.content.v1.contents.create_async(content_request(QUICK_REPLY))
    finally:
        await http.close()
    assert info.value.status == 400
    assert fake.contents == {}


def _with(base: dict[str, Any], kind: str, **changes: Any) -> dict[str, Any]:
    return {kind: {**base[kind], **changes}}


@pytest.mark.parametrize("types", [
    _with(QUICK_REPLY, "twilio/quick-reply",
          actions=[{"title": f"Option {i}", "id": str(i)} for i in range(4)]),
    _with(QUICK_REPLY, "twilio/quick-reply", actions=[]),
    _with(QUICK_REPLY, "twilio/quick-reply", actions=[{"title": "x" * 21, "id": "1"}]),
    _with(QUICK_REPLY, "twilio/quick-reply", actions=[{"title": "ok", "id": "x" * 201}]),
    _with(QUICK_REPLY, "twilio/quick-reply", body=""),
    _with(LIST_PICKER, "twilio/list-picker", items=[{"item": "x" * 25, "id": "1"}]),
    _with(LIST_PICKER, "twilio/list-picker",
          items=[{"item": f"Item {i}", "id": str(i)} for i in range(11)]),
    _with(LIST_PICKER, "twilio/list-picker", button="x" * 21),
    _with(LIST_PICKER, "twilio/list-picker",
          items=[{"item": "ok", "id": "1", "description": "x" * 73}]),
    _with(LIST_PICKER, "twilio/list-picker",
          items=[{"item": "one", "id": "1"}, {"item": "two", "id": "1"}]),
    {"twilio/text": {"body": "x" * 1601}},
    {"twilio/card": {"title": "not modelled"}},
    {},
], ids=["4-buttons", "no-buttons", "21-char-title", "201-char-id", "no-body", "25-char-item",
        "11-items", "21-char-button", "73-char-description", "duplicate-ids", "long-text",
        "unmodelled-type", "no-types"])
def test_invalid_contents_are_refused(client: Client, fake: FakeTwilio,
                                      types: dict[str, Any]) -> None:
    with pytest.raises(TwilioRestException) as info:
        client.content.v1.contents.create(content_request(types))
    assert refused(info) == (400, 20001)
    assert fake.contents == {}


def test_content_needs_a_language(client: Client) -> None:
    with pytest.raises(TwilioRestException) as info:
        client.content.v1.contents.create(content_request(QUICK_REPLY, language=None))
    assert refused(info) == (400, 20001)


# -- the 24-hour window and status callbacks ----------------------------------------------------


def test_outside_the_window_only_an_approved_template_is_delivered(
        client: Client, fake: FakeTwilio, receiver: Receiver) -> None:
    free = client.messages.create(to=USER, from_=BOT, body="are you there?",
                                  status_callback=receiver.url)
    assert free.status == "queued"  # accepted: the failure comes later, as at Twilio
    template = client.content.v1.contents.create(
        content_request({"twilio/text": {"body": "Results are in, {{1}}"}}))
    before = client.messages.create(to=USER, from_=BOT, content_sid=template.sid,
                                    status_callback=receiver.url)
    fake.approve(template.sid or "")
    approved = client.messages.create(to=USER, from_=BOT, content_sid=template.sid,
                                      content_variables='{"1": "Dana"}',
                                      status_callback=receiver.url)
    fake.settle()
    assert fake.seen(USER) == ["Results are in, Dana"]
    by_sid = {r.params["MessageSid"]: r.params for r in receiver.received}
    for sid in (free.sid, before.sid):
        assert (by_sid[sid]["MessageStatus"], by_sid[sid]["ErrorCode"]) == ("failed", "63016")
        assert [m.error_code for m in fake.messages() if m.sid == sid] == [63016]
    fetched = client.messages(free.sid or "").fetch()
    assert (fetched.status, fetched.error_code) == ("failed", 63016)
    assert [r.params["MessageStatus"] for r in receiver.received
            if r.params["MessageSid"] == approved.sid] == ["sent", "delivered"]
    picker = client.content.v1.contents.create(content_request(LIST_PICKER))
    with pytest.raises(ValueError, match="list-picker"):
        fake.approve(picker.sid or "")


def test_the_window_lasts_24_hours_from_the_users_last_message(
        client: Client, fake: FakeTwilio) -> None:
    fake.heard_from(USER, at=time.time() - 23 * 3600)
    fake.heard_from(OTHER, at=time.time() - 25 * 3600)
    client.messages.create(to=USER, from_=BOT, body="still in time")
    client.messages.create(to=OTHER, from_=BOT, body="too late")
    fake.settle()
    assert (fake.seen(USER), fake.seen(OTHER)) == (["still in time"], [])
    assert [m.status for m in fake.messages()] == ["delivered", "failed"]


def test_status_callbacks_are_signed_as_twilio_signs_them(
        client: Client, fake: FakeTwilio, receiver: Receiver) -> None:
    fake.read_receipts = True
    fake.heard_from(USER)
    message = client.messages.create(to=USER, from_=BOT, body="hi", status_callback=receiver.url)
    fake.settle()
    assert [r.params["MessageStatus"] for r in receiver.received] == ["sent", "delivered", "read"]
    validator = RequestValidator(fake.auth_token)
    for got in receiver.received:
        assert got.path == "/twilio/status?c=1"
        assert got.headers["Content-Type"] == "application/x-www-form-urlencoded"
        signature = got.headers["X-Twilio-Signature"]
        assert validator.validate(receiver.url, got.params, signature)
        assert not validator.validate(receiver.url, {**got.params, "MessageStatus": "x"},
                                      signature)
    sent = receiver.received[0].params
    assert sent == {"AccountSid": fake.account_sid, "ApiVersion": "2010-04-01",
                    "ChannelInstallSid": sent["ChannelInstallSid"], "ChannelPrefix": "whatsapp",
                    "ChannelToAddress": "+97250123XXXX", "From": BOT, "To": USER,
                    "MessageSid": message.sid, "SmsSid": message.sid,
                    "MessageStatus": "sent", "SmsStatus": "sent"}
    assert receiver.received[2].params["EventType"] == "READ"
    assert [(c.status, c.params["MessageStatus"]) for c in fake.callbacks] == [
        (200, "sent"), (200, "delivered"), (200, "read")]


def test_callbacks_can_be_off_or_unanswered(client: Client, fake: FakeTwilio,
                                            receiver: Receiver) -> None:
    fake.heard_from(USER)
    fake.callbacks_enabled = False
    client.messages.create(to=USER, from_=BOT, body="quiet", status_callback=receiver.url)
    fake.settle()
    assert (receiver.received, fake.callbacks) == ([], [])
    assert fake.messages()[0].status == "delivered"
    fake.callbacks_enabled = True
    nowhere = Receiver()
    nowhere.close()  # nothing listens there any more
    client.messages.create(to=USER, from_=BOT, body="lost", status_callback=nowhere.url)
    fake.settle()
    assert [(c.status, c.error is not None) for c in fake.callbacks] == [(None, True)] * 2


def test_a_callback_delay_holds_the_statuses_back(client: Client, fake: FakeTwilio,
                                                 receiver: Receiver) -> None:
    fake.heard_from(USER)
    fake.callback_delay = 0.2
    message = client.messages.create(to=USER, from_=BOT, body="hi", status_callback=receiver.url)
    assert (fake.messages()[0].status, receiver.received) == ("queued", [])
    assert fake.seen(USER) == ["hi"]  # decided on arrival
    fake.settle()
    assert [r.params["MessageStatus"] for r in receiver.received] == ["sent", "delivered"]
    assert client.messages(message.sid or "").fetch().status == "delivered"


def test_a_messaging_service_sender_is_accepted_then_queued(client: Client, fake: FakeTwilio,
                                                            receiver: Receiver) -> None:
    fake.heard_from(USER)
    service = "MG" + "a" * 32
    message = client.messages.create(to=USER, messaging_service_sid=service, body="hi",
                                     status_callback=receiver.url)
    assert (message.status, message.from_, message.messaging_service_sid) == (
        "accepted", None, service)
    fake.settle()
    assert [r.params["MessageStatus"] for r in receiver.received] == ["sent", "delivered"]
    assert receiver.received[0].params["MessagingServiceSid"] == service


# -- limits and injected failures ---------------------------------------------------------------


def test_a_sender_over_its_rate_gets_429_20429() -> None:
    with FakeTwilio(sender_limit=(3, 0.4)) as fake:
        client = fake.attach(Client(fake.account_sid, fake.auth_token))
        fake.heard_from(USER)
        for i in range(3):
            client.messages.create(to=USER, from_=BOT, body=f"{i}")
        with pytest.raises(TwilioRestException) as info:
            client.messages.create(to=USER, from_=BOT, body="one too many")
        assert refused(info) == (429, 20429)
        assert "Too Many Requests" in info.value.msg
        client.messages.create(to=USER, from_="whatsapp:+14155238887", body="another sender")
        time.sleep(0.4)
        client.messages.create(to=USER, from_=BOT, body="later")
        assert fake.rejected_429 == 1
        assert fake.seen(USER) == ["0", "1", "2", "another sender", "later"]


def test_injected_failures_match_and_run_out(client: Client, fake: FakeTwilio) -> None:
    fake.heard_from(USER)
    fake.heard_from(OTHER)
    fake.fail(500, 20500)
    with pytest.raises(TwilioRestException) as info:
        client.messages.create(to=USER, from_=BOT, body="lost")
    assert refused(info) == (500, 20500)
    fake.fail(429, 20429, times=2, to=OTHER)
    fake.fail(503, 20503, path_contains="/v1/Content")
    client.messages.create(to=USER, from_=BOT, body="through")
    for _ in range(2):
        with pytest.raises(TwilioRestException) as info:
            client.messages.create(to=OTHER, from_=BOT, body="refused")
        assert refused(info) == (429, 20429)
    client.messages.create(to=OTHER, from_=BOT, body="through")
    with pytest.raises(TwilioRestException) as info:
        client.content.v1.contents.create(content_request(QUICK_REPLY))
    assert refused(info) == (503, 20503)
    assert (fake.seen(USER), fake.seen(OTHER), fake.rejected_429) == (["through"], ["through"], 0)


def test_a_slow_answer_times_out_the_client_but_the_message_is_sent(fake: FakeTwilio) -> None:
    fake.heard_from(USER)
    client = fake.attach(Client(fake.account_sid, fake.auth_token,
                                http_client=TwilioHttpClient(timeout=0.2)))
    fake.slow(0.6)
    with pytest.raises(requests.exceptions.Timeout):
        client.messages.create(to=USER, from_=BOT, body="late")
    client.messages.create(to=USER, from_=BOT, body="on time")
    assert fake.seen(USER) == ["late", "on time"]


# -- inbound webhooks ---------------------------------------------------------------------------


def test_inbound_params_are_what_twilio_posts_and_sign(client: Client, fake: FakeTwilio) -> None:
    params = inbound(fake, frm=USER, to=BOT, body="שלום")
    assert params == {
        "SmsMessageSid": params["MessageSid"], "NumMedia": "0", "ProfileName": "Dana",
        "MessageType": "text", "SmsSid": params["MessageSid"], "WaId": "972501234567",
        "SmsStatus": "received", "Body": "שלום", "To": BOT, "NumSegments": "1",
        "ReferralNumMedia": "0", "MessageSid": params["MessageSid"],
        "AccountSid": fake.account_sid, "From": USER, "ApiVersion": "2010-04-01",
    }
    assert re.fullmatch(r"SM[0-9a-f]{32}", params["MessageSid"])
    validator = RequestValidator(fake.auth_token)
    assert validator.validate(WEBHOOK, params, fake.sign(WEBHOOK, params))
    assert not validator.validate(WEBHOOK, {**params, "Body": "x"}, fake.sign(WEBHOOK, params))
    client.messages.create(to=USER, from_=BOT, body="writing opened the window")
    assert fake.seen(USER) == ["writing opened the window"]


def test_inbound_taps_picks_replies_and_media(fake: FakeTwilio) -> None:
    tap = inbound(fake, frm=USER, to=BOT, button=("Yes", "answer:yes"), replied_to="SM" + "1" * 32)
    assert (tap["Body"], tap["ButtonText"], tap["ButtonPayload"], tap["MessageType"]) == (
        "Yes", "Yes", "answer:yes", "interactive")
    assert (tap["OriginalRepliedMessageSid"], tap["OriginalRepliedMessageSender"]) == (
        "SM" + "1" * 32, BOT)
    pick = inbound(fake, frm=USER, to=BOT, list_reply=("North", "n:1"), sid="SM" + "2" * 32)
    assert (pick["Body"], pick["ListTitle"], pick["ListId"], pick["MessageSid"]) == (
        "North", "North", "n:1", "SM" + "2" * 32)
    photo = inbound(fake, frm=USER, to=BOT, media=[("https://api.twilio.com/m/1", "image/jpeg"),
                                                   ("https://api.twilio.com/m/2", "image/png")],
                    extra={"MessagingServiceSid": "MG" + "a" * 32})
    assert photo["MessageSid"].startswith("MM")
    assert (photo["NumMedia"], photo["MediaUrl1"], photo["MediaContentType0"],
            photo["MessageType"], photo["Body"]) == ("2", "https://api.twilio.com/m/2",
                                                     "image/jpeg", "image", "")
    assert photo["MessagingServiceSid"] == "MG" + "a" * 32
    with pytest.raises(ValueError):
        inbound(fake, frm="+972501234567", to=BOT)


def test_reset_forgets_everything(client: Client, fake: FakeTwilio) -> None:
    fake.heard_from(USER)
    client.messages.create(to=USER, from_=BOT, body="hi")
    fake.fail(500, 20500)
    fake.reset()
    assert (fake.calls, fake.messages(), fake.contents, fake.callbacks) == ([], [], {}, [])
    client.messages.create(to=USER, from_=BOT, body="outside the window again")
    assert fake.seen(USER) == []
