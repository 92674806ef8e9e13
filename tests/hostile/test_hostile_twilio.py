"""Hostile posts to the WhatsApp webhook, through the real app: Twilio's real form with
fields deleted, changed or added and then signed as Twilio signs, so they pass the
signature check and reach parsing; forms that are no forms; bad signatures. The answer is
never 5xx (only 200/400/403/413) and a refused post writes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from fakes.twilio_api import FakeTwilio, inbound
from hostile_web import ALLOWED, BASE_URL, LIMIT, App, hostile, running
from hypothesis import given
from hypothesis import strategies as st
from whatsapp_harness import SENDER

from bot.web import WHATSAPP_WEBHOOK

URL = BASE_URL + WHATSAPP_WEBHOOK


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server


@pytest.fixture
async def app(tmp_path: Path, twilio: FakeTwilio) -> AsyncIterator[App]:
    async with running(tmp_path / "kolot.db", twilio_account_sid=twilio.account_sid,
                       twilio_auth_token=twilio.auth_token, twilio_from=SENDER,
                       twilio_api_url=twilio.url) as served:
        yield served


async def _post(app: App, body: bytes, signature: str | None) -> int:
    before = app.counts()
    headers = {"content-type": "application/x-www-form-urlencoded"}
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    response = await app.client.post(WHATSAPP_WEBHOOK, content=body, headers=headers)
    assert response.status_code in ALLOWED, (response.status_code, response.text, body[:300])
    if response.status_code != 200:
        assert app.counts() == before, f"a {response.status_code} wrote rows"
    return response.status_code


def _real(twilio: FakeTwilio, n: int, body: str, kind: str) -> dict[str, str]:
    phone = f"whatsapp:+97250{n:07d}"
    if kind == "button":
        return inbound(twilio, frm=phone, to=SENDER, button=(body or "Yes", "1"))
    if kind == "list":
        return inbound(twilio, frm=phone, to=SENDER, list_reply=(body or "North", "2"))
    if kind == "media":
        return inbound(twilio, frm=phone, to=SENDER, body=body,
                       media=[("https://api.twilio.com/m/1", "image/jpeg")])
    return inbound(twilio, frm=phone, to=SENDER, body=body)


FIELDS = ["From", "To", "Body", "WaId", "MessageSid", "SmsSid", "NumMedia", "MessageType",
          "ButtonPayload", "ButtonText", "ListId", "ListTitle", "OriginalRepliedMessageSid",
          "ProfileName", "AccountSid", "MediaUrl0", "MediaContentType0", "MessageStatus"]
VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", "whatsapp:", "whatsapp:+", "whatsapp:+1", "+972501234567",
                     "whatsapp:+972501234567", "sms:+972501234567", "-1", "99999999999999999999",
                     "1e9", "NaN", "text", "interactive", "image", "button", "whatsapp:+٠١٢"]),
    st.integers(-10**20, 10**20).map(str),
)
MUTATION = st.tuples(st.sampled_from(["delete", "set"]), st.sampled_from(FIELDS), VALUES)


@hostile(150)
@given(n=st.integers(0, 40), text=st.text(max_size=60),
       kind=st.sampled_from(["text", "button", "list", "media"]),
       mutations=st.lists(MUTATION, max_size=5))
async def test_signed_mutated_forms_are_never_a_server_error(
    app: App, twilio: FakeTwilio, n: int, text: str, kind: str, mutations: list[Any]
) -> None:
    params = _real(twilio, n, text, kind)
    for what, field, value in mutations:
        if what == "delete":
            params.pop(field, None)
        else:
            params[field] = value
    await _post(app, urlencode(params).encode(), twilio.sign(URL, params))


@hostile(60)
@given(form=st.dictionaries(st.text(max_size=15), st.text(max_size=30), max_size=8))
async def test_signed_random_forms_are_never_a_server_error(
    app: App, twilio: FakeTwilio, form: dict[str, str]
) -> None:
    await _post(app, urlencode(form).encode(), twilio.sign(URL, form))


@hostile(80)
@given(body=st.one_of(st.binary(max_size=200), st.just(b"\xff\xfe=1"), st.just(b"a=%ff"),
                      st.just(b"&&=&"), st.just(b"x" * (LIMIT + 1)),
                      st.text(max_size=50).map(str.encode)),
       signature=st.none() | st.sampled_from(["", "bad", "AAAA"])
       | st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=30))
async def test_raw_bodies_and_bad_signatures_are_refused(
    app: App, body: bytes, signature: str | None
) -> None:
    await _post(app, body, signature)
