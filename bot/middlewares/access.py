"""Who may use the bot, and where.

- A private chat: a user in ALLOWED_USER_IDS, or a member of an ALLOWED_CHAT_IDS chat.
- An ALLOWED_CHAT_IDS group: anyone writing there (they are in it), and allowed users.
- Any other group: only ALLOWED_USER_IDS users. Membership of an allowed chat does not
  carry over: the import report and the rejected rows would be shown to outsiders.
- A message sent on behalf of a chat (anonymous admin, channel, linked-channel forward)
  is nobody's: the sender ids Telegram uses then are shared by many people.
"""

from __future__ import annotations

import enum
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiogram import BaseMiddleware, Bot, Router
from aiogram.enums import ChatMemberStatus, ChatType
from aiogram.exceptions import TelegramAPIError
from aiogram.types import (
    CallbackQuery,
    ChatMember,
    ChatMemberRestricted,
    ChatMemberUpdated,
    Message,
    TelegramObject,
    User,
)
from aiogram.utils.i18n import gettext as _

from bot.settings import SHARED_SENDER_IDS

log = logging.getLogger("bot.access")

GROUP_ANONYMOUS_BOT_ID = 1087968824

_MEMBER_STATUSES = {
    ChatMemberStatus.CREATOR,
    ChatMemberStatus.ADMINISTRATOR,
    ChatMemberStatus.MEMBER,
}


def is_member(member: ChatMember) -> bool:
    """A restricted user is one only while `is_member`: one who left stays "restricted"."""
    if isinstance(member, ChatMemberRestricted):
        return bool(member.is_member)
    return member.status in _MEMBER_STATUSES


