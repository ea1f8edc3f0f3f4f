"""Small value objects of the fake: simulated users/chats and what the fake records."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class User:
    id: int
    first_name: str = "Test"
    username: str | None = None
    language_code: str | None = "ru"
    last_name: str | None = None
    is_bot: bool = False  # True for Telegram's placeholders (GroupAnonymousBot, ...)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> User:
        return cls(
            id=int(data["id"]),
            first_name=data.get("first_name", "Test"),
            username=data.get("username"),
            language_code=data.get("language_code", "ru"),
            last_name=data.get("last_name"),
            is_bot=bool(data.get("is_bot", False)),
        )


@dataclass(frozen=True)
class Chat:
    id: int
    type: str = "private"
    title: str | None = None
    first_name: str | None = None
    username: str | None = None

    @classmethod
    def private(cls, user: User) -> Chat:
        # A private chat's id is the user's id, as in Telegram.
        return cls(id=user.id, type="private", first_name=user.first_name, username=user.username)

    @classmethod
    def group(cls, id: int = -1001000000001, title: str = "Test group") -> Chat:
        # Supergroup ids are -100XXXXXXXXXX; accept a short positive id for convenience.
        if id > 0:
            id = -(10**12 + id)
        return cls(id=id, type="supergroup", title=title)

    @property
    def is_group(self) -> bool:
        return self.type in {"group", "supergroup"}

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        for key in ("title", "first_name", "username"):
            value = getattr(self, key)
            if value:
                data[key] = value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Chat:
        return cls(
            id=int(data["id"]),
            type=data.get("type", "private"),
            title=data.get("title"),
            first_name=data.get("first_name"),
            username=data.get("username"),
        )


@dataclass
class UploadedFile:
    """A multipart file part of a request."""

    field: str
    filename: str
    data: bytes
    content_type: str | None = None


@dataclass
class Recorded:
    """One Bot API call the bot made. ``response`` is filled when the fake answers."""

    method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile]
    time: float
    response: dict[str, Any] | None = None

    @property
    def ok(self) -> bool | None:
        return None if self.response is None else bool(self.response.get("ok"))

    @property
    def result(self) -> Any:
        return None if self.response is None else self.response.get("result")

    @property
    def error(self) -> str | None:
        if self.response is None or self.response.get("ok"):
            return None
        return self.response.get("description")


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    data: bytes
    filename: str | None = None
    mime_type: str | None = None
    file_path: str | None = None  # assigned by getFile, like Telegram

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class BotMessage:
    """Current state of a message the bot sent (edits update it in place)."""

    message_id: int
    chat_id: int
    date: int
    text: str | None = None  # what the user sees, after parse_mode
    raw_text: str | None = None  # as the bot sent it
    parse_mode: str | None = None
    entities: list[dict] = field(default_factory=list)
    caption: str | None = None
    reply_markup: dict | None = None  # any kind as sent: inline, reply keyboard, force_reply
    reply_to: int | None = None
    document: dict | None = None
    file: StoredFile | None = None
    edit_date: int | None = None
    deleted: bool = False
    history: list[dict] = field(default_factory=list)  # earlier {text, reply_markup, ...}

    @property
    def buttons(self) -> list[dict]:
        """Inline buttons flattened row by row."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [button for row in rows for button in row]

    @property
    def keyboard(self) -> list[list[str]]:
        """Texts of the inline or reply keyboard, as rows."""
        markup = self.reply_markup or {}
        rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
        return [[b if isinstance(b, str) else b.get("text", "") for b in row] for row in rows]

    def button(self, text: str) -> dict:
        """The inline button whose text equals ``text`` (or contains it, if none equals)."""
        exact = [b for b in self.buttons if b.get("text") == text]
        loose = [b for b in self.buttons if text in b.get("text", "")]
        found = exact or loose
        if not found:
            names = [b.get("text") for b in self.buttons]
            raise LookupError(f"no button {text!r} in message {self.message_id}: {names}")
        return found[0]

    def callback_data(self, text: str) -> str:
        return self.button(text)["callback_data"]

    @property
    def force_reply(self) -> bool:
        return bool((self.reply_markup or {}).get("force_reply"))

    def snapshot(self) -> dict[str, Any]:
        return copy.deepcopy(
            {
                "text": self.text,
                "raw_text": self.raw_text,
                "caption": self.caption,
                "entities": self.entities,
                "reply_markup": self.reply_markup,
                "edit_date": self.edit_date,
            }
        )

    def to_json(self) -> dict[str, Any]:
        data = self.snapshot()
        data.update(
            message_id=self.message_id,
            chat_id=self.chat_id,
            date=self.date,
            reply_to=self.reply_to,
            document=self.document,
            deleted=self.deleted,
            history=copy.deepcopy(self.history),
        )
        return data
