"""Fixtures of the fake Telegram Bot API: a started server and a real aiogram Bot on it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from tests.fakes.telegram_api import Chat, FakeTelegram, User


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    fake = FakeTelegram()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


def make_bot(fake: FakeTelegram, token: str | None = None) -> Bot:
    """A real aiogram Bot whose session talks to the fake, as the bot under test would."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))
    return Bot(token or fake.token, session=session)


@pytest.fixture
async def tg_bot(fake_telegram: FakeTelegram) -> AsyncIterator[Bot]:
    bot = make_bot(fake_telegram)
    try:
        yield bot
    finally:
        await bot.session.close()


@pytest.fixture
def tg_user() -> User:
    return User(id=1001, first_name="Анна", username="anna")


@pytest.fixture
def tg_private_chat(fake_telegram: FakeTelegram, tg_user: User) -> Chat:
    # Known to the fake, as if the user had pressed Start.
    return fake_telegram.add_chat(Chat.private(tg_user))


@pytest.fixture
def tg_group(fake_telegram: FakeTelegram) -> Chat:
    return fake_telegram.add_chat(Chat.group(1, "Операторы"))
