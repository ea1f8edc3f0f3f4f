"""What one update costs in Redis round trips, through the real Dispatcher on the real
Redis: the lock's acquire script also reads the state, the draft, the language choice and
the update's "handled" mark (bot/isolation.py), so a typed step is three round trips —
take the lock and read, write the draft (with the mark), release — and a redelivery two.
The read taken with the lock is used once, and never after a write or the release."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from aiogram.fsm.storage.base import StorageKey
from aiogram.types import Update
from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection

from bot.app import DraftRedisStorage
from bot.drafts import Signer
from bot.isolation import RenewingRedisEventIsolation
from bot.redelivery import AnnounceUpdate, Ticket, current_ticket
from tests.dialog.conftest import BotUnderTest
from tests.dialog.flows import SKIP
from tests.fakes.telegram_api import Chat
from tests.runtime.conftest import ANNA

pytestmark = pytest.mark.redis

COMMAND = re.compile(rb"\$\d+\r\n([A-Za-z]+)\r\n")


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The first command name of every round trip (a pipeline: MULTI), in this process."""
    names: list[str] = []
    original = AbstractConnection.send_packed_command

    async def recorded(self: AbstractConnection, command: Any, *args: Any, **kwargs: Any) -> None:
        data = command if isinstance(command, bytes | bytearray) else b"".join(
            bytes(part) for part in command
        )
        found = COMMAND.search(data)
        names.append(found.group(1).decode().upper() if found else "?")
        await original(self, command, *args, **kwargs)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", recorded)
    yield names


async def test_a_typed_step_is_three_round_trips_and_a_redelivery_two(
    make_bot_under_test: Callable[..., BotUnderTest], sent: list[str]
) -> None:
    app = make_bot_under_test()
    chat = app.fake.add_chat(Chat.private(ANNA))
    assert await app.say(chat, ANNA, "/new", reply=False)  # connections opened here
    name = app.fake.send_text(chat, ANNA, "Долги ноябрь")
    sent.clear()
    await app.dp.feed_raw_update(app.bot, name)
    # Lock taken with state, draft, language and mark read; the draft with state and mark;
    # the lock released. No EXISTS, no MGET of their own.
    assert sent == ["EVALSHA", "MULTI", "EVALSHA"]
    assert app.message_with_button(chat, SKIP), "the name was taken: next question"
    texts = app.texts(chat)
    sent.clear()
    await app.dp.feed_raw_update(app.bot, name)  # redelivered: its mark read with the lock
    assert sent == ["EVALSHA", "EVALSHA"]
    assert app.texts(chat) == texts, "a redelivery changes nothing"
    assert await app.press(chat, ANNA, SKIP), "and the dialog goes on"


async def test_the_mark_is_read_by_the_updates_first_lock_only(
    redis_url: str, redis_prefix: str
) -> None:
    redis = Redis.from_url(redis_url)
    isolation = RenewingRedisEventIsolation(redis, ttl=2)
    key = StorageKey(bot_id=1, chat_id=2, user_id=2)
    other = StorageKey(bot_id=1, chat_id=3, user_id=3)
    mark = f"{redis_prefix}:handled:1:9"
    seen: list[bool | None] = []

    async def handler(event: Any, data: dict[str, Any]) -> None:
        ticket = current_ticket()
        assert isinstance(ticket, Ticket) and ticket.mark == mark
        async with isolation.lock(key):
            seen.append(ticket.seen)
            await redis.set(mark, 1, ex=60)  # as the draft write does
            async with isolation.lock(other):  # a later lock must not answer for it
                seen.append(ticket.seen)

    try:
        await AnnounceUpdate(redis_prefix)(handler, Update(update_id=9),
                                           {"bot": SimpleNamespace(id=1)})
        assert seen == [False, False]
        assert current_ticket() is None, "the ticket ends with the update"
    finally:
        await redis.delete(mark)
        await redis.aclose()


async def test_what_the_lock_read_is_used_once_and_never_after_a_write(
    redis_url: str, redis_prefix: str, sent: list[str]
) -> None:
    redis = Redis.from_url(redis_url)
    signer = Signer(b"test-key-of-sixteen-bytes")
    storage = DraftRedisStorage(redis, key_prefix=redis_prefix, ttl=600,
                                list_prefix=f"{redis_prefix}:list", signer=signer)
    isolation = RenewingRedisEventIsolation(redis, storage.key_builder, ttl=2, prefetch=storage)
    key = StorageKey(bot_id=1, chat_id=5, user_id=5)
    other = Redis.from_url(redis_url)
    state_key = storage.key_builder.build(key, "state")
    try:
        await storage.set_state(key, "Form:a")
        async with isolation.lock(key):
            assert await storage.get_state(key) == "Form:a"  # the lock's read
            # Changed behind its back (a test's doing: the lock keeps others out): the next
            # read asks Redis, as the lock's read is used once.
            await other.set(state_key, signer.seal_text(state_key, "Form:b"))
            assert await storage.get_state(key) == "Form:b"
        async with isolation.lock(key):
            await storage.set_state(key, "Form:c")  # a write drops the lock's read
            assert await storage.get_state(key) == "Form:c"
        data_key = storage.key_builder.build(key, "data")
        await storage.set_data(key, {"name": "x"})
        sent.clear()
        async with isolation.lock(key):
            # A submission's outcome reads the draft with no get_state: the lock's read.
            assert await storage.get_data(key) == {"name": "x"}
            assert sent == ["EVALSHA"]
            await other.set(data_key, signer.seal_text(data_key, '{"name": "y"}'))
            assert await storage.get_data(key) == {"name": "y"}, "used once"
        async with isolation.lock(key):
            await storage.set_data(key, {"name": "z"})
            assert await storage.get_data(key) == {"name": "z"}, "a write drops the read"
        async with isolation.lock(key):
            pass  # read with the lock, never used
        await other.set(state_key, signer.seal_text(state_key, "Form:d"))
        assert await storage.get_state(key) == "Form:d", "released: the read is gone"
        # A forged state read with the lock is refused as one read by MGET is.
        await other.set(state_key, b"forged")
        async with isolation.lock(key):
            assert await storage.get_state(key) is None
        assert storage.take_dropped(key)
        assert not await other.exists(state_key)
    finally:
        await other.delete(state_key, storage.key_builder.build(key, "data"))
        await other.aclose()
        await redis.aclose()
