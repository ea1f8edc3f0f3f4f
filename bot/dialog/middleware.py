"""The dialog's middlewares, in the order they must run (installed by `setup_dialog`).

1. DraftLoader reads the stored draft once per update (one storage read) and migrates
   it; a draft this version cannot read is dropped and its owner told.
2. DraftGuard (bot/dialog/guards.py) checks a pressed button against that draft.
3. DialogMiddleware hands handlers a `dialog` (Conversation) holding that draft.

Each later one needs `data["draft"]` from DraftLoader: it says so when it is missing,
instead of silently reading no draft.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Dispatcher
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Chat, Message, TelegramObject, User
from aiogram.utils.i18n import gettext as _

from bot.dialog.conversation import Conversation
from bot.dialog.draft import DraftUnreadable, load_draft
from bot.dialog.guards import DraftGuard

log = logging.getLogger("bot.dialog")
DRAFT = "draft"  # the key of the loaded draft in the handler data


def unreadable_draft_text() -> str:
    return "❗ " + _(
        "Your draft was saved by an earlier version of the bot and can't be read any more. "
        "Start again: /new"
    )


def loaded_draft(data: dict[str, Any]) -> Any:
    if DRAFT not in data:
        raise RuntimeError("DraftLoader must run before this middleware (setup_dialog)")
    return data[DRAFT]


class DraftLoader(BaseMiddleware):
    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        state: FSMContext | None = data.get("state")
        if state is None:
            data[DRAFT] = None
            return await handler(event, data)
        try:
            data[DRAFT] = load_draft(await state.get_data())
        except DraftUnreadable as error:
            log.warning(
                "stored draft unreadable (%s) chat=%s user=%s: dropped",
                error,
                state.key.chat_id,
                state.key.user_id,
            )
            await state.clear()
            data[DRAFT] = None
            data["raw_state"] = None
            if isinstance(event, CallbackQuery):
                await event.answer(unreadable_draft_text(), show_alert=True)
                return None
            if isinstance(event, Message):
                await event.reply(unreadable_draft_text())
                if not (event.text or "").startswith("/"):
                    return None  # an answer to a question that no longer exists
        return await handler(event, data)


class DialogMiddleware(BaseMiddleware):
    """Hands every handler a `dialog` for the user and chat of its update.

    Questions that follow a button press reply to the user's message the pressed question
    replied to, so that a selective ForceReply in a group reaches the right person.
    """

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        if user is not None and chat is not None and "state" in data:
            draft = loaded_draft(data)
            reply_to: int | None = None
            if isinstance(event, Message):
                reply_to = event.message_id
            elif isinstance(event, CallbackQuery):
                message = event.message
                if isinstance(message, Message) and message.reply_to_message is not None:
                    reply_to = message.reply_to_message.message_id
                elif draft is not None:
                    reply_to = draft.reply_to
            pressed = None
            if isinstance(event, CallbackQuery) and isinstance(event.message, Message):
                pressed = event.message.message_id
            source = event.message if isinstance(event, CallbackQuery) else event
            thread_id = None
            if isinstance(source, Message) and source.is_topic_message:
                thread_id = source.message_thread_id
            data["dialog"] = Conversation(
                bot=data["bot"],
                chat=chat,
                user=user,
                state=data["state"],
                deps=data["deps"],
                i18n=data["i18n"],
                draft=draft,
                reply_to=reply_to,
                pressed=pressed,
                thread_id=thread_id,
            )
        return await handler(event, data)


def setup_dialog(dp: Dispatcher) -> None:
    """The three in their order, on messages and callback queries (the guard: callbacks)."""
    loader = DraftLoader()
    dp.message.outer_middleware(loader)
    dp.callback_query.outer_middleware(loader)
    dp.callback_query.outer_middleware(DraftGuard())
    dialogs = DialogMiddleware()
    dp.message.outer_middleware(dialogs)
    dp.callback_query.outer_middleware(dialogs)
