"""Where a draft's uploaded phone list lives while the dialog goes on.

FSM data must stay small and JSON-safe, so it holds only a reference; the list itself
(compressed by `PhoneList.to_bytes`) is kept here, in memory or in Redis with the draft's TTL.
"""

from __future__ import annotations

import secrets
import time
from typing import Protocol

from redis.asyncio import Redis


class PhoneListStore(Protocol):
    async def put(self, data: bytes) -> str: ...
    async def get(self, ref: str) -> bytes | None: ...
    async def delete(self, ref: str) -> None: ...
    async def close(self) -> None: ...


def _new_ref() -> str:
    return secrets.token_urlsafe(12)


class MemoryPhoneListStore:
    def __init__(self, ttl_seconds: int) -> None:
        self._ttl = ttl_seconds
        self._items: dict[str, tuple[float, bytes]] = {}

    def _expire(self) -> None:
        now = time.monotonic()
        for ref in [r for r, (deadline, _) in self._items.items() if deadline <= now]:
            del self._items[ref]

    async def put(self, data: bytes) -> str:
        self._expire()
        ref = _new_ref()
        self._items[ref] = (time.monotonic() + self._ttl, data)
        return ref

    async def get(self, ref: str) -> bytes | None:
        self._expire()
        item = self._items.get(ref)
        return item[1] if item else None

    async def delete(self, ref: str) -> None:
        self._items.pop(ref, None)

    async def close(self) -> None:
        self._items.clear()


class RedisPhoneListStore:
    def __init__(self, redis: Redis, ttl_seconds: int, prefix: str) -> None:
        self._redis = redis
        self._ttl = ttl_seconds
        self._prefix = prefix

    def _key(self, ref: str) -> str:
        return f"{self._prefix}:{ref}"

    async def put(self, data: bytes) -> str:
        ref = _new_ref()
        await self._redis.set(self._key(ref), data, ex=self._ttl)
        return ref

    async def get(self, ref: str) -> bytes | None:
        return await self._redis.get(self._key(ref))

    async def delete(self, ref: str) -> None:
        await self._redis.delete(self._key(ref))

    async def close(self) -> None:
        # The Redis connection belongs to the storage; whoever created it closes it.
        return None
