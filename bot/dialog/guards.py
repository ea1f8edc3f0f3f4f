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
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.utils.i18n import gettext as _

from bot.dialog.callbacks import (
    Answer,
    Back,
    CalendarPage,
    DraftChoice,
    EditField,
    ListChoice,
    PickLanguage,
    Quit,
    SummaryAction,
)
from bot.dialog.draft import Draft
from bot.dialog.steps import is_editable, step_of_state


def owns_pressed(callback: CallbackQuery, draft: Draft | None = None) -> bool:
    """Whether the pressed message is the presser's own, judged by what Telegram says of
    the message, never by callback data (any client can send any data on a message it
    sees): a private chat is the presser's own; in a group, a message of the presser's
    draft, or one the bot sent in reply to the presser."""
    message = callback.message  # may be inaccessible (older than 48 h): chat and id only
    if message is None:
        return False
    if message.chat.type == ChatType.PRIVATE:
        return message.chat.id == callback.from_user.id
    if draft is not None and message.message_id in draft.kb_msgs:
        return True
    if not isinstance(message, Message):
        return False
    reply = message.reply_to_message
    return bool(reply and reply.from_user and reply.from_user.id == callback.from_user.id)


async def answer_dialog_over(callback: CallbackQuery) -> None:
    await callback.answer(_("This dialog is over. Start a new one: /new"), show_alert=False)
    if isinstance(callback.message, Message) and owns_pressed(callback):
        with contextlib.suppress(TelegramAPIError):
            await callback.message.edit_reply_markup(reply_markup=None)


async def refuse_foreign(callback: CallbackQuery) -> None:
    await callback.answer(_("These buttons belong to someone else's dialog."), show_alert=True)


# Every button that belongs to a draft; their data start with the owner and the dialog.
DRAFT_BUTTONS: tuple[type[CallbackData], ...] = (
    Answer,
    Back,
    CalendarPage,
    SummaryAction,
    EditField,
    DraftChoice,
    PickLanguage,
    ListChoice,
    Quit,
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
    dialog is told so. Either way nothing changes. Reads the draft DraftLoader loaded
    (bot/dialog/middleware.py installs both, in order)."""

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
            await refuse_foreign(event)
            return None
        dialog = getattr(button, "dialog", None)
        if dialog is None:
            if not owns_pressed(event):
                await refuse_foreign(event)
                return None
            return await handler(event, data)
        if "draft" not in data:
            raise RuntimeError("DraftLoader must run before DraftGuard (setup_dialog)")
        draft: Draft | None = data["draft"]
        raw_state = data.get("raw_state")
        if draft is None or draft.dialog != dialog or raw_state is None:
            await answer_dialog_over(event)
            return None
        if not owns_pressed(event, draft):
            await refuse_foreign(event)
            return None
        if isinstance(button, EditField) and not is_editable(button.field, draft):
            await event.answer(_("This is set by the settings and can't be changed."))
            return None
        step = step_of_state(raw_state)
        if isinstance(button, Back) and (step is None or step.code != button.field):
            # «Back» belongs to the question being asked; any other field is forged or stale.
            await event.answer(_("This question was already answered."))
            return None
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
