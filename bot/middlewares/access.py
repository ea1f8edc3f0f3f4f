"""Only allowed users, or members of allowed chats, may use the bot."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.enums import ChatMemberStatus, ChatType
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, Message, TelegramObject, User
from aiogram.utils.i18n import gettext as _

log = logging.getLogger("bot.access")

_MEMBER_STATUSES = {
    ChatMemberStatus.CREATOR,
    ChatMemberStatus.ADMINISTRATOR,
    ChatMemberStatus.MEMBER,
    ChatMemberStatus.RESTRICTED,
}


class AccessPolicy:
    """Decides who may create campaigns; remembers group membership for a while."""

    def __init__(
        self,
        allowed_user_ids: Iterable[int],
        allowed_chat_ids: Iterable[int],
        membership_ttl: float = 600.0,
    ) -> None:
        self.user_ids = frozenset(allowed_user_ids)
        self.chat_ids = frozenset(allowed_chat_ids)
        self._membership_ttl = membership_ttl
        self._membership: dict[int, tuple[float, bool]] = {}

    @property
    def nobody_allowed(self) -> bool:
        return not self.user_ids and not self.chat_ids

    async def allows(self, bot: Bot, user_id: int, chat_id: int) -> bool:
        if user_id in self.user_ids or chat_id in self.chat_ids:
            return True
        if not self.chat_ids:
            return False
        return await self._is_member_of_allowed_chat(bot, user_id)

    async def _is_member_of_allowed_chat(self, bot: Bot, user_id: int) -> bool:
        cached = self._membership.get(user_id)
        now = time.monotonic()
        if cached and cached[0] > now:
            return cached[1]
        member = False
        for chat_id in self.chat_ids:
            try:
                status = (await bot.get_chat_member(chat_id, user_id)).status
            except TelegramAPIError:
                continue
            if status in _MEMBER_STATUSES:
                member = True
                break
        self._membership[user_id] = (now + self._membership_ttl, member)
        return member


class AccessMiddleware(BaseMiddleware):
    """Outer middleware on messages and callback queries: strangers get a polite refusal."""

    def __init__(self, policy: AccessPolicy) -> None:
        self.policy = policy

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        chat = data.get("event_chat")
        if user is None or chat is None:
            return None
        if await self.policy.allows(data["bot"], user.id, chat.id):
            return await handler(event, data)
        log.info("access refused user=%s chat=%s", user.id, chat.id)
        text = _(
            "Sorry, you have no access to this bot.\n"
            "Give your Telegram ID to the administrator: <code>{user_id}</code>"
        ).format(user_id=user.id)
        if isinstance(event, CallbackQuery):
            await event.answer(
                _("No access. Your Telegram ID: {user_id}").format(user_id=user.id),
                show_alert=True,
            )
        elif isinstance(event, Message) and (
            chat.type == ChatType.PRIVATE or await _is_command_for_us(event, data["bot"])
        ):
            # In a group only a command meant for this bot gets an answer.
            await event.reply(text)
        return None


async def _is_command_for_us(message: Message, bot: Bot) -> bool:
    text = message.text or ""
    if not text.startswith("/"):
        return False
    command = text.split(maxsplit=1)[0]
    _, _, mention = command.partition("@")
    if not mention:
        return True
    me = await bot.me()
    return bool(me.username) and mention.lower() == me.username.lower()
