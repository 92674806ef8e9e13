"""kolot invite and kolot stats, as an organiser runs them."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner
from PIL import Image
from sqlalchemy import select

from bot.channels.base import Inbound
from bot.cli import main
from bot.registry import FlowRegistry
from bot.service import Service
from storage.database import make_engine, make_session_factory
from storage.models import Invite, Run

ROOT = Path(__file__).resolve().parents[2]
PARK = ROOT / "flows" / "examples" / "neighbourhood-park.yaml"


def test_invite_prints_both_links_writes_qr_codes_and_counts_who_came(
    tmp_path: Path, monkeypatch: object
) -> None:
    url = f"sqlite:///{tmp_path}/k.db"
    runner = CliRunner(env={"KOLOT_TWILIO_FROM": "whatsapp:+14155238886",
                            "KOLOT_TELEGRAM_USERNAME": "kolot_park_bot"})
    made = runner.invoke(main, ["invite", str(PARK), "--source", "poster-north",
                                "--circle", "residents", "--out", str(tmp_path), "--db", url])
    assert made.exit_code == 0, made.output
    code = re.search(r"invite code (\S+):", made.output).group(1)  # type: ignore[union-attr]
    assert f"https://t.me/kolot_park_bot?start={code}" in made.output
    assert f"https://wa.me/14155238886?text={code}" in made.output
    for channel in ("telegram", "whatsapp"):
        picture = tmp_path / f"neighbourhood-park-poster-north-{channel}.png"
        with Image.open(picture) as image:
            assert image.size[0] > 100 and image.size[0] == image.size[1]
    engine = make_engine(url)
    factory = make_session_factory(engine)
    try:
        with factory() as session:
            stored = session.get(Invite, code)
            assert stored is not None
            assert (stored.flow_id, stored.source, stored.circle) == (
                "neighbourhood-park", "poster-north", "residents")
        registry = FlowRegistry()
        registry.add_file(PARK)
        service = Service(factory, registry)
        service.handle(Inbound("telegram", "501", "u1", command="start", start_payload=code),
                       None)
        service.handle(Inbound("telegram", "501", "u2", text="כן"), None)
        service.handle(Inbound("telegram", "502", "u3", command="start"), None)
        with factory() as session:
            assert {r.source for r in session.scalars(select(Run))} == {"poster-north", None}
    finally:
        engine.dispose()
    shown = runner.invoke(main, ["stats", str(PARK), "--format", "json", "--db", url])
    assert shown.exit_code == 0, shown.output
    figures = json.loads(shown.output)
    stages = {s["name"]: s["count"] for s in figures["stages"]}
    assert (stages["reached"], stages["consented"]) == (2, 1)
    by = {b["dimension"]: {s["value"]: s["count"] for s in b["shares"]}
          for b in figures["breakdowns"]}
    assert by["source"] == {"poster-north": 1} and by["circle"] == {"residents": 1}
    text = runner.invoke(main, ["stats", "neighbourhood-park", "--db", url])
    assert text.exit_code == 0 and "poster-north" in text.output


def test_invite_refuses_sources_that_would_break_a_link(tmp_path: Path) -> None:
    done = CliRunner().invoke(main, ["invite", str(PARK), "--source", "a poster!",
                                     "--db", f"sqlite:///{tmp_path}/k.db"])
    assert done.exit_code != 0 and "letters, digits" in done.output
