"""The translators' template lists exactly the engine's participant-facing strings."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]


def _extracted() -> set[str]:
    with (ROOT / "babel.cfg").open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    found: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_the_template_is_up_to_date_with_the_code() -> None:
    with (ROOT / "locales" / "messages.pot").open("rb") as f:
        template = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    extracted = _extracted()
    assert extracted, "nothing extracted: is babel.cfg pointing at bot/?"
    assert template == extracted, (
        "locales/messages.pot is stale; regenerate it with: pybabel extract -F babel.cfg "
        "--no-location --sort-output --project=kolot -o locales/messages.pot ."
    )
