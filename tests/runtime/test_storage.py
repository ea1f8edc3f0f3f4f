"""Drafts in Redis: an abandoned draft and its list expire; a language choice does not;
lists are stored compactly (the figure for docs/runtime.md)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

import pytest
from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.memory import MemoryStorage
from redis.asyncio import Redis

from bot.app import DraftRedisStorage, create_state_backend
from bot.drafts import MAC_BYTES, RedisPhoneListStore, Signer
from bot.phones import PhoneList
from tests.dialog.conftest import BotUnderTest
from tests.dialog.flows import CREATE, contacts_xlsx, fill_until_phones
from tests.fakes.telegram_api import Chat
from tests.runtime.conftest import ANNA

pytestmark = pytest.mark.redis

ONE_SECOND = 1 / 3600  # DRAFT_TTL_HOURS


def _key(app: BotUnderTest, chat: Chat) -> StorageKey:
    return StorageKey(bot_id=app.bot.id, chat_id=chat.id, user_id=ANNA.id)


async def _keys(redis: Redis, prefix: str) -> set[str]:
    return {k.decode() async for k in redis.scan_iter(match=f"{prefix}:*", count=100)}


def test_ttl_is_rounded_and_never_zero(make_bot_under_test: Callable[..., BotUnderTest]) -> None:
    app = make_bot_under_test()
    assert app.settings.draft_ttl_seconds == 24 * 3600
    assert app.settings.model_copy(update={"draft_ttl_hours": ONE_SECOND}).draft_ttl_seconds == 1
    tiny = app.settings.model_copy(update={"draft_ttl_hours": 1e-9})
    assert tiny.draft_ttl_seconds == 1


async def test_memory_by_default(make_bot_under_test: Callable[..., BotUnderTest]) -> None:
    settings = make_bot_under_test().settings
    assert settings.redis_url is None
    backend = create_state_backend(settings)
    try:
        assert isinstance(backend.storage, MemoryStorage)
        assert backend.redis is None
    finally:
        await backend.close()


async def test_an_abandoned_draft_and_its_list_expire(
    make_bot_under_test: Callable[..., BotUnderTest], redis_prefix: str
) -> None:
    app = make_bot_under_test(draft_ttl_hours=ONE_SECOND)
    assert isinstance(app.backend.storage, DraftRedisStorage)
    redis = app.backend.redis
    assert redis is not None
    chat = app.fake.add_chat(Chat.private(ANNA))
    # Each step rewrites the draft, which restarts its TTL: the dialog goes on meanwhile.
    await fill_until_phones(app, chat, ANNA)
    assert await app.upload(chat, ANNA, contacts_xlsx(), "Клиенты.xlsx")
    data = await app.backend.storage.get_data(_key(app, chat))
    list_key = f"{redis_prefix}:list:{data['phones_ref']}"
    keys = await _keys(redis, redis_prefix)
    assert list_key in keys and any(k.endswith(":data") for k in keys)
    for key in keys:
        assert 0 < await redis.pttl(key) <= 1000, key

    deadline = asyncio.get_running_loop().time() + 5
    while await _keys(redis, redis_prefix):
        assert asyncio.get_running_loop().time() < deadline, "draft keys did not expire"
        await asyncio.sleep(0.1)
    assert await app.backend.storage.get_state(_key(app, chat)) is None
    assert await app.backend.phone_lists.get(data["phones_ref"]) is None
    # A press on the expired draft's summary changes nothing and creates nothing.
    assert await app.press(chat, ANNA, CREATE)
    assert app.api.campaign_requests == []


async def test_the_list_lives_as_long_as_its_draft(
    make_bot_under_test: Callable[..., BotUnderTest], redis_prefix: str
) -> None:
    """Every change of the draft renews its list's TTL too, not only the upload."""
    app = make_bot_under_test()
    storage = app.backend.storage
    redis = app.backend.redis
    assert isinstance(storage, DraftRedisStorage) and redis is not None
    ref = await app.backend.phone_lists.put(b"list")
    list_key = f"{redis_prefix}:list:{ref}"
    await redis.expire(list_key, 5)
    key = StorageKey(bot_id=1, chat_id=2, user_id=2)
    await storage.set_data(key, {"phones_ref": ref, "name": "x"})
    assert await redis.ttl(list_key) > 24 * 3600 - 10


async def test_a_language_choice_does_not_expire(
    make_bot_under_test: Callable[..., BotUnderTest], redis_prefix: str
) -> None:
    app = make_bot_under_test(draft_ttl_hours=ONE_SECOND)
    redis = app.backend.redis
    assert redis is not None
    preference = app.dp.workflow_data["language_preference"]
    await preference.set(app.bot.id, ANNA.id, "en")
    [key] = [k for k in await _keys(redis, redis_prefix) if ":prefs:" in k]
    assert await redis.ttl(key) == -1  # no expiry
    assert await preference.get(app.bot.id, ANNA.id) == "en"


def _phones(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    found: dict[str, None] = {}  # distinct, in the random order of an uploaded file
    while len(found) < count:
        found[f"+79{rng.randrange(10**9):09d}"] = None
    return list(found)


async def test_bytes_stored_per_100k_phones(redis_url: str, redis_prefix: str) -> None:
    """The figure quoted in docs/runtime.md: what one uploaded list costs in Redis."""
    rng = random.Random(11)
    phones = _phones(100_000)
    names = ["Иванов Иван", "Петрова Анна", "Сидоров Пётр", "Кузнецова Мария"]
    plain = PhoneList(phones, [], [])
    with_columns = PhoneList(
        phones,
        ["name", "time"],
        [
            [rng.choice(names) for _ in phones],
            [f"{rng.randrange(9, 18):02d}:{rng.choice((0, 30)):02d}" for _ in phones],
        ],
    )
    redis = Redis.from_url(redis_url)
    store = RedisPhoneListStore(
        redis, 60, prefix=f"{redis_prefix}:list", signer=Signer(b"k" * 32)
    )
    try:
        sizes = {}
        for label, phone_list in (("phones", plain), ("phones+name+time", with_columns)):
            blob = phone_list.to_bytes()
            ref = await store.put(blob)
            # The blob and its HMAC-SHA256.
            assert await redis.strlen(f"{redis_prefix}:list:{ref}") == len(blob) + MAC_BYTES
            assert PhoneList.from_bytes(await store.get(ref) or b"").phones == phones
            sizes[label] = len(blob)
        print(f"bytes per 100k phones: {sizes}")
        # docs/runtime.md: ~0.53 MB for the numbers alone, ~0.69 MB with two short columns.
        assert sizes["phones"] < 600_000
        assert sizes["phones+name+time"] < 800_000
        assert sizes["phones"] < len("\n".join(phones)) / 2
    finally:
        await redis.aclose()
