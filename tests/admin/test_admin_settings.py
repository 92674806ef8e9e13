"""KOLOT_ADMINS and KOLOT_BROADCASTS: addresses as the channels store them, and mistakes
named with the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, parse_admins

URL = "sqlite:///kolot.db"


def test_admins_are_stored_the_way_each_channel_stores_addresses() -> None:
    assert parse_admins("telegram:123456, whatsapp:+972501234567") == {
        ("telegram", "123456"), ("whatsapp", "whatsapp:+972501234567")}
    # Twilio's From is "whatsapp:+<E.164>": written any common way, it matches that.
    for written in ("whatsapp:972501234567", "whatsapp:+972 50-123-4567",
                    "WhatsApp:whatsapp:+972501234567", "whatsapp:(+972) 50 123 4567"):
        assert parse_admins(written) == {("whatsapp", "whatsapp:+972501234567")}
    assert parse_admins(None) == parse_admins("") == parse_admins(" , ") == frozenset()


@pytest.mark.parametrize("value", ["123456", "telegram:@dana", "telegram:-100123",
                                   "whatsapp:050-123", "console:dana", "sms:+972501234567"])
def test_a_bad_admin_is_named_with_the_variable(value: str) -> None:
    with pytest.raises(SettingsError, match=r"^KOLOT_ADMINS: .* is not channel:address"):
        Settings.from_env({"KOLOT_DATABASE_URL": URL, "KOLOT_ADMINS": value})


def test_the_broadcasts_folder(tmp_path: Path) -> None:
    assert Settings.from_env({"KOLOT_DATABASE_URL": URL}).broadcasts == Path("broadcasts")
    assert Settings.from_env({"KOLOT_DATABASE_URL": URL, "KOLOT_BROADCASTS": str(tmp_path)}
                             ).broadcasts == tmp_path
    with pytest.raises(SettingsError, match=r"^KOLOT_BROADCASTS=.*: no such folder"):
        Settings.from_env({"KOLOT_DATABASE_URL": URL,
                           "KOLOT_BROADCASTS": str(tmp_path / "missing")})
