"""The "update handled" mark and the FSM state are written in one MULTI with the draft's
data (bot/redelivery.py): a crash leaves either the old draft and no mark (a redelivery
applies the update) or the new draft and the mark (a redelivery is skipped)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from aiogram.fsm.storage.base import StorageKey
from aiogram.types import Update
from redis.asyncio import Redis

from bot.app import DraftRedisStorage
from bot.drafts import Signer
from bot.redelivery import HandleOnce

pytestmark = pytest.mark.redis

BOT = SimpleNamespace(id=42)
KEY = StorageKey(bot_id=42, chat_id=7, user_id=7)
SIGNER = Signer(b"test-key-of-sixteen-bytes")


async def stored_state(redis: Redis, storage: DraftRedisStorage) -> str | None:
    """What Redis holds for KEY's state, its signature checked."""
    name = storage.key_builder.build(KEY, "state")
    value = await redis.get(name)
    return None if value is None else SIGNER.open_text(name, value)


@pytest.fixture
async def parts(redis_url: str, redis_prefix: str) -> Any:
    redis = Redis.from_url(redis_url)
    storage = DraftRedisStorage(redis, key_prefix=redis_prefix, ttl=600,
                                list_prefix=f"{redis_prefix}:list", signer=SIGNER)
    once = HandleOnce(redis, redis_prefix, 600, seal=SIGNER.seal_text, mark_ttl=600)
    try:
        yield redis, storage, once, f"{redis_prefix}:handled:42:5"
    finally:
        await redis.aclose()


async def test_state_and_mark_are_written_with_the_data(parts: Any) -> None:
    redis, storage, once, mark = parts
    await storage.set_state(KEY, "Form:name")
    seen: dict[str, Any] = {}

    async def handler(event: Update, data: dict[str, Any]) -> str:
        await storage.set_state(KEY, "Form:date")
        # Read your own write, but nothing is in Redis yet.
        seen["read"] = await storage.get_state(KEY)
        seen["in_redis"] = await stored_state(redis, storage)
        seen["marked"] = await redis.exists(mark)
        await storage.set_data(KEY, {"name": "x"})
        seen["after"] = await stored_state(redis, storage)
        seen["marked_after"] = await redis.exists(mark)
        return "done"

    assert await once(handler, Update(update_id=5), {"bot": BOT}) == "done"
    assert seen == {"read": "Form:date", "in_redis": "Form:name", "marked": 0,
                    "after": "Form:date", "marked_after": 1}
    assert 0 < await redis.ttl(mark) <= 600

    async def again(event: Update, data: dict[str, Any]) -> str:
        raise AssertionError("a redelivery must not be handled")

    assert await once(again, Update(update_id=5), {"bot": BOT}) is None


async def test_a_crash_before_the_draft_write_leaves_nothing_behind(parts: Any) -> None:
    redis, storage, once, mark = parts
    await storage.set_state(KEY, "Form:name")

    async def killed(event: Update, data: dict[str, Any]) -> None:
        await storage.set_state(KEY, "Form:date")
        raise asyncio.CancelledError  # as far as Redis can tell, the process died here

    with pytest.raises(asyncio.CancelledError):
        await once(killed, Update(update_id=5), {"bot": BOT})
    assert await storage.get_state(KEY) == "Form:name"
    assert not await redis.exists(mark)

    handled: list[int] = []

    async def redelivered(event: Update, data: dict[str, Any]) -> None:
        handled.append(event.update_id)
        await storage.set_state(KEY, "Form:date")

    await once(redelivered, Update(update_id=5), {"bot": BOT})
    assert handled == [5]
    # No draft write in this update: the state and the mark are written at its end.
    assert await storage.get_state(KEY) == "Form:date"
    assert await redis.exists(mark)


async def test_a_task_started_by_the_update_writes_its_state_at_once(parts: Any) -> None:
    redis, storage, once, _ = parts
    done = asyncio.Event()

    async def background() -> None:  # a submission spawned by the update
        await storage.set_state(KEY, "Form:summary")
        done.set()

    async def handler(event: Update, data: dict[str, Any]) -> None:
        task = asyncio.create_task(background())
        await asyncio.wait_for(done.wait(), 5)
        assert await stored_state(redis, storage) == "Form:summary"
        await task

    await once(handler, Update(update_id=6), {"bot": BOT})
