"""Telling a request that never left from one that left and got no answer.

A broadcast row whose request may have reached the platform must not be sent again
(:mod:`bot.outbox.attempts`); one that certainly did not (no connection could be made)
goes again as usual. aiohttp's errors say which: a failure to connect is before
anything was sent; a read timeout, a dropped connection or a broken answer is after.
"""

from __future__ import annotations

import aiohttp

__all__ = ["may_have_arrived"]


def may_have_arrived(error: BaseException) -> bool:
    if isinstance(error, (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError,
                          aiohttp.InvalidURL)):
        return False
    return isinstance(error, (aiohttp.ClientError, TimeoutError))
