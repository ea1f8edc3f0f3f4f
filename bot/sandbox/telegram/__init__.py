"""A fake Telegram Bot API server (tests and the demo); see ``server.FakeTelegram``."""

from .entities import EntityParseError, parse_text
from .models import BotMessage, Chat, Recorded, StoredFile, UploadedFile, User
from .server import NOT_MODIFIED, QUERY_TOO_OLD, ApiError, FakeTelegram

__all__ = [
    "NOT_MODIFIED",
    "QUERY_TOO_OLD",
    "ApiError",
    "BotMessage",
    "Chat",
    "EntityParseError",
    "FakeTelegram",
    "Recorded",
    "StoredFile",
    "UploadedFile",
    "User",
    "parse_text",
]
