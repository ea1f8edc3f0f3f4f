"""The real `python -m bot` process: a draft survives SIGKILL, SIGTERM lets a submission end.

The fakes run in the test's event loop; the bot polls the fake Telegram over HTTP.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable

import pytest
import redis.asyncio as aioredis

from tests.dialog.flows import CREATE, CREATED, SKIP, SUMMARY, TOMORROW, contacts_xlsx
from tests.fakes.campaign_api import FakeCampaignApi
from tests.fakes.telegram_api import BotMessage, Chat, FakeTelegram, User
from tests.runtime.conftest import ANNA, BotProcess, assert_clean_log, wait_until

pytestmark = [pytest.mark.redis, pytest.mark.e2e]

STEP = 20.0  # seconds any one bot answer may take (bounded, generous for loaded CI)
START = 40.0  # a cold start imports aiogram: seconds on a loaded machine


class Driver:
    """A user typing and pressing in the fake Telegram; each step waits for the bot."""

    def __init__(self, fake: FakeTelegram, chat: Chat, user: User) -> None:
        self.fake, self.chat, self.user = fake, chat, user

    def _count(self) -> int:
        return len(self.fake.calls("sendMessage")) + len(self.fake.calls("editMessageText"))

    async def _answered(self, before: int) -> None:
        await self.fake.wait_for(lambda: self._count() > before, timeout=STEP)

    async def say(self, text: str) -> None:
        before = self._count()
        self.fake.send_text(self.chat, self.user, text)
        await self._answered(before)

    async def press(self, label: str) -> None:
        message = self.with_button(label)
        before = self._count()
        self.fake.press_button(
            self.chat, self.user, message.message_id, message.button(label)["callback_data"]
        )
        await self._answered(before)

    async def upload(self, data: bytes, filename: str) -> BotMessage:
        self.fake.send_document(self.chat, self.user, data, filename)
        return await self.fake.wait_for_message(
            self.chat.id, lambda m: SUMMARY in (m.text or ""), timeout=STEP
        )

    def with_button(self, label: str) -> BotMessage:
        for message in reversed(self.fake.messages(self.chat.id)):
            if any(label in b.get("text", "") for b in message.buttons):
                return message
        raise LookupError(label)

    async def fill_until_phones(self) -> None:
        await self.say("/new")
        await self.say("Долги ноябрь")
        await self.press(SKIP)
        await self.press(TOMORROW)
        await self.say("9-18")
        await self.say("3")
        await self.say("15")


async def _draft_keys(redis_url: str, prefix: str) -> list[bytes]:
    client = aioredis.Redis.from_url(redis_url)
    try:
        return [k async for k in client.scan_iter(match=f"{prefix}:*", count=100)]
    finally:
        await client.aclose()


async def test_draft_survives_sigkill_and_sigterm_lets_the_submission_finish(
    bot_process: Callable[..., BotProcess],
    fake_telegram: FakeTelegram,
    campaign_api: FakeCampaignApi,
    redis_url: str,
    redis_prefix: str,
) -> None:
    """One scenario, two process starts (each costs seconds of aiogram imports):
    upload a list, SIGKILL; restart, "Create" on the old summary; SIGTERM while the POST
    waits for its answer: the POST finishes, the user is told, then the process exits 0."""
    chat = fake_telegram.add_chat(Chat.private(ANNA))
    driver = Driver(fake_telegram, chat, ANNA)

    first = await bot_process()
    await fake_telegram.wait_polling(timeout=START)
    await driver.fill_until_phones()
    summary = await driver.upload(contacts_xlsx(), "Клиенты.xlsx")
    assert "Номеров: 2" in (summary.text or "")
    await fake_telegram.wait_confirmed(timeout=STEP)
    # The upload's handler has let go of the user's lock: it saved the draft and returned.
    # (Killed while holding it, the next process would wait up to its 60 s timeout.)
    deadline = asyncio.get_running_loop().time() + STEP
    while any(k.endswith(b":lock") for k in await _draft_keys(redis_url, redis_prefix)):
        assert asyncio.get_running_loop().time() < deadline, "the update lock was not released"
        await asyncio.sleep(0.05)
    keys = {k.decode() for k in await _draft_keys(redis_url, redis_prefix)}
    assert any(k.endswith(":data") for k in keys) and any(":list:" in k for k in keys)

    first.kill_group()  # SIGKILL: no shutdown hook, nothing saved on the way out
    assert await first.wait(5) == -signal.SIGKILL
    first_log = first.output()
    assert "campaign created" not in first_log

    second = await bot_process()
    await fake_telegram.wait_polling(timeout=START)
    # The same question (the summary), the same list: "Create" on the old message works.
    campaign_api.fail_next(delay=1.5)  # a slow but successful answer
    await driver.press(CREATE)
    await wait_until(lambda: campaign_api.campaign_requests, timeout=STEP)
    second.signal(signal.SIGTERM)  # while the POST waits for its answer
    assert not campaign_api.created

    assert await second.wait(STEP) == 0
    assert len(campaign_api.campaign_requests) == 1
    body = campaign_api.campaign_requests[0].json
    assert body["campaign"]["name"] == "Долги ноябрь"
    assert body["phones"] == [
        {"phone": "+79161234567", "add_data": {"name": "Иванов Иван", "time": "10:00"}},
        {"phone": "+79161234568", "add_data": {"name": "Петрова Анна", "time": "15:05"}},
    ]
    [campaign_id] = campaign_api.created
    # The answer was shown before the process exited: the Bot session was still open.
    assert any(
        f"{CREATED} {campaign_id}" in (m.text or "") for m in fake_telegram.messages(chat.id)
    )
    # Done: the draft is gone from Redis (the language choice may stay, the "update
    # handled" marks, which expire by themselves: bot/redelivery.py, and the history).
    # The list is kept for «Repeat» from the history, expiring with the draft's TTL (24 h).
    left = [k for k in await _draft_keys(redis_url, redis_prefix)
            if b":prefs:" not in k and b":handled:" not in k and b":history:" not in k]
    assert all(b":list:" in k for k in left), left
    client = aioredis.Redis.from_url(redis_url)
    try:
        for key in left:
            assert 0 < await client.ttl(key) <= 24 * 3600
    finally:
        await client.aclose()

    log = second.output()  # both processes wrote to the same file
    assert_clean_log(log)
    lines = log.splitlines()
    audit = f"campaign created id={campaign_id} user={ANNA.id} chat={chat.id} phones=2"
    created = next(i for i, line in enumerate(lines) if audit in line)
    closed = next(i for i, line in enumerate(lines) if "campaign API client closed" in line)
    sigterm = next(i for i, line in enumerate(lines) if "Received SIGTERM" in line)
    assert sigterm < created < closed
    assert "connections closed" in lines[-2] + lines[-1]
    # One line per update, with the state it left the draft in.
    updates = [line for line in lines if "bot.updates: update id=" in line]
    assert len(updates) == len(fake_telegram.updates)
    assert any("state=CampaignForm:summary" in line for line in updates)
    assert "bot.api: api method=sendMessage chat=" in log
