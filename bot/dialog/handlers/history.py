"""/history: the last campaigns of this chat (in a private chat: the user's own), paged."""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.deps import AppDeps
from bot.dialog.desk import history_rows, history_text, page_offset
from bot.dialog.desk_buttons import HistoryPage
from bot.dialog.render import fit_message
from bot.history import PAGE_SIZE
from bot.history import HistoryPage as Page
from bot.middlewares.access import AccessPolicy, is_member

log = logging.getLogger("bot.dialog")


async def load_page(deps: AppDeps, *, chat: int, user_id: int, page_no: int) -> Page:
    """`chat` 0: the user's own campaigns, else that chat's."""
    if deps.history is None:
        return Page(available=False)
    offset = page_offset(page_no)
    if chat == 0:
        return await deps.history.page(author_id=user_id, offset=offset, limit=PAGE_SIZE)
    return await deps.history.page(chat_id=chat, offset=offset, limit=PAGE_SIZE)


async def render_page(
    deps: AppDeps, i18n: I18n, *, chat: int, user_id: int, page_no: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    page = await load_page(deps, chat=chat, user_id=user_id, page_no=page_no)
    offset = page_offset(page_no)
    text = history_text(page, offset=offset, locale=str(i18n.current_locale), own=chat == 0)
    rows = history_rows(page, offset=offset, chat=chat, page_no=page_no)
    return text, InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


async def may_see(bot: Bot, policy: AccessPolicy, user_id: int, chat: int) -> bool:
    """A group's history is for its members only (callback data can name any chat)."""
    if chat == 0:
        return True
    try:
        member = await bot.get_chat_member(chat, user_id)
    except TelegramAPIError:
        return False
    return is_member(member) and await policy.allows(bot, user_id, chat, ChatType.SUPERGROUP)


async def cmd_history(message: Message, deps: AppDeps, i18n: I18n) -> None:
    assert message.from_user is not None
    chat = 0 if message.chat.type == ChatType.PRIVATE else message.chat.id
    text, markup = await render_page(deps, i18n, chat=chat, user_id=message.from_user.id,
                                     page_no=0)
    await message.answer(fit_message(text), reply_markup=markup)


async def on_page(
    callback: CallbackQuery, callback_data: HistoryPage, deps: AppDeps, i18n: I18n, bot: Bot,
    access_policy: AccessPolicy,
) -> None:
    message = callback.message
    user_id = callback.from_user.id
    chat = callback_data.chat
    here = message.chat if message is not None else None
    in_private = here is not None and here.type == ChatType.PRIVATE
    if here is not None and not in_private and chat not in (0, here.id):
        chat = here.id  # in a group, only that group's history
    if in_private and not await may_see(bot, access_policy, user_id, chat):
        await callback.answer(_("This history is for the members of that chat."),
                              show_alert=True)
        return
    await callback.answer()
    text, markup = await render_page(deps, i18n, chat=chat, user_id=user_id,
                                     page_no=callback_data.page)
    if in_private and isinstance(message, Message):
        # A page of a list shown here: turned in place.
        try:
            await message.edit_text(fit_message(text), reply_markup=markup)
        except TelegramAPIError:
            pass
        else:
            return
    if not in_private and isinstance(message, Message) and message.text and (
        message.text.startswith("📜")
    ):
        try:
            await message.edit_text(fit_message(text), reply_markup=markup)
            return
        except TelegramAPIError:
            pass
    # «History» on a card in a group: to the presser's private chat, the group stays quiet.
    try:
        await bot.send_message(user_id, fit_message(text), reply_markup=markup)
    except TelegramAPIError:
        await bot.send_message(here.id if here else user_id, fit_message(text),
                               reply_markup=markup,
                               message_thread_id=getattr(message, "message_thread_id", None))


def create_router() -> Router:
    router = Router(name="history")
    router.message.register(cmd_history, Command("history"))
    router.callback_query.register(on_page, HistoryPage.filter())
    return router
