"""Telegram Update JSON as the Bot API delivers it to a webhook, for tests.

Shapes follow https://core.telegram.org/bots/api#update: a private chat's ``message``
(with ``entities`` for commands), ``edited_message``, ``callback_query`` carrying the
bot's own message it was tapped under, and ``my_chat_member`` when a user blocks or
unblocks the bot.
"""

from __future__ import annotations

from itertools import count
from typing import Any

BOT_USER = {"id": 123456, "is_bot": True, "first_name": "Kolot Test",
            "username": "kolot_test_bot"}
DATE = 1_764_579_600  # 2025-12-01 09:00 UTC


class Person:
    """One Telegram user in a private chat with the bot, numbering their updates."""

    _update_ids = count(700_000_000, 7)  # ids are unique, not consecutive

    def __init__(self, chat_id: int, language: str = "he", name: str = "Dana") -> None:
        self.chat_id = chat_id
        self.language = language
        self.name = name
        self._message_ids = count(1)

    @property
    def user(self) -> dict[str, Any]:
        return {"id": self.chat_id, "is_bot": False, "first_name": self.name,
                "language_code": self.language}

    @property
    def chat(self) -> dict[str, Any]:
        return {"id": self.chat_id, "first_name": self.name, "type": "private"}

    def _message(self, **fields: Any) -> dict[str, Any]:
        return {"message_id": next(self._message_ids), "from": self.user, "chat": self.chat,
                "date": DATE, **fields}

    def text(self, text: str) -> dict[str, Any]:
        fields: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            fields["entities"] = [{"offset": 0, "length": len(text.split()[0]),
                                   "type": "bot_command"}]
        return {"update_id": next(self._update_ids), "message": self._message(**fields)}

    def sticker(self) -> dict[str, Any]:
        sticker = {"file_id": "CAACAgIAAxkBAAEB", "file_unique_id": "AgADxQ", "type": "regular",
                   "width": 512, "height": 512, "is_animated": False, "is_video": False,
                   "emoji": "👍"}
        return {"update_id": next(self._update_ids), "message": self._message(sticker=sticker)}

    def voice(self) -> dict[str, Any]:
        voice = {"file_id": "AwACAgIAAxkBAAEC", "file_unique_id": "AgADyQ", "duration": 3,
                 "mime_type": "audio/ogg", "file_size": 5120}
        return {"update_id": next(self._update_ids), "message": self._message(voice=voice)}

    def photo(self, caption: str | None = None) -> dict[str, Any]:
        sizes = [{"file_id": "AgACAgIAAxkBAAED", "file_unique_id": "AQADzQ", "width": 90,
                  "height": 67, "file_size": 1290}]
        extra = {"caption": caption} if caption else {}
        return {"update_id": next(self._update_ids),
                "message": self._message(photo=sizes, **extra)}

    def edited(self, text: str) -> dict[str, Any]:
        message = self._message(text=text, edit_date=DATE + 30)
        return {"update_id": next(self._update_ids), "edited_message": message}

    def tap(self, bot_message: dict[str, Any], data: str) -> dict[str, Any]:
        """A tap on a button of ``bot_message`` (a Message the bot sent, as the API
        returned it)."""
        return {
            "update_id": next(self._update_ids),
            "callback_query": {
                "id": f"{self.chat_id}{next(self._update_ids)}",
                "from": self.user,
                "message": bot_message,
                "chat_instance": f"-{self.chat_id}77",
                "data": data,
            },
        }

    def member(self, status: str) -> dict[str, Any]:
        """``kicked`` when they block the bot, ``member`` when they unblock it."""
        def member(status: str) -> dict[str, Any]:
            found: dict[str, Any] = {"user": BOT_USER, "status": status}
            if status == "kicked":
                found["until_date"] = 0
            return found

        old, new = member("member" if status == "kicked" else "kicked"), member(status)
        return {
            "update_id": next(self._update_ids),
            "my_chat_member": {
                "chat": self.chat, "from": self.user, "date": DATE,
                "old_chat_member": old,
                "new_chat_member": new,
            },
        }


def group_message(chat_id: int, text: str) -> dict[str, Any]:
    user = {"id": 99, "is_bot": False, "first_name": "Gil"}
    return {"update_id": next(Person._update_ids), "message": {
        "message_id": 1, "from": user, "date": DATE, "text": text,
        "chat": {"id": chat_id, "title": "Residents", "type": "group"}}}