class TtlCache:
    """A small LRU dict whose entries expire: answers about membership go stale."""

    def __init__(
        self, ttl: float, max_size: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.max_size = max_size
        self.clock = clock
        self._items: OrderedDict[int, tuple[float, bool]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: int) -> bool | None:
        item = self._items.get(key)
        if item is None:
            return None
        if item[0] <= self.clock():
            del self._items[key]
            return None
        self._items.move_to_end(key)
        return item[1]

    def put(self, key: int, value: bool) -> None:
        self._items[key] = (self.clock() + self.ttl, value)
        self._items.move_to_end(key)
        while len(self._items) > self.max_size:
            self._items.popitem(last=False)

    def drop(self, key: int) -> None:
        self._items.pop(key, None)


class Verdict(enum.Enum):
    ALLOWED = "allowed"
    NO_ACCESS = "no_access"  # unknown here: the administrator may add the user's id
    NOT_HERE = "not_here"  # a member of an allowed chat, in a group that is not allowed


class AccessPolicy:
    """Decides who may create campaigns where; remembers group membership for a minute."""

    def __init__(
        self,
        allowed_user_ids: Iterable[int],
        allowed_chat_ids: Iterable[int],
        membership_ttl: float = 60.0,
        cache_size: int = 4096,
    ) -> None:
        self.user_ids = frozenset(allowed_user_ids) - SHARED_SENDER_IDS.keys()
        self.chat_ids = frozenset(allowed_chat_ids)
        self.membership = TtlCache(membership_ttl, cache_size)

    @property
    def nobody_allowed(self) -> bool:
        return not self.user_ids and not self.chat_ids

    async def verdict(self, bot: Bot, user_id: int, chat_id: int, chat_type: str) -> Verdict:
        if user_id in SHARED_SENDER_IDS:
            return Verdict.NO_ACCESS
        if user_id in self.user_ids:
            return Verdict.ALLOWED
        if chat_type == ChatType.PRIVATE:
            # A private chat's id is its user's: listed in ALLOWED_CHAT_IDS, it allows them.
            if chat_id in self.chat_ids or await self._is_member_of_allowed_chat(bot, user_id):
                return Verdict.ALLOWED
            return Verdict.NO_ACCESS
        if chat_id in self.chat_ids:
            return Verdict.ALLOWED
        if self.chat_ids and await self._is_member_of_allowed_chat(bot, user_id):
            return Verdict.NOT_HERE
        return Verdict.NO_ACCESS

    async def allows(self, bot: Bot, user_id: int, chat_id: int, chat_type: str) -> bool:
        return await self.verdict(bot, user_id, chat_id, chat_type) is Verdict.ALLOWED

    def forget(self, user_id: int) -> None:
        self.membership.drop(user_id)

    async def _is_member_of_allowed_chat(self, bot: Bot, user_id: int) -> bool:
        cached = self.membership.get(user_id)
        if cached is not None:
            return cached
        member = failed = False
        for chat_id in self.chat_ids:
            try:
                answer = await bot.get_chat_member(chat_id, user_id)
            except TelegramAPIError:
                failed = True
                continue
            if is_member(answer):
                member = True
                break
        # A "no" that may come from a failed call is not remembered: asked again next time.
        if member or not failed:
            self.membership.put(user_id, member)
        return member


def membership_router(policy: AccessPolicy) -> Router:
    """chat_member updates of the allowed chats drop the cached answer at once (Telegram
    sends them only to a bot that is an administrator of the chat)."""
    router = Router(name="membership")

    async def on_chat_member(event: ChatMemberUpdated) -> None:
        if event.chat.id in policy.chat_ids:
            policy.forget(event.new_chat_member.user.id)
            log.info(
                "membership changed chat=%s user=%s status=%s",
                event.chat.id,
                event.new_chat_member.user.id,
                event.new_chat_member.status,
            )

    router.chat_member.register(on_chat_member)
    return router


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
        bot: Bot = data["bot"]
        if isinstance(event, Message) and (
            event.sender_chat is not None or user.id in SHARED_SENDER_IDS
        ):
            await _refuse_chat_sender(event, bot)
            return None
        if user.id in SHARED_SENDER_IDS:  # presses come from persons; never let one in
            if isinstance(event, CallbackQuery):
                await event.answer(_anonymous_text(), show_alert=True)
            return None
        verdict = await self.policy.verdict(bot, user.id, chat.id, chat.type)
        if verdict is Verdict.ALLOWED:
            return await handler(event, data)
        log.info("access refused user=%s chat=%s verdict=%s", user.id, chat.id, verdict.value)
        if verdict is Verdict.NOT_HERE:
            text = short = _(
                "Campaigns can't be created in this group. Write to me in private "
                "or in the team group."
            )
        else:
            text = _(
                "Sorry, you have no access to this bot.\n"
                "Give your Telegram ID to the administrator: <code>{user_id}</code>"
            ).format(user_id=user.id)
            short = _("No access. Your Telegram ID: {user_id}").format(user_id=user.id)
        if isinstance(event, CallbackQuery):
            await event.answer(short, show_alert=True)
        elif isinstance(event, Message) and (
            chat.type == ChatType.PRIVATE or await _is_command_for_us(event, bot)
        ):
            # In a group only a command meant for this bot gets an answer.
            await event.reply(text)
        return None


async def _refuse_chat_sender(message: Message, bot: Bot) -> None:
    """A message on behalf of a chat: its `from` is a placeholder shared by many people, so
    it never counts as a user. Its id is not shown: adding it would let them all in."""
    sender = message.sender_chat
    log.info(
        "access refused chat=%s sender_chat=%s", message.chat.id, sender.id if sender else None
    )
    if message.is_automatic_forward or not await _is_command_for_us(message, bot):
        return
    if sender is not None and sender.id != message.chat.id:
        text = _("You are writing as a channel — write as yourself to create campaigns")
    else:
        text = _anonymous_text()
    await message.reply(text)


def _anonymous_text() -> str:
    return _(
        "You are writing on behalf of the group — turn off anonymity in your "
        "administrator settings to create campaigns"
    )


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
