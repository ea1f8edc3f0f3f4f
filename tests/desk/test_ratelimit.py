"""At most N messages a minute in one group: the rest wait their turn, none fails; against
the fake Telegram on 127.0.0.1, whose own per-chat limit would answer 429 otherwise."""

from __future__ import annotations

import asyncio
import time

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.ratelimit import GroupRateMiddleware, GroupSendLimiter, is_group_chat_id
from bot.settings import Settings
from bot.telegram import create_session
from tests.fakes.telegram_api import Chat, FakeTelegram, User


def make_bot(fake: FakeTelegram, limiter: GroupSendLimiter) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))
    session.middleware(GroupRateMiddleware(limiter))
    return Bot(fake.token, session=session)


async def test_a_burst_in_one_group_waits_instead_of_failing(fake_telegram: FakeTelegram) -> None:
    group = fake_telegram.add_chat(Chat.group())
    anna = User(id=1001, first_name="Анна")
    private = fake_telegram.add_chat(Chat.private(anna))
    # The fake refuses a 4th message in one chat within a second, as Telegram does per minute.
    fake_telegram.set_rate_limit(3, 1.0, methods=("sendMessage",), per_chat=True)
    # A little wider than the fake's own second: the fake counts on arrival, a few
    # milliseconds after the limiter let a message go (Telegram's clock is not ours either).
    limiter = GroupSendLimiter(3, window=1.3)
    bot = make_bot(fake_telegram, limiter)
    try:
        started = time.monotonic()
        await asyncio.wait_for(
            asyncio.gather(*(bot.send_message(group.id, f"m{i}") for i in range(7))), 20
        )
        elapsed = time.monotonic() - started
        calls = fake_telegram.calls("sendMessage")
        assert len(calls) == 7 and all(c.ok for c in calls)  # no 429, nothing lost
        assert elapsed >= 2.6  # three windows for seven messages
        assert [m.text for m in fake_telegram.messages(group.id)] == [f"m{i}" for i in range(7)]
        # Edits are not counted: editing in place is how the bot stays under the limit.
        first = fake_telegram.messages(group.id)[0]
        await bot.edit_message_text("edited", chat_id=group.id, message_id=first.message_id)
        # Private chats are not a group's budget.
        fake_telegram.clear_rate_limit()
        await bot.send_message(private.id, "hi")
        assert private.id not in limiter._sent
    finally:
        await bot.session.close()


async def test_the_21st_message_of_a_minute_waits_for_the_first_to_age() -> None:
    now = [0.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limiter = GroupSendLimiter(20, window=60.0, clock=lambda: now[0], sleep=sleep)
    for i in range(20):
        now[0] = i * 0.5
        assert await limiter.acquire(-100) == 0
    waited = await limiter.acquire(-100)
    assert 50 < waited <= 60.1 and slept  # until the first one is a minute old
    assert await limiter.acquire(-200) == 0  # another group has its own budget


def test_every_bot_session_has_the_group_limit() -> None:
    settings = Settings(_env_file=None, bot_token="1:x", campaign_project_id=1,
                        campaign_start_block_id=1, campaign_phone_id=1)
    session = create_session(settings)
    assert any(isinstance(m, GroupRateMiddleware) for m in session.middleware._middlewares)
    assert is_group_chat_id(-1001) and is_group_chat_id("@team") and not is_group_chat_id(5)
