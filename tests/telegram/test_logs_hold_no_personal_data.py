"""Privacy: no log record of a whole run names a participant or holds a secret.

One real server (``kolot serve``'s app, both channels, the project's own logging setup),
real webhook payloads, the real senders to the fake platforms, the scheduler by an injected
clock. People on Telegram and WhatsApp consent, answer, write free text, propose ideas and
vote; one sends /stop, one STOP; the platforms answer 429, 500, 403 (blocked) and Twilio
errors along the way; voting closes and the results go out; one of each channel asks for
their data (/mydata) and has it erased (/delete). Every record of every logger,
at DEBUG (uvicorn's included), is then searched for chat ids, phone numbers, the tokens,
the webhook secret, anything a participant typed and anything the bot sent.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from fakes.telegram_api import FakeTelegram
from telegram_harness import SECRET, TOKEN
from telegram_updates import Person
from two_channels import LIBRARY_LOGGERS, Process, serve_both

from bot.server import QUIET_LOGGERS, quiet_libraries

FLOW = """\
id: plaza
version: 1
title: The plaza
default_language: en
languages: [en]
timezone: Asia/Jerusalem
quiet_hours: {from: "00:00", to: "00:00"}
phases:
  - {id: ideas, starts: "2026-03-01 09:00", ends: "2026-03-10 21:00"}
  - {id: voting, starts: "2026-03-11 09:00", ends: "2026-03-20 21:00"}
results:
  after: voting
  top: 3
  publish: [bench]
  next: The council decides in April.
steps:
  - {id: consent, type: consent, text: Do you agree?}
  - {id: bench, type: yes_no, text: More benches?}
  - {id: wish, type: text, text: What would bring you to the plaza more often?, max_length: 500}
  - {id: idea, type: idea, text: Your idea for the plaza?, max_ideas: 1, phase: ideas}
  - {id: rank, type: vote, pool: idea, text: Which is better?, votes: 2, phase: voting}
  - {id: bye, type: end, text: Thanks!}
"""

# Ids and numbers long and odd enough not to turn up in a log by chance (a row id, a count).
TELEGRAM = [Person(604518271 + i, "en", name=f"Tester{i}") for i in range(5)]
PHONES = [f"+44770090031{i}" for i in range(5)]
WISHES = [f"wish number {i}: quieter evenings near the fountain" for i in range(10)]
IDEAS = ["a shaded reading corner with cushions", "free drinking water fountains",
         "a climbing wall for teenagers", "night lighting along the paths",
         "an outdoor chess table", "a weekly farmers market", "recycling bins by the gate",
         "a small stage for concerts", "a fenced dog run", "a splash pad for toddlers"]
FAKES = ("fake-telegram:", "fake-twilio:")
"""The fakes' server threads, by name (see their ``start``)."""


