"""A real server with both channels (``two_channels.serve_both``: the app ``kolot serve``
runs, the real senders to the fake platforms, an injected clock), with the flood limit at
its default, its windows counted on the injected clock (the service's)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from abuse_harness import LONG_FLOW, questions_flow
from fakes.telegram_api import FakeTelegram
from telegram_harness import TOKEN
from two_channels import Process, serve_both


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    # The fake's per-chat cap lifted: these tests count what is sent, not how fast.
    with FakeTelegram(TOKEN, chat_limit=(100, 1.0)) as server:
        yield server


@pytest.fixture
async def process(fresh_database: str, fake: FakeTelegram,
                  tmp_path: Path) -> AsyncIterator[Process]:
    """The server for :func:`abuse_harness.questions_flow`."""
    async with serve_both(fresh_database, fake, tmp_path, questions_flow()) as started:
        yield started


@pytest.fixture
async def long_process(fresh_database: str, fake: FakeTelegram,
                       tmp_path: Path) -> AsyncIterator[Process]:
    """The server for :data:`abuse_harness.LONG_FLOW`."""
    async with serve_both(fresh_database, fake, tmp_path, LONG_FLOW) as started:
        yield started
