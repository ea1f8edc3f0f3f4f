"""Buttons belong to one user's one draft: others' presses and stale ones change nothing."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import BaseFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.utils.i18n import gettext as _

from bot.dialog.callbacks import Answer, Back, CalendarPage, EditField, PickLanguage, SummaryAction


async def answer_dialog_over(callback: CallbackQuery) -> None:
    await callback.answer(_("This dialog is over. Start a new one: /new"), show_alert=False)
    if callback.message is not None and isinstance(callback.message, Message):
        with contextlib.suppress(TelegramAPIError):
            await callback.message.edit_reply_markup(reply_markup=None)


# Every button that belongs to a draft; their data start with the owner and the dialog.
DRAFT_BUTTONS: tuple[type[CallbackData], ...] = (
    Answer,
    Back,
    CalendarPage,
    SummaryAction,
    EditField,
    PickLanguage,
)


def unpack_button(data: str | None) -> CallbackData | None:
    if not data:
        return None
    prefix = data.split(":", 1)[0]
    for kind in DRAFT_BUTTONS:
        if kind.__prefix__ == prefix:
            try:
                return kind.unpack(data)
            except (TypeError, ValueError):
                return None
    return None


class DraftGuard(BaseMiddleware):
    """Outer middleware on callback queries, before any filter looks at the state:
    a press by anyone but the owner gets an alert; a press on a finished or replaced
    dialog is told so. Either way nothing changes."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, CallbackQuery):
            return await handler(event, data)
        button = unpack_button(event.data)
        if button is None:
            return await handler(event, data)
        if getattr(button, "owner", event.from_user.id) != event.from_user.id:
            await event.answer(_("These buttons belong to someone else's dialog."), show_alert=True)
            return None
        dialog = getattr(button, "dialog", None)
        if dialog is not None:
            state: FSMContext = data["state"]
            draft = await state.get_data()
            if draft.get("dialog") != dialog or data.get("raw_state") is None:
                await answer_dialog_over(event)
                return None
            data["draft"] = draft
        return await handler(event, data)


class AddressedToBot(BaseFilter):
    """A typed answer counts in a group only when it replies to the bot.

    With privacy mode that is all the bot receives anyway; without it, chatter in the
    group must not be taken for answers.
    """

    async def __call__(self, message: Message, bot: Bot) -> bool:
        if message.chat.type == ChatType.PRIVATE:
            return True
        reply = message.reply_to_message
        return bool(reply and reply.from_user and reply.from_user.id == bot.id)
