"""``kolot serve`` and ``kolot telegram``: starting, refusing to start, reloading flows,
polling instead of a webhook, registering the webhook, pictures and long texts."""

from __future__ import annotations

import asyncio
import os
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path
from typing import Any

import pytest
from fakes.telegram_api import FakeTelegram
from sqlalchemy import select
from telegram_harness import EXAMPLES, TOKEN, Served
from telegram_updates import Person

from bot.channels.base import Outbound
from bot.engine import FlowError
from bot.server import Runtime
from bot.settings import Settings, SettingsError
from storage import UnitOfWork
from storage.models import Answer, Run

CSW = EXAMPLES / "civil-service-women.yaml"
ROOT = Path(__file__).resolve().parents[2]


def png() -> bytes:
    """A real 1x1 PNG (Telegram's sendPhoto refuses bytes that are no image)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels)
            + chunk(b"IEND", b""))


async def queue(served: Served, address: str, message: Outbound) -> None:
    def write() -> None:
        with UnitOfWork(served.session_factory) as uow:
            person = uow.participants.get("telegram", address)
            assert person is not None
            uow.outbox.enqueue(person.id, "telegram", address, message.to_payload(),
                               now=person.created_at)
            uow.commit()

    await served.runtime.run_db(write)
    served.runtime.sender.wake()  # type: ignore[union-attr]
    await served.settled()


async def test_pictures_and_long_texts_reach_the_chat(serve: Any, tmp_path: Path) -> None:
    served = await serve(CSW)
    ana = Person(1201, "en")
    await served.post(ana.text("/start"))
    await served.settled()
    chart = tmp_path / "chart.png"
    chart.write_bytes(png())
    await queue(served, "1201", Outbound("The ideas that won", image=str(chart)))
    photo = served.fake.sent(1201)[-1]
    assert photo.method == "sendPhoto" and photo.params["photo"] == png()
    assert photo.params["caption"] == "The ideas that won"
    long = "\n\n".join(f"Paragraph {n}: " + " ".join(["words"] * 300) for n in range(6))
    await queue(served, "1201", Outbound(long))
    parts = [c.params["text"] for c in served.fake.sent(1201)[-3:]]
    assert all(len(p) <= 4096 for p in parts) and "\n\n".join(parts) == long


def test_serve_refuses_to_start_on_a_broken_flow_naming_file_line_and_step(
    tmp_path: Path,
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(CSW.read_text(encoding="utf-8").replace("next: barrier",
                                                              "next: nowhere"),
                      encoding="utf-8")
    env = {**os.environ, "KOLOT_FLOWS": str(broken), "KOLOT_TELEGRAM_TOKEN": TOKEN,
           "KOLOT_TELEGRAM_SECRET": "x", "KOLOT_DATABASE_URL": f"sqlite:///{tmp_path}/k.db",
           "KOLOT_PSEUDONYM_KEY": "k" * 32}
    done = subprocess.run([sys.executable, "-m", "bot", "serve"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert f"{broken}:" in done.stderr and "'route'" in done.stderr
    assert "nowhere" in done.stderr and "not starting" in done.stderr


def test_a_default_flow_must_exist_and_a_webhook_needs_its_secret(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/k.db", flows=(EXAMPLES,),
                        default_flow="no-such-flow")
    with pytest.raises(SettingsError, match="KOLOT_DEFAULT_FLOW"):
        Runtime(settings)
    env = {**os.environ, "KOLOT_FLOWS": str(CSW), "KOLOT_TELEGRAM_TOKEN": TOKEN,
           "KOLOT_DATABASE_URL": f"sqlite:///{tmp_path}/k.db"}
    env.pop("KOLOT_TELEGRAM_SECRET", None)
    done = subprocess.run([sys.executable, "-m", "bot", "serve"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "KOLOT_TELEGRAM_SECRET is not set" in done.stderr


async def test_sighup_reload_keeps_participants_on_the_version_they_started(
    serve: Any, tmp_path: Path
) -> None:
    flow = tmp_path / "csw.yaml"
    flow.write_text(CSW.read_text(encoding="utf-8"), encoding="utf-8")
    served = await serve(flow)
    early, late = Person(1301, "en"), Person(1302, "en")
    await served.post(early.text("/start"))
    await served.settled()
    flow.write_text(flow.read_text(encoding="utf-8").replace("version: 1", "version: 2")
                    .replace("Thank you for taking part!", "Thanks, from version 2!"),
                    encoding="utf-8")
    notes = served.runtime.reload_flows()
    assert any("loaded civil-service-women v2" in n for n in notes)
    broken = flow.read_text(encoding="utf-8").replace("type: end", "type: ending")
    flow.write_text(broken, encoding="utf-8")
    notes = served.runtime.reload_flows()
    assert any("kept the version loaded before" in n for n in notes)  # v2 still served
    for person in (early, late):
        for text in ("/start", "yes", "2", "1", "3", "skip", "no"):
            await served.post(person.text(text))
            await served.settled()
    assert served.fake.texts(1301)[-1] == "Thank you for taking part!"
    assert served.fake.texts(1302)[-1] == "Thanks, from version 2!"
    with served.session_factory() as session:
        assert [r.status for r in session.scalars(select(Run).order_by(Run.id))] == [
            "finished", "finished"]


async def test_polling_takes_the_same_path_as_the_webhook(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/k.db", flows=(CSW,),
                        telegram_token=TOKEN, telegram_api_url=fake.url)
    runtime = Runtime(settings, sender_idle=0.05)
    await runtime.start()
    polling = asyncio.create_task(runtime.poll())
    try:
        ana = Person(1401, "en")
        for text in ("/start", "yes", "1"):
            fake.push_update(ana.text(text))
        deadline = time.monotonic() + 20
        while len(fake.texts(1401)) < 4:
            assert time.monotonic() < deadline, fake.texts(1401)
            await asyncio.sleep(0.05)
        fake.push_update(ana.text("1"))  # topics
        while len(fake.texts(1401)) < 5:
            assert time.monotonic() < deadline, fake.texts(1401)
            await asyncio.sleep(0.05)
    finally:
        runtime._stop.set()
        polling.cancel()
        await asyncio.gather(polling, return_exceptions=True)
        await runtime.stop()
    assert fake.texts(1401)[2:] == ["Where do you work?",
                                    "Which topics matter most? Choose up to two.",
                                    "How important is this issue to you?"]
    with UnitOfWork(runtime.session_factory) as uow:
        stored = dict(uow.session.execute(select(Answer.step_id, Answer.value)).all())
    assert stored == {"sector": "public", "topics": ["childcare"]}


def test_set_webhook_registers_the_url_with_a_new_secret(fake: FakeTelegram) -> None:
    env = {**os.environ, "KOLOT_TELEGRAM_TOKEN": TOKEN, "KOLOT_TELEGRAM_API_URL": fake.url,
           "KOLOT_PUBLIC_URL": "https://kolot.example.org/"}
    env.pop("KOLOT_TELEGRAM_SECRET", None)
    done = subprocess.run([sys.executable, "-m", "bot", "telegram", "set-webhook"], env=env,
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    secret = done.stdout.strip().splitlines()[-1].removeprefix("KOLOT_TELEGRAM_SECRET=")
    assert fake.webhook is not None
    assert fake.webhook["url"] == "https://kolot.example.org/telegram/webhook"
    assert fake.webhook["secret_token"] == secret and len(secret) >= 32
    assert set(fake.webhook["allowed_updates"]) == {
        "message", "edited_message", "callback_query", "my_chat_member"}
    env["KOLOT_TELEGRAM_SECRET"] = "kept-as-configured"
    done = subprocess.run([sys.executable, "-m", "bot", "telegram", "set-webhook"], env=env,
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "KOLOT_TELEGRAM_SECRET=" not in done.stdout
    assert fake.webhook["secret_token"] == "kept-as-configured"


def test_a_broken_flow_is_a_flow_error_with_every_problem(tmp_path: Path) -> None:
    from bot.server import load_flows

    one, two = tmp_path / "a.yaml", tmp_path / "b.yaml"
    one.write_text("id: a\n", encoding="utf-8")
    two.write_text("id: [\n", encoding="utf-8")
    with pytest.raises(FlowError) as raised:
        load_flows([tmp_path])
    files = {d.file for d in raised.value.diagnostics}
    assert files == {str(one), str(two)}
