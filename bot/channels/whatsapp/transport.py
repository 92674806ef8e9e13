"""The Twilio SDK's asynchronous HTTP client, with two faults of twilio 9.13 mended.

* The Content API is JSON, but the SDK hands every body to aiohttp as ``data=``, which
  form-encodes a dict whatever the ``Content-Type`` says, so creating a content fails
  (twilio/twilio-python#932). A JSON body goes out as JSON here.
* It authenticates with ``aiohttp.BasicAuth`` through ``auth=``, both deprecated in aiohttp
  3.14 (two warnings a request). The ``Authorization`` header is written here instead.

And its connection pool is opened on the first request, inside the event loop, rather than
when the client is made: ``kolot serve`` builds its channels before uvicorn starts the loop,
and aiohttp refuses to open a session outside one.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response

__all__ = ["TwilioHttp"]


class TwilioHttp(AsyncTwilioHttpClient):  # type: ignore[misc]  # the SDK is untyped
    session: aiohttp.ClientSession | None

    def __init__(self) -> None:
        super().__init__(pool_connections=False)

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        if self.session is None:
            self.session = aiohttp.ClientSession()
        headers = dict(headers or {})
        if auth is not None:
            headers["Authorization"] = aiohttp.encode_basic_auth(*auth)
        body: Any = data
        if data is not None and headers.get("Content-Type") == "application/json":
            body = json.dumps(data, ensure_ascii=False).encode()
        return await super().request(method, url, params, body, headers, None, timeout,
                                     allow_redirects)
