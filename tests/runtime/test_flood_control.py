"""Telegram's 429 flood control is waited out and retried in one place, boundedly."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramRetryAfter

from bot.telegram import RetryAfterMiddleware
from tests.dialog.conftest import BotUnderTest
from tests.fakes.telegram_api import Chat, FakeTelegram
from tests.runtime.conftest import ANNA, BORIS


@pytest.fixture
def storage_kind() -> str:
    return "memory"  # flood control needs no Redis


@pytest.fixture
async def bare_bot(fake_telegram: FakeTelegram) -> AsyncIterator[Callable[..., Bot]]:
    """bare_bot(middleware) -> a Bot on the fake with only that session middleware."""
    bots: list[Bot] = []

    def make(middleware: RetryAfterMiddleware) -> Bot:
        session = AiohttpSession(api=TelegramAPIServer.from_base(fake_telegram.base_url))
        session.middleware(middleware)
        bot = Bot(fake_telegram.token, session=session)
        bots.append(bot)
        return bot

    yield make
    for bot in bots:
        await bot.session.close()


async def test_a_429_is_waited_out_and_the_message_still_arrives(
    make_bot_under_test: Callable[..., BotUnderTest],
) -> None:
    app = make_bot_under_test()
    chat = app.fake.add_chat(Chat.private(ANNA))
    app.fake.fail_next("sendMessage", error_code=429, retry_after=1)
    started = time.monotonic()
    assert await app.say(chat, ANNA, "/start")
    assert time.monotonic() - started >= 1.0  # waited retry_after before sending again
    calls = app.fake.calls("sendMessage")
    assert [c.ok for c in calls] == [False, True]
    assert "429" in str(calls[0].response)
    assert "/new" in app.last_text(chat)


async def test_a_busy_group_loses_no_message(
    make_bot_under_test: Callable[..., BotUnderTest],
) -> None:
    """Telegram limits messages per chat; three answers due at once all arrive."""
    app = make_bot_under_test(allowed_chat_ids=[-100777])
    group = app.fake.add_chat(Chat.group(-100777, "Операторы"))
    app.fake.set_rate_limit(1, per_seconds=1.0, methods=("sendMessage",))
    updates = [app.fake.send_text(group, user, "/start") for user in (ANNA, BORIS, ANNA)]
    await asyncio.wait_for(asyncio.gather(*(app.deliver(u) for u in updates)), 15)
    sent = app.fake.calls("sendMessage")
    assert sum(1 for c in sent if c.ok) == 3
    assert any(c.ok is False for c in sent)  # flood control did happen
    assert len(app.fake.messages(group.id)) == 3


async def test_retries_are_bounded(
    bare_bot: Callable[..., Bot], fake_telegram: FakeTelegram
) -> None:
    chat = fake_telegram.add_chat(Chat.private(ANNA))
    bot = bare_bot(RetryAfterMiddleware(max_retries=1, max_wait=5))
    fake_telegram.fail_next("sendMessage", error_code=429, retry_after=1, times=2)
    with pytest.raises(TelegramRetryAfter):
        await asyncio.wait_for(bot.send_message(chat.id, "hello"), 10)
    assert len(fake_telegram.calls("sendMessage")) == 2  # the call and one retry
    assert fake_telegram.messages(chat.id) == []


async def test_a_wait_longer_than_max_wait_is_not_attempted(
    bare_bot: Callable[..., Bot], fake_telegram: FakeTelegram
) -> None:
    chat = fake_telegram.add_chat(Chat.private(ANNA))
    bot = bare_bot(RetryAfterMiddleware(max_retries=3, max_wait=2))
    fake_telegram.fail_next("sendMessage", error_code=429, retry_after=30)
    started = time.monotonic()
    with pytest.raises(TelegramRetryAfter) as error:
        await asyncio.wait_for(bot.send_message(chat.id, "hello"), 5)
    assert error.value.retry_after == 30
    assert time.monotonic() - started < 2
    assert len(fake_telegram.calls("sendMessage")) == 1
