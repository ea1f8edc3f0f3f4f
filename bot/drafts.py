"""Where a draft's uploaded phone list lives while the dialog goes on.

FSM data must stay small and JSON-safe, so it holds only a reference; the list itself
(compressed by `PhoneList.to_bytes`) is kept here, in memory or in Redis with the draft's TTL.
In Redis every value of the bot is signed (`Signer`): one written by anyone else is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import socket
import time
from typing import Any, Protocol

import orjson
from aiogram.fsm.storage.base import BaseEventIsolation
from redis.asyncio import Redis

log = logging.getLogger("bot.storage")

MAC_BYTES = 32  # HMAC-SHA256
_DERIVATION_LABEL = b"campaign-bot storage hmac v1"


class Signer:
    """HMAC-SHA256 over a Redis key's name and its value: a value forged, altered, or
    copied from another key (another user's draft) does not verify."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("HMAC key too short")
        self._key = key

    @classmethod
    def from_secret(cls, hmac_key: str | None, bot_token: str) -> Signer:
        """STORAGE_HMAC_KEY if set, else a key derived from BOT_TOKEN: the replicas of one
        bot share the token already, and whoever holds it can impersonate the bot anyway."""
        if hmac_key:
            return cls(hmac_key.encode())
        derived = hmac.new(bot_token.encode(), _DERIVATION_LABEL, hashlib.sha256).digest()
        return cls(derived)

    def _mac(self, name: str, data: bytes) -> bytes:
        mac = hmac.new(self._key, name.encode() + b"\0", hashlib.sha256)
        mac.update(data)  # not concatenated: a list is hundreds of KB
        return mac.digest()

    def seal(self, name: str, data: bytes) -> bytes:
        return self._mac(name, data) + data

    def open(self, name: str, blob: bytes) -> bytes | None:
        """The value, or None when its signature is missing or wrong."""
        mac, data = blob[:MAC_BYTES], blob[MAC_BYTES:]
        if len(mac) == MAC_BYTES and hmac.compare_digest(mac, self._mac(name, data)):
            return data
        return None

    def seal_text(self, name: str, text: str) -> str:
        # Hex, so that values stay text for a client with decode_responses=True.
        data = text.encode()
        return self._mac(name, data).hex() + "." + text

    def open_text(self, name: str, value: str | bytes) -> str | None:
        raw = value if isinstance(value, bytes) else value.encode()
        mac_hex, dot, data = raw.partition(b".")
        if not dot or len(mac_hex) != 2 * MAC_BYTES:
            return None
        try:
            mac = bytes.fromhex(mac_hex.decode("ascii"))
        except ValueError:
            return None
        if not hmac.compare_digest(mac, self._mac(name, data)):
            return None
        return data.decode("utf-8", errors="replace")


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
    def __init__(self, redis: Redis, ttl_seconds: int, prefix: str, *, signer: Signer) -> None:
        self._redis = redis
        self._ttl = ttl_seconds
        self._prefix = prefix
        self._signer = signer

    def _key(self, ref: str) -> str:
        return f"{self._prefix}:{ref}"

    async def put(self, data: bytes) -> str:
        ref = _new_ref()
        key = self._key(ref)
        await self._redis.set(key, self._signer.seal(key, data), ex=self._ttl)
        return ref

    async def get(self, ref: str) -> bytes | None:
        """The list, or None when there is none or it is not ours (the dialog then asks
        for the list again, as for an expired one)."""
        key = self._key(ref)
        blob = await self._redis.get(key)
        if blob is None:
            return None
        data = self._signer.open(key, blob)
        if data is None:
            log.warning("stored list %s failed its integrity check: refused and deleted", ref)
            await self._redis.delete(key)
        return data

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
    runs); `<prefix>:inflight-claim:<key>` (SET NX) makes one replica the reporter.
    Entries are signed like every other value: a forged one is dropped, never reported."""

    def __init__(
        self, redis: Redis, prefix: str, isolation: BaseEventIsolation, signer: Signer
    ) -> None:
        self.holder = new_replica_id()
        self.isolation = isolation
        self._redis = redis
        self._signer = signer
        self._registry = f"{prefix}:inflight"
        self._prefix = prefix

    def _beat_key(self, key: str) -> str:
        return f"{self._registry}:{key}"

    async def hold(self, key: str, entry: dict[str, Any]) -> None:
        body = self._signer.seal(
            self._beat_key(key), orjson.dumps({**entry, "holder": self.holder})
        )
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
            body = self._signer.open(self._beat_key(key), raw)
            try:
                found.append((key, orjson.loads(body if body is not None else b""), bool(alive)))
            except orjson.JSONDecodeError:
                log.warning("in-flight mark refused: not signed by this bot key=%s", key)
                await self._redis.hdel(self._registry, key)
        return found

    async def claim(self, key: str) -> bool:
        claimed = await self._redis.set(
            f"{self._prefix}:inflight-claim:{key}", self.holder, nx=True, ex=CLAIM_TTL_SECONDS
        )
        return bool(claimed)
