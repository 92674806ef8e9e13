"""Hostile posts to the Telegram webhook, through the real app: random JSON, real updates
with fields deleted or retyped, wrong content types, bytes that are no UTF-8, bodies over
the limit, missing or wrong secrets. The answer is never 5xx (only 200/400/403/413) and a
refused request writes nothing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hostile_web import ALLOWED, JSON, LIMIT, App, hostile, mutated, running
from hypothesis import given
from hypothesis import strategies as st
from telegram_harness import SECRET, TOKEN
from telegram_updates import Person

from bot.web import SECRET_HEADER, TELEGRAM_WEBHOOK

HEADERS = {SECRET_HEADER: SECRET, "content-type": "application/json"}


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    async with running(tmp_path / "kolot.db", telegram_token=TOKEN,
                       telegram_secret=SECRET) as served:
        yield served


async def _post(app: App, body: bytes, headers: dict[str, str], *,
                allowed: set[int] = ALLOWED) -> int:
    before = app.counts()
    response = await app.client.post(TELEGRAM_WEBHOOK, content=body, headers=headers)
    assert response.status_code in allowed, (response.status_code, response.text, body[:300])
    if response.status_code != 200:
        assert app.counts() == before, f"a {response.status_code} wrote rows"
    return response.status_code


def _real(n: int, text: str, kind: str) -> dict[str, Any]:
    person = Person(900_000 + n, "he")
    if kind == "text":
        return person.text(text)
    if kind == "edited":
        return person.edited(text)
    if kind == "photo":
        return person.photo(text or None)
    bot_message = {"message_id": 5, "from": {"id": 123456, "is_bot": True,
                                             "first_name": "Kolot"},
                   "chat": person.chat, "date": 1_764_579_600, "text": "Q?"}
    return person.tap(bot_message, text)


REAL = st.builds(_real, st.integers(0, 50), st.text(max_size=40),
                 st.sampled_from(["text", "edited", "photo", "tap"]))


@hostile(120)
@given(data=JSON)
async def test_random_json_is_never_a_server_error(app: App, data: Any) -> None:
    await _post(app, json.dumps(data).encode(), HEADERS)


@hostile(150)
@given(data=REAL.flatmap(mutated))
async def test_mutated_real_updates_are_never_a_server_error(app: App, data: Any) -> None:
    """Real updates with fields deleted or retyped: 200 or 400, and a refused one leaves
    no row behind. (A chat-less message, a list where text goes, a callback query
    without a sender got 500 until read_update guarded all of its reading.)"""
    await _post(app, json.dumps(data).encode(), HEADERS)


def _without(update: dict[str, Any], *path: str) -> dict[str, Any]:
    inner = update
    for key in path[:-1]:
        inner = inner[key]
    del inner[path[-1]]
    return update


def _retyped(update: dict[str, Any], value: Any, *path: str) -> dict[str, Any]:
    inner = update
    for key in path[:-1]:
        inner = inner[key]
    inner[path[-1]] = value
    return update


BROKEN = {
    "message without chat": _without(Person(991_001).text("hi"), "message", "chat"),
    "edited_message without chat": _without(Person(991_002).edited("hi"),
                                            "edited_message", "chat"),
    "text is a list": _retyped(Person(991_003).text("hi"), ["hi"], "message", "text"),
    "text is a number": _retyped(Person(991_004).text("hi"), 7, "message", "text"),
    "callback_query without from": _without(_real(5, "1:0", "tap"), "callback_query", "from"),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
async def test_a_malformed_update_is_refused_with_400(app: App, name: str) -> None:
    status = await _post(app, json.dumps(BROKEN[name]).encode(), HEADERS)
    assert status == 400, f"{name}: answered {status}"


@hostile(60)
@given(data=REAL, text=st.text())
async def test_real_updates_with_any_text_are_applied(app: App, data: Any, text: str) -> None:
    update = Person(990_001).text(text)
    await _post(app, json.dumps(update).encode(), HEADERS)
    await _post(app, json.dumps(data).encode(), HEADERS)


CONTENT_TYPES = st.sampled_from([
    "application/json", "text/plain", "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x", "application/json; charset=latin-1", "", "\x7f/\x01",
])
BODIES = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=100).map(lambda t: t.encode("utf-16")),
    REAL.map(lambda u: json.dumps(u, ensure_ascii=False).encode("utf-8")[:-3] + b"\xff\xfe"),
    REAL.map(lambda u: json.dumps(u, ensure_ascii=False).encode("latin-1", "replace")),
    REAL.map(lambda u: b"\xef\xbb\xbf" + json.dumps(u).encode()),  # a BOM
    st.just(b'{"update_id": 1, "message": ' + b"1" * (LIMIT + 1) + b"}"),
    st.just(b""), st.just(b"null"), st.just(b"NaN"), st.just(b'{"update_id": 1e400}'),
)
SECRETS = st.sampled_from([SECRET, SECRET, "", "wrong", SECRET + " ", SECRET.upper()])


@hostile(120)
@given(body=BODIES, content_type=CONTENT_TYPES, secret=SECRETS)
async def test_raw_bodies_are_never_a_server_error(
    app: App, body: bytes, content_type: str, secret: str
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    if secret:
        headers[SECRET_HEADER] = secret
    await _post(app, body, headers)


async def test_deeply_nested_json_is_refused_with_400(app: App) -> None:
    """10 kB of nested brackets, under the size limit: Python's parser gives up with a
    RecursionError, which is bad JSON like any other (it was a 500)."""
    await _post(app, b"[" * 5_000 + b"]" * 5_000, HEADERS, allowed={400})


@hostile(40)
@given(data=REAL)
async def test_without_the_secret_nothing_is_written(app: App, data: Any) -> None:
    before = app.counts()
    response = await app.client.post(TELEGRAM_WEBHOOK, json=data)
    assert response.status_code == 403
    assert app.counts() == before
