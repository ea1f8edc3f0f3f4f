"""Tells the user when their stored draft failed its integrity check and was dropped.

The storage (bot.app.DraftRedisStorage) refuses a draft whose signature does not verify
while the dispatcher reads the state; this middleware turns that into a message instead
of a dialog that silently forgot everything.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.utils.i18n import gettext as _


def dropped_draft_text() -> str:
    return "❗ " + _("Your saved draft could not be verified and was deleted. Start again: /new")


class DroppedDraftNotice(BaseMiddleware):
    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        state: FSMContext | None = data.get("state")
        take = getattr(data.get("fsm_storage"), "take_dropped", None)
        if state is None or take is None or not take(state.key):
            return await handler(event, data)
        if isinstance(event, CallbackQuery):
            await event.answer(dropped_draft_text(), show_alert=True)
            return None
        if isinstance(event, Message):
            await event.reply(dropped_draft_text())
            # A command (/new) still does what it says; an answer to a question that no
            # longer exists does not.
            if (event.text or "").startswith("/"):
                return await handler(event, data)
        return None
