"""The fake's membership: restricted users who left, and chat_member updates."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import ChatMemberMember, ChatMemberRestricted

from tests.fakes.telegram_api import Chat, FakeTelegram, User


async def test_restricted_member_who_left(
    tg_bot: Bot, fake_telegram: FakeTelegram, tg_group: Chat, tg_user: User
) -> None:
    fake_telegram.set_member(tg_group, tg_user, "restricted", is_member=False)
    member = await tg_bot.get_chat_member(tg_group.id, tg_user.id)
    assert isinstance(member, ChatMemberRestricted) and member.is_member is False
    fake_telegram.set_member(tg_group, tg_user, "restricted")
    member = await tg_bot.get_chat_member(tg_group.id, tg_user.id)
    assert isinstance(member, ChatMemberRestricted) and member.is_member is True


async def test_change_member_queues_a_chat_member_update_only_when_asked(
    tg_bot: Bot, fake_telegram: FakeTelegram, tg_group: Chat, tg_user: User
) -> None:
    fake_telegram.set_member(tg_group, tg_user)
    fake_telegram.change_member(tg_group, tg_user, "restricted", is_member=False)
    # Not among Telegram's default update types.
    assert await tg_bot.get_updates(timeout=0) == []
    fake_telegram.change_member(tg_group, tg_user, "member")
    [update] = await tg_bot.get_updates(timeout=0, allowed_updates=["chat_member"])
    changed = update.chat_member
    assert changed is not None and changed.chat.id == tg_group.id
    assert isinstance(changed.old_chat_member, ChatMemberRestricted)
    assert changed.old_chat_member.is_member is False
    assert isinstance(changed.new_chat_member, ChatMemberMember)
    assert isinstance(await tg_bot.get_chat_member(tg_group.id, tg_user.id), ChatMemberMember)
