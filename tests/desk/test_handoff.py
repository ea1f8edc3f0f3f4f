"""Deep-link tokens: within Telegram's `start` limit, single-use, short-lived, bound to the
user and the group; memory and Redis (the real redis-server)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from bot.drafts import Signer
from bot.handoff import (
    START_PARAM,
    Handoff,
    HandoffStore,
    MemoryHandoffStore,
    RedisHandoffStore,
    Taken,
    deep_link,
)

ANNA, BORIS = 1001, 1002
GROUP = -1001000000001
SIGNER = Signer(b"0123456789abcdef0123")


@pytest.fixture(params=["memory", "redis"])
async def make_store(request: pytest.FixtureRequest) -> AsyncIterator:
    redises: list[Redis] = []

    def make(ttl: int = 60) -> HandoffStore:
        if request.param == "memory":
            return MemoryHandoffStore(ttl)
        redis = Redis.from_url(request.getfixturevalue("redis_url"))
        redises.append(redis)
        return RedisHandoffStore(redis, request.getfixturevalue("redis_prefix"), ttl,
                                 signer=SIGNER)

    yield make
    for redis in redises:
        await redis.aclose()


async def test_token_fits_the_start_parameter_and_is_single_use(make_store) -> None:
    store = make_store()
    handoff = Handoff(user_id=ANNA, chat_id=GROUP, thread_id=7, chat_title="Отдел", message_id=5)
    tokens = {await store.issue(handoff) for _ in range(20)}
    assert len(tokens) == 20
    for token in tokens:
        assert START_PARAM.fullmatch(token) and len(token) <= 64
        link = deep_link("campaign_test_bot", token)
        assert link == f"https://t.me/campaign_test_bot?start={token}"
    token = tokens.pop()
    taken = await store.take(token, ANNA)
    assert taken.status == Taken.OK and taken.handoff == handoff
    assert (await store.take(token, ANNA)).status == Taken.GONE


async def test_a_strangers_token_is_refused_and_left_to_its_owner(make_store) -> None:
    store = make_store()
    token = await store.issue(Handoff(user_id=ANNA, chat_id=GROUP))
    assert (await store.take(token, BORIS)).status == Taken.FOREIGN
    taken = await store.take(token, ANNA)
    assert taken.status == Taken.OK and taken.handoff and taken.handoff.chat_id == GROUP
    assert (await store.take("g" + "A" * 22, ANNA)).status == Taken.GONE
    assert (await store.take("../../etc", ANNA)).status == Taken.GONE


async def test_two_taps_at_once_take_it_once(make_store) -> None:
    store = make_store()
    token = await store.issue(Handoff(user_id=ANNA, chat_id=GROUP))
    results = await asyncio.gather(*(store.take(token, ANNA) for _ in range(8)))
    assert [r.status for r in results].count(Taken.OK) == 1


async def test_a_token_expires(make_store) -> None:
    store = make_store(ttl=1)
    token = await store.issue(Handoff(user_id=ANNA, chat_id=GROUP))
    await asyncio.sleep(1.3)
    assert (await store.take(token, ANNA)).status == Taken.GONE


async def test_update_keeps_the_token(make_store) -> None:
    store = make_store()
    token = await store.issue(Handoff(user_id=ANNA, chat_id=GROUP))
    await store.update(token, Handoff(user_id=ANNA, chat_id=GROUP, message_id=42))
    taken = await store.take(token, ANNA)
    assert taken.handoff and taken.handoff.message_id == 42


async def test_an_unsigned_redis_token_is_refused(redis_url: str, redis_prefix: str) -> None:
    redis = Redis.from_url(redis_url)
    try:
        store = RedisHandoffStore(redis, redis_prefix, 60, signer=SIGNER)
        token = "g" + "B" * 22
        await redis.set(f"{redis_prefix}:handoff:{token}",
                        b"\0" * 32 + b'{"user_id": 1001, "chat_id": -5}')
        assert (await store.take(token, ANNA)).status == Taken.GONE
    finally:
        await redis.aclose()