@pytest.fixture
def project_logging(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Everything at DEBUG into ``caplog``, under the project's own library levels."""
    names = (*QUIET_LOGGERS, *LIBRARY_LOGGERS)
    saved = {name: (logging.getLogger(name).level, logging.getLogger(name).propagate)
             for name in names}
    caplog.set_level(logging.DEBUG)
    quiet_libraries()
    try:
        yield caplog
    finally:
        for name, (level, propagate) in saved.items():
            logging.getLogger(name).setLevel(level)
            logging.getLogger(name).propagate = propagate


@pytest.fixture
async def run(fresh_database: str, fake: FakeTelegram, tmp_path: Path,
              project_logging: pytest.LogCaptureFixture) -> AsyncIterator[Process]:
    async with serve_both(fresh_database, fake, tmp_path, FLOW,
                          log_everything=True) as started:
        yield started


def everything_in(record: logging.LogRecord) -> str:
    """A record as any handler could write it: message, arguments, exception, stack and
    extra fields."""
    parts = [record.getMessage(), repr(record.args), record.exc_text or "",
             record.stack_info or ""]
    if record.exc_info and record.exc_info[1] is not None:
        parts.append("".join(traceback.format_exception(record.exc_info[1])))
    standard = logging.makeLogRecord({}).__dict__.keys() | {"message", "asctime"}
    parts += [repr(v) for k, v in record.__dict__.items() if k not in standard]
    return "\n".join(parts)


async def test_a_whole_run_logs_no_ids_numbers_tokens_or_texts(
    run: Process, project_logging: pytest.LogCaptureFixture
) -> None:
    telegram, twilio = run.telegram, run.twilio
    typed: list[str] = []

    # -- the ideas phase, with the platforms failing now and then ------------------------
    telegram.fail(429, retry_after=1, method="sendMessage")
    telegram.fail(500, chat_id=TELEGRAM[1].chat_id)
    twilio.fail(500, 20500, to=f"whatsapp:{PHONES[0]}")
    twilio.fail(429, 20429, to=f"whatsapp:{PHONES[1]}")
    twilio.fail(400, 21617, to=f"whatsapp:{PHONES[2]}")  # refused for good: a warning
    for i, person in enumerate(TELEGRAM):
        for text in ("/start", "yes", "yes" if i % 2 else "no", WISHES[i], IDEAS[i]):
            await run.telegram_says(person, text)
        typed += [WISHES[i], IDEAS[i]]
    for i, phone in enumerate(PHONES):
        for text in ("hello", "yes", "no", WISHES[5 + i], IDEAS[5 + i]):
            await run.whatsapp_says(phone, text)
        typed += [WISHES[5 + i], IDEAS[5 + i]]
    await run.settled()

    # -- voting: everyone is asked, votes; one of each channel opts out ------------------
    await run.tick("2026-03-20 08:00")
    for person in TELEGRAM:
        for text in ("1", "2", "no"):
            await run.telegram_says(person, text)
    for phone in PHONES:
        for text in ("1", "2", "no"):
            await run.whatsapp_says(phone, text)
    await run.settled()
    await run.telegram_says(TELEGRAM[4], "/stop")
    await run.whatsapp_says(PHONES[4], "STOP")
    await run.settled()

    # -- voting closes: one has blocked the bot, one number is gone, one 500 ------------
    telegram.block(TELEGRAM[3].chat_id)
    twilio.fail(400, 63024, to=f"whatsapp:{PHONES[3]}")
    twilio.fail(500, 20500, to=f"whatsapp:{PHONES[1]}")
    await run.tick("2026-03-20 19:01")
    results = telegram.texts(TELEGRAM[0].chat_id)[-3]
    assert "10 ideas" in results and "votes" in results and " 0 votes" not in results, results
    assert telegram.sent(TELEGRAM[0].chat_id)[-1].method == "sendMessage"
    assert any(m.media_urls for m in twilio.messages(f"whatsapp:{PHONES[0]}")), \
        "the results reached WhatsApp"

    # -- one of each channel asks for their data, then has it erased ----------------------
    await run.telegram_says(TELEGRAM[2], "/mydata")
    await run.whatsapp_says(PHONES[2], "my data")
    await run.settled()
    assert telegram.sent(TELEGRAM[2].chat_id)[-1].method == "sendDocument"
    for text in ("/delete", "delete"):
        await run.telegram_says(TELEGRAM[2], text)
        await run.whatsapp_says(PHONES[2], text if text == "delete" else "delete my data")
        await run.settled()
    erased = telegram.texts(TELEGRAM[2].chat_id)[-1]
    assert erased.startswith("Everything Kolot kept about you has been erased"), erased

    # -- what must never be logged ---------------------------------------------------------
    sent = [str(c.params.get(key)) for c in telegram.sent() for key in ("text", "caption")
            if c.params.get(key)]
    sent += [m.text for m in twilio.messages() if m.text]
    assert len(sent) > 50
    bot_texts = {t for text in sent for t in (text, *text.splitlines()) if len(t.strip()) >= 12}
    secrets = {TOKEN, TOKEN.split(":", 1)[1], twilio.auth_token, SECRET}
    addresses = {str(p.chat_id) for p in TELEGRAM}
    for phone in PHONES:
        addresses |= {phone, phone.removeprefix("+"), f"whatsapp:{phone}"}
    forbidden = {
        **{s: "a secret" for s in secrets},
        **{a: "a chat id or phone number" for a in addresses},
        **{t: "a participant's text" for t in typed},
        **{t: "a message the bot sent" for t in bot_texts},
    }

    # The fake platforms are servers of their own (their access log shows the token in
    # Telegram's paths): only the records of our process count, not theirs.
    everything = [*project_logging.get_records("setup"), *project_logging.records]
    records = [r for r in everything if not (r.threadName or "").startswith(FAKES)]
    assert len(records) < len(everything), "the fakes' threads are named"
    leaks = [f"{r.name} {r.levelname} ({kind}: {needle!r}): {r.getMessage()[:300]}"
             for r in records for text in [everything_in(r)]
             for needle, kind in forbidden.items() if needle in text]
    assert not leaks, "\n".join(leaks)

    # -- and the capture caught the run: uvicorn, the webhooks, the senders' warnings -----
    assert len(records) >= 50, [r.getMessage() for r in records]
    names = {r.name for r in records}
    assert "uvicorn.access" in names and "uvicorn.error" in names, names
    warnings = [r for r in records if r.name.startswith("bot.") and r.levelno >= logging.WARNING]
    assert len(warnings) >= 4, [r.getMessage() for r in warnings]
    assert any("asked to pause" in r.getMessage() for r in warnings), \
        [r.getMessage() for r in warnings]
    assert any("refused by Twilio" in r.getMessage() for r in warnings), \
        [r.getMessage() for r in warnings]
