"""python-telegram-bot's HTTP transport on aiohttp instead of httpx.

``telegram.Bot`` sends every request through a ``telegram.request.BaseRequest``; the
default is httpx, whose connection pool scans every connection it holds on each request
(a ``poll`` and a ``getpeername`` apiece), so a sender with dozens of requests in flight
spends more time in the pool than on the wire: measured against the fake Bot API, 445
requests/s with 8 in flight and 267 with 32, against 2,600 through aiohttp (see
docs/benchmarks.md). The Bot, its types and its errors stay python-telegram-bot's; only
the bytes go another way. Errors are mapped as ``HTTPXRequest`` maps them: timeouts to
``TimedOut``, anything else that stops a request to ``NetworkError``; when the request
had gone out (no answer, or a broken one) the error is also :class:`Unanswered`.
"""

from __future__ import annotations

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot.channels.unanswered import may_have_arrived

__all__ = ["AiohttpRequest", "Unanswered", "UnansweredTimeout"]


class Unanswered(NetworkError):
    """The request went out and no (whole) answer came back: it may have taken effect."""


class UnansweredTimeout(TimedOut, Unanswered):
    """No answer within the read timeout."""


class AiohttpRequest(BaseRequest):
    __slots__ = ("_connect", "_connections", "_read", "_session")

    def __init__(
        self, *, connections: int = 64, read_timeout: float = 10.0, connect_timeout: float = 5.0
    ) -> None:
        self._connections = connections
        self._read = read_timeout
        self._connect = connect_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float:
        return self._read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections),
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=self._connect,
                                              sock_read=self._read),
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: float | object | None = BaseRequest.DEFAULT_NONE,
        write_timeout: float | object | None = BaseRequest.DEFAULT_NONE,
        connect_timeout: float | object | None = BaseRequest.DEFAULT_NONE,
        pool_timeout: float | object | None = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("this AiohttpRequest is not initialized")
        read = self._read if read_timeout is BaseRequest.DEFAULT_NONE else read_timeout
        connect = self._connect if connect_timeout is BaseRequest.DEFAULT_NONE \
            else connect_timeout
        timeout = aiohttp.ClientTimeout(
            total=None,
            sock_read=read if isinstance(read, (int, float)) else None,
            sock_connect=connect if isinstance(connect, (int, float)) else None,
        )
        fields = request_data.json_parameters if request_data else {}
        files = request_data.multipart_data if request_data else {}
        body: aiohttp.FormData | dict[str, str] = fields
        if files:
            form = aiohttp.FormData(fields)
            for name, (filename, content, mime) in files.items():
                form.add_field(name, content, filename=filename, content_type=mime)
            body = form
        try:
            async with self._session.request(
                method, url, data=body, timeout=timeout,
                headers={"User-Agent": self.USER_AGENT},
            ) as response:
                return response.status, await response.read()
        except TimeoutError as exc:
            raise (UnansweredTimeout() if may_have_arrived(exc) else TimedOut()) from exc
        except aiohttp.ClientError as exc:
            kind = Unanswered if may_have_arrived(exc) else NetworkError
            raise kind(f"aiohttp.{type(exc).__name__}: {exc}") from exc
