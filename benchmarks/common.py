"""Shared pieces of the benchmark suite: result rows, percentiles, the bot under load."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any, Protocol

from aiogram import Bot, Dispatcher
from redis.asyncio import Redis

from benchmarks.rows import Row, Stopwatch, percentile, rate_ratio, time_ratio
from bot.app import StateBackend, create_deps, create_dispatcher, create_state_backend
from bot.campaigns.client import CampaignClient
from bot.deps import AppDeps
from bot.settings import Settings
from bot.telegram import create_bot
from tests.fakes.campaign_api import FakeCampaignApi
from tests.fakes.telegram_api import BotMessage, Chat, FakeTelegram, User

__all__ = ["Row", "Stopwatch", "percentile", "rate_ratio", "time_ratio"]

REDIS_URL = "redis://127.0.0.1:6379/0"
SKIP = "Пропустить"
TOMORROW = "Завтра"
CREATE = "✅ Создать"
SUMMARY = "Проверьте обзвон"


class BotApiEndpoint(Protocol):
    """Where the bot's session goes: FakeTelegram in this process, or
    benchmarks.remote_telegram.RemoteTelegram in its own."""

    token: str
    base_url: str


def make_settings(
    fake: BotApiEndpoint, api: FakeCampaignApi, users: list[int], **overrides: Any
) -> Settings:
    values: dict[str, Any] = {
        "bot_token": fake.token,
        "telegram_api_url": fake.base_url,
        "campaign_api_url": api.base_url,
        "campaign_project_id": 1,
        "campaign_start_block_id": 10,
        "campaign_phone_id": 5,
        "allowed_user_ids": users,
        "timezone": "Asia/Yekaterinburg",
        "campaign_api_read_timeout": 30.0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@dataclass
class BenchBot:
    """The real dispatcher, deps and state backend, as tests/dialog/conftest.py builds
    them, on a Bot whose session talks to the fake Telegram over 127.0.0.1."""

    fake: BotApiEndpoint
    settings: Settings
    backend: StateBackend
    deps: AppDeps
    dp: Dispatcher
    bot: Bot
    redis_prefix: str | None = None

    @classmethod
    def create(
        cls,
        fake: BotApiEndpoint,
        api: FakeCampaignApi,
        users: list[int],
        *,
        storage: str = "memory",
        bot: Bot | None = None,
        **overrides: Any,
    ) -> BenchBot:
        prefix = None
        if storage == "redis":
            # Through REDIS_URL, exactly as the bot connects (bot.app.create_state_backend).
            overrides["redis_url"] = REDIS_URL
            prefix = f"bench-{secrets.token_hex(4)}"
        settings = make_settings(fake, api, users, **overrides)
        backend = create_state_backend(settings, key_prefix=prefix)
        client = CampaignClient.from_settings(settings)
        deps = create_deps(settings, backend, client)
        dp = create_dispatcher(settings, deps, backend)
        return cls(fake, settings, backend, deps, dp, bot or create_bot(settings), prefix)

    async def feed(self, update: dict) -> float:
        """Hand one update to the dispatcher; seconds until it was fully handled."""
        started = time.perf_counter()
        await self.dp.feed_raw_update(self.bot, update)
        return time.perf_counter() - started

    def press_update(self, chat: Chat, user: User, label: str) -> dict:
        if not isinstance(self.fake, FakeTelegram):
            raise TypeError("press_update needs the in-process FakeTelegram")
        message = newest_with_button(self.fake, chat, label)
        text = next(b["text"] for b in message.buttons if label in b.get("text", ""))
        return self.fake.press_button(chat, user, message.message_id, message.callback_data(text))

    async def close(self, *, close_session: bool = True) -> None:
        await self.deps.tasks.wait(30)
        await self.deps.campaign_client.aclose()
        redis = self.backend.redis
        if redis is not None and self.redis_prefix:
            keys = [k async for k in redis.scan_iter(match=f"{self.redis_prefix}:*", count=1000)]
            for i in range(0, len(keys), 1000):
                await redis.delete(*keys[i : i + 1000])
        await self.backend.close()
        if close_session:
            await self.bot.session.close()


def newest_with_button(fake: FakeTelegram, chat: Chat, label: str) -> BotMessage:
    for message in reversed(fake.messages(chat.id)):
        if any(label in b.get("text", "") for b in message.buttons):
            return message
    raise LookupError(f"no bot message in chat {chat.id} has a button {label!r}")


async def redis_available() -> bool:
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        return bool(await client.ping())
    except Exception:
        return False
    finally:
        await client.aclose()
