"""One update at a time per user and chat, across replicas, without a dead replica blocking
anyone for long.

The lock lives `LOCK_TTL_SECONDS` and is renewed every third of that while its holder is
alive and still handling the update, so a SIGKILLed holder frees it within the TTL. A waiter
gives up after `LOCK_WAIT_SECONDS` (the TTL plus a margin) with `LockBusy`, which the error
handler below turns into «Секунду, повторите нажатие» instead of dropping the update.

Taking the lock also reads, in the same round trip and atomically with it, what the update
reads first: the draft's state, data and the user's language (`Prefetch`, the storage) and
the update's "handled" mark (`Ticket`, bot/redelivery.py). One Lua script (EVALSHA).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import Any, Protocol

from aiogram.exceptions import TelegramAPIError
from aiogram.filters import ExceptionTypeFilter
from aiogram.fsm.storage.base import KeyBuilder, StorageKey
from aiogram.fsm.storage.redis import RedisEventIsolation
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import gettext as _
from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import LockError, RedisError

from bot.redelivery import current_ticket
from bot.tasks import stop_requested

log = logging.getLogger("bot.isolation")

# Read at construction time (not import time) so tests can shorten them.
# 6 s: a waiter behind a dead holder gets its turn within the TTL plus a redelivery, under
# the 10 s promise (measured with 10 s: up to 10.3 s). Renewed every 2 s.
LOCK_TTL_SECONDS = 6.0
LOCK_WAIT_MARGIN_SECONDS = 2.0


# SET NX PX as redis-py's Lock does, and only once it is taken, MGET of the keys to read.
ACQUIRE_AND_READ_SCRIPT = """
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {1, redis.call('mget', unpack(KEYS, 2))}
end
return {0}
"""


class Prefetch(Protocol):
    """What the storage wants read with the lock, and where the values go."""

    def prefetch_keys(self, key: StorageKey) -> list[str]: ...

    def prefetched(self, values: dict[str, Any] | None) -> None: ...


class ReadingLock(Lock):
    """redis-py's Lock (token, release, reacquire unchanged) whose acquire also reads
    `reads` in the same script, once the lock is taken."""

    lua_acquire_read = None

    def __init__(self, redis: Redis, name: str, *, reads: list[str], **kwargs: Any) -> None:
        super().__init__(redis, name, **kwargs)
        self.reads = reads
        self.values: dict[str, Any] | None = None
        cls = type(self)
        if cls.lua_acquire_read is None:
            cls.lua_acquire_read = redis.register_script(ACQUIRE_AND_READ_SCRIPT)

    async def do_acquire(self, token: str | bytes) -> bool:
        if not self.reads:
            return await super().do_acquire(token)
        assert self.timeout, "the update lock always expires"
        got = await self.lua_acquire_read(
            keys=[self.name, *self.reads], args=[token, int(self.timeout * 1000)],
            client=self.redis,
        )
        if not got[0]:
            return False
        self.values = dict(zip(self.reads, got[1], strict=True))
        return True


class LockBusy(Exception):
    """The user's previous update still holds the lock after the waiter's whole wait."""


class RenewingRedisEventIsolation(RedisEventIsolation):
    """aiogram's RedisEventIsolation with a short-lived lock kept alive by a renewal task."""

    def __init__(
        self,
        redis: Redis,
        key_builder: KeyBuilder | None = None,
        *,
        ttl: float | None = None,
        wait: float | None = None,
        prefetch: Prefetch | None = None,
    ) -> None:
        ttl = LOCK_TTL_SECONDS if ttl is None else ttl
        wait = ttl + LOCK_WAIT_MARGIN_SECONDS if wait is None else wait
        # thread_local=False: the renewal task must see the token the acquiring task set.
        super().__init__(
            redis,
            key_builder,
            lock_kwargs={"timeout": ttl, "blocking_timeout": wait, "thread_local": False},
        )
        self.ttl = ttl
        self.wait = wait
        self.prefetch = prefetch

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        name = self.key_builder.build(key, "lock")
        reads = self.prefetch.prefetch_keys(key) if self.prefetch is not None else []
        ticket = current_ticket()
        # Only the update's first lock (the FSM middleware's) answers for its mark.
        mark = ticket.mark if ticket is not None and ticket.seen is None else None
        lock = ReadingLock(self.redis, name, reads=reads + ([mark] if mark else []),
                           **self.lock_kwargs)
        if not await lock.acquire():
            raise LockBusy(f"lock not freed in {self.wait:.0f} s")
        if lock.values is not None:
            if ticket is not None and mark is not None:
                ticket.seen = lock.values.pop(mark) is not None
            if self.prefetch is not None:
                self.prefetch.prefetched(lock.values)
        renewal = asyncio.create_task(self._renew(lock), name=f"renew {name}")
        try:
            yield None
        finally:
            if self.prefetch is not None:
                self.prefetch.prefetched(None)  # read under this lock: stale once it is gone
            renewal.cancel()
            # Bounded: a renewal that lost its cancel would otherwise hold this update,
            # and renew the user's lock, for ever (see _renew).
            await asyncio.wait([renewal], timeout=self.ttl)
            if not renewal.done():
                log.warning("update lock renewal did not stop; cancelled again")
                renewal.cancel()
            try:
                await lock.release()
            except LockError:
                # Expired and maybe taken: the loop stalled longer than the TTL.
                log.warning("update lock had expired before its release")

    async def _renew(self, lock: Lock) -> None:
        while True:
            await asyncio.sleep(self.ttl / 3)
            try:
                await lock.reacquire()
            except LockError:
                log.warning("update lock lost before the update was handled")
                return
            except RedisError as error:
                # A blip: the next round may get through before the TTL runs out.
                log.warning("update lock not renewed: %s", type(error).__name__)
            # The update is done, but the cancel that said so landed inside the command
            # and was lost there (seen under 200 dialogs at once: the renewal then kept
            # the user's lock, and the update, alive for good).
            if stop_requested():
                return


async def on_lock_busy(event: ErrorEvent) -> bool:
    """The update could not get its turn in time: say so, briefly, in the answer to it."""
    update = event.update
    log.warning("update %s: lock busy, asked to repeat", update.update_id)
    text = _("One moment, please tap again")
    with contextlib.suppress(TelegramAPIError):
        if update.callback_query is not None:
            await update.callback_query.answer(text)
        elif update.message is not None:
            await update.message.reply(text)
    return True


LOCK_BUSY_FILTER = ExceptionTypeFilter(LockBusy)
