"""Where a draft's uploaded phone list lives while the dialog goes on.

FSM data must stay small and JSON-safe, so it holds only a reference; the list itself
(compressed by `PhoneList.to_bytes`) is kept here, in memory or in Redis with the draft's TTL.
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from typing import Any, Protocol

import orjson
from aiogram.fsm.storage.base import BaseEventIsolation
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


# --- in-flight submissions ------------------------------------------------------------------
#
# A submission's mark names its holder (this process) and is kept alive by it while the POST
# runs. A mark whose heartbeat stopped is an interrupted submission: its holder died.

# A dead sender is noticed within TTL + one sweep (every HEARTBEAT_EVERY_SECONDS).
HEARTBEAT_TTL_SECONDS = 10
HEARTBEAT_EVERY_SECONDS = 3.0
CLAIM_TTL_SECONDS = 60


# Holders made in this process (tests run several replicas in one).
LOCAL_HOLDERS: set[str] = set()


def this_host() -> str:
    # HOSTNAME as Docker sets it (the container); tests give replicas hosts of their own.
    return os.environ.get("HOSTNAME") or socket.gethostname()


def new_replica_id() -> str:
    holder = f"{this_host()}-{os.getpid()}-{secrets.token_hex(3)}"
    LOCAL_HOLDERS.add(holder)
    return holder


def inflight_key(chat_id: int, user_id: int, dialog: str) -> str:
    return f"{chat_id}:{user_id}:{dialog}"


class InFlightMarks(Protocol):
    holder: str
    # The per-user update lock: whoever acts on an interrupted mark does it under it.
    isolation: BaseEventIsolation

    async def hold(self, key: str, entry: dict[str, Any]) -> None: ...
    async def beat(self, key: str) -> None: ...
    async def release(self, key: str) -> None: ...
    async def alive(self, key: str) -> bool: ...
    async def scan(self) -> list[tuple[str, dict[str, Any], bool]]: ...
    async def claim(self, key: str) -> bool: ...


class MemoryInFlightMarks:
    """Memory storage: this process is the only holder, and its death takes the drafts
    with it; a mark in a draft that is not held here was left by someone else (dead)."""

    def __init__(self, isolation: BaseEventIsolation) -> None:
        self.holder = new_replica_id()
        self.isolation = isolation
        self._held: dict[str, dict[str, Any]] = {}

    async def hold(self, key: str, entry: dict[str, Any]) -> None:
        self._held[key] = {**entry, "holder": self.holder}

    async def beat(self, key: str) -> None:
        return None

    async def release(self, key: str) -> None:
        self._held.pop(key, None)

    async def alive(self, key: str) -> bool:
        return key in self._held

    async def scan(self) -> list[tuple[str, dict[str, Any], bool]]:
        return []

    async def claim(self, key: str) -> bool:
        return True


class RedisInFlightMarks:
    """`<prefix>:inflight` (hash: key -> entry) lists the submissions in flight;
    `<prefix>:inflight:<key>` is the holder's heartbeat (short TTL, renewed while the POST
    runs); `<prefix>:inflight-claim:<key>` (SET NX) makes one replica the reporter."""

    def __init__(self, redis: Redis, prefix: str, isolation: BaseEventIsolation) -> None:
        self.holder = new_replica_id()
        self.isolation = isolation
        self._redis = redis
        self._registry = f"{prefix}:inflight"
        self._prefix = prefix

    def _beat_key(self, key: str) -> str:
        return f"{self._registry}:{key}"

    async def hold(self, key: str, entry: dict[str, Any]) -> None:
        body = orjson.dumps({**entry, "holder": self.holder})
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(self._beat_key(key), self.holder, ex=HEARTBEAT_TTL_SECONDS)
            pipe.hset(self._registry, key, body)
            await pipe.execute()

    async def beat(self, key: str) -> None:
        await self._redis.set(self._beat_key(key), self.holder, ex=HEARTBEAT_TTL_SECONDS)

    async def release(self, key: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._beat_key(key))
            pipe.hdel(self._registry, key)
            await pipe.execute()

    async def alive(self, key: str) -> bool:
        return bool(await self._redis.exists(self._beat_key(key)))

    async def scan(self) -> list[tuple[str, dict[str, Any], bool]]:
        """Every registered submission: (key, entry, whether its heartbeat is alive)."""
        entries = await self._redis.hgetall(self._registry)
        if not entries:
            return []
        keys = [k.decode() if isinstance(k, bytes) else k for k in entries]
        async with self._redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.exists(self._beat_key(key))
            beating = await pipe.execute()
        found = []
        for key, raw, alive in zip(keys, entries.values(), beating, strict=True):
            try:
                found.append((key, orjson.loads(raw), bool(alive)))
            except orjson.JSONDecodeError:
                await self._redis.hdel(self._registry, key)
        return found

    async def claim(self, key: str) -> bool:
        claimed = await self._redis.set(
            f"{self._prefix}:inflight-claim:{key}", self.holder, nx=True, ex=CLAIM_TTL_SECONDS
        )
        return bool(claimed)
