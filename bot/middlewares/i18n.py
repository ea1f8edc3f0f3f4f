"""Picks each user's language: their /language choice, else the configured default.

Telegram's language_code is deliberately ignored: supervisors use the bot in Russian
whatever their phone is set to.
"""

from __future__ import annotations

from typing import Any

from aiogram.fsm.storage.base import BaseStorage, StorageKey
from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n.middleware import I18nMiddleware

from bot.middlewares.outage import REDIS_DOWN

PREFS_DESTINY = "prefs"


def prefs_key(bot_id: int, user_id: int) -> StorageKey:
    # Keyed by user alone (chat = user), so the choice holds in every chat.
    return StorageKey(bot_id=bot_id, chat_id=user_id, user_id=user_id, destiny=PREFS_DESTINY)


class LanguagePreference:
    def __init__(self, storage: BaseStorage) -> None:
        self.storage = storage

    async def get(self, bot_id: int, user_id: int) -> str | None:
        data = await self.storage.get_data(prefs_key(bot_id, user_id))
        value = data.get("locale")
        return value if isinstance(value, str) else None

    async def set(self, bot_id: int, user_id: int, locale: str) -> None:
        await self.storage.update_data(prefs_key(bot_id, user_id), {"locale": locale})


class PreferenceI18nMiddleware(I18nMiddleware):
    def __init__(self, i18n: I18n, preference: LanguagePreference) -> None:
        super().__init__(i18n=i18n)
        self.preference = preference

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        user: User | None = data.get("event_from_user")
        if user is not None:
            try:
                chosen = await self.preference.get(data["bot"].id, user.id)
            except REDIS_DOWN:
                # Redis is down: still answer (the outage message), in the default language.
                return self.i18n.default_locale
            if chosen in self.i18n.available_locales or chosen == "en":
                return chosen
        return self.i18n.default_locale
