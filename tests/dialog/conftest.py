"""A bot under test: the real Dispatcher and handlers, its HTTP session on the fake Telegram
(127.0.0.1), its campaign client on the fake campaign API, state in memory or in Redis."""

from __future__ import annotations

import asyncio
import datetime as dt
import zoneinfo
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from redis.asyncio import Redis

from bot.app import StateBackend, create_deps, create_dispatcher, create_state_backend
from bot.campaigns.client import CampaignClient
from bot.deps import AppDeps
from bot.settings import Settings
from bot.telegram import create_bot
from tests.fakes.campaign_api import FakeCampaignApi
from tests.fakes.telegram_api import BotMessage, Chat, FakeTelegram, User

TZ = zoneinfo.ZoneInfo("Asia/Yekaterinburg")
NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=TZ)
ANNA = User(id=1001, first_name="Анна", username="anna")
BORIS = User(id=1002, first_name="Борис", username="boris")
STRANGER = User(id=6666, first_name="Чужой")


@dataclass
class BotUnderTest:
    """One bot instance; several may share a Redis (replicas)."""

    fake: FakeTelegram
    api: FakeCampaignApi
    settings: Settings
    backend: StateBackend
    deps: AppDeps
    dp: Dispatcher
    bot: Bot
    clock: list[dt.datetime] = field(default_factory=lambda: [NOW])

    async def deliver(self, update: dict) -> bool:
        """Feed an update the fake queued; False when privacy mode kept it from the bot."""
        if update in self.fake.dropped:
            return False
        await self.dp.feed_raw_update(self.bot, update)
        return True

    async def say(self, chat: Chat, user: User, text: str, *, reply: bool | None = None) -> bool:
        """The user types `text`; in a group, as a reply to the bot's last message by default
        (as ForceReply makes the client do)."""
        return await self.deliver(self.fake.send_text(chat, user, text,
                                                      reply_to=self._reply_to(chat, reply)))

    async def upload(self, chat: Chat, user: User, data: bytes, filename: str, *,
                     reply: bool | None = None) -> bool:
        update = self.fake.send_document(chat, user, data, filename,
                                         reply_to=self._reply_to(chat, reply))
        return await self.deliver(update)

    async def press(self, chat: Chat, user: User, text: str, *,
                    message: BotMessage | None = None) -> bool:
        """Press the button labelled `text` on `message` (default: the newest bot message
        that has such a button)."""
        target = message or self.message_with_button(chat, text)
        data = target.button(text)["callback_data"]
        return await self.deliver(self.fake.press_button(chat, user, target.message_id, data))

    def message_with_button(self, chat: Chat, text: str) -> BotMessage:
        for message in reversed(self.fake.messages(chat.id)):
            if any(text == b.get("text") or text in b.get("text", "") for b in message.buttons):
                return message
        raise LookupError(f"no bot message in {chat.id} has a button {text!r}")

    def _reply_to(self, chat: Chat, reply: bool | None) -> int | None:
        if reply is False or (reply is None and not chat.is_group):
            return None
        last = self.fake.last_message(chat.id)
        return last.message_id if last else None

    def last_text(self, chat: Chat) -> str:
        last = self.fake.last_message(chat.id)
        assert last is not None
        return last.text or last.caption or ""

    def texts(self, chat: Chat) -> list[str]:
        return [m.text or m.caption or "" for m in self.fake.messages(chat.id)]

    async def settle(self, seconds: float = 10.0) -> None:
        """Wait for background submissions to finish (bounded)."""
        assert await self.deps.tasks.wait(seconds), "a submission did not finish in time"

    async def close(self) -> None:
        await self.deps.tasks.wait(5)
        await self.deps.campaign_client.aclose()
        await self.backend.close()
        await self.bot.session.close()


def make_settings(fake: FakeTelegram, api: FakeCampaignApi, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "bot_token": fake.token,
        "telegram_api_url": fake.base_url,
        "campaign_api_url": api.base_url,
        "campaign_project_id": 1,
        "campaign_start_block_id": 10,
        "campaign_phone_id": 5,
        "allowed_user_ids": [ANNA.id, BORIS.id],
        "timezone": "Asia/Yekaterinburg",
        "campaign_api_read_timeout": 2.0,
        "campaign_api_connect_timeout": 1.0,
        "campaign_api_connect_retries": 1,
        # Most dialog tests drive the in-group wizard (a per-chat option); tests of the
        # default, the handoff to the private chat, set "private" (tests/desk).
        "group_wizard": "group",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


def _virtual_group_minute(bot: Bot) -> None:
    """The per-group limit (20 a minute) waits on a virtual clock here: a test with two
    supervisors in one group queues its 21st message without sleeping a real minute."""
    import time

    from bot.ratelimit import GroupRateMiddleware

    shift = [0.0]

    async def sleep(seconds: float) -> None:
        shift[0] += seconds
        await asyncio.sleep(0)

    for middleware in bot.session.middleware._middlewares:
        if isinstance(middleware, GroupRateMiddleware):
            middleware.limiter.set_clock(lambda: time.monotonic() + shift[0], sleep)


@pytest.fixture(params=["memory", "redis"])
def storage_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
async def make_bot_under_test(
    fake_telegram: FakeTelegram, campaign_api: FakeCampaignApi, storage_kind: str,
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Callable[..., BotUnderTest]]:
    made: list[BotUnderTest] = []
    redis_url = prefix = None
    if storage_kind == "redis":
        redis_url = request.getfixturevalue("redis_url")
        prefix = request.getfixturevalue("redis_prefix")

    # One history file per test, shared by its bots (a restart reopens the same file).
    history_file = tmp_path_factory.mktemp("history") / "history.sqlite3"

    def make(**overrides: Any) -> BotUnderTest:
        overrides.setdefault("history_file", history_file)
        settings = make_settings(fake_telegram, campaign_api, **overrides)
        redis = Redis.from_url(redis_url) if redis_url else None
        backend = create_state_backend(settings, redis, key_prefix=prefix or "campaign-bot")
        client = CampaignClient.from_settings(settings, backoff_base=0.01, backoff_max=0.02)
        deps = create_deps(settings, backend, client)
        clock = [NOW]
        deps.clock = lambda: clock[0]
        # Lists are read in a thread here: a process pool per test would only add start-up.
        from bot.phones import ingest_bytes
        from bot.phones.executor import run_job

        async def ingest(
            data: bytes, filename: str, limits: Any, choice: Any = None, report: Any = None,
            annotate: Any = None,
        ) -> Any:
            # As a worker does it: the rejected-rows report and the zones are computed
            # beside the rows.
            args = (data, filename, limits, choice)
            return await asyncio.to_thread(run_job, ingest_bytes, args, report, annotate)

        deps.ingest = ingest
        bot = create_bot(settings)
        _virtual_group_minute(bot)
        dp = create_dispatcher(settings, deps, backend)
        instance = BotUnderTest(fake_telegram, campaign_api, settings, backend, deps, dp, bot,
                                clock)
        made.append(instance)
        return instance

    yield make
    for instance in made:
        await instance.close()


@pytest.fixture
async def app(make_bot_under_test: Callable[..., BotUnderTest]) -> BotUnderTest:
    return make_bot_under_test()
