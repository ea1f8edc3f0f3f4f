"""Handing a group's /new over to the supervisor's private chat.

The group gets a link `https://t.me/<bot>?start=<token>`; opening it sends `/start <token>`
in private. A token is short-lived, single-use, and bound to the user who asked and the
group (and forum topic) they asked in: anyone else's `/start <token>` is refused and leaves
the token to its owner. Tokens live where drafts live: Redis (signed) or memory.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Protocol

import orjson
from redis.asyncio import Redis

from bot.drafts import Signer

# Telegram's `start` parameter: up to 64 of A-Z a-z 0-9 _ -. Ours: "g" + 22 characters.
START_PARAM = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
TOKEN_PREFIX = "g"
TOKEN = re.compile(r"^g[A-Za-z0-9_-]{22}$")


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(16)  # 128 random bits, 22 characters


def is_handoff_token(text: str) -> bool:
    return bool(TOKEN.fullmatch(text))


def deep_link(bot_username: str, token: str) -> str:
    return f"https://t.me/{bot_username}?start={token}"


@dataclass(frozen=True)
class Handoff:
    user_id: int
    chat_id: int
    thread_id: int | None = None
    chat_title: str = ""
    # The handoff answer in the group, which becomes the card.
    message_id: int | None = None
    issued: float = 0.0
    # «Repeat» pressed in the group: the history record the new draft copies.
    repeat: str | None = None


class Taken(StrEnum):
    OK = "ok"
    FOREIGN = "foreign"  # someone else's token: refused, and left to its owner
    GONE = "gone"  # expired, used already, or never issued


@dataclass(frozen=True)
class TakeResult:
    status: Taken
    handoff: Handoff | None = None


def _decode(raw: bytes) -> Handoff | None:
    try:
        return Handoff(**orjson.loads(raw))
    except (orjson.JSONDecodeError, TypeError):
        return None


class HandoffStore(Protocol):
    async def issue(self, handoff: Handoff) -> str: ...
    async def take(self, token: str, user_id: int) -> TakeResult: ...
    async def update(self, token: str, handoff: Handoff) -> None: ...


class MemoryHandoffStore:
    def __init__(self, ttl_seconds: int) -> None:
        self._ttl = ttl_seconds
        self._items: dict[str, tuple[float, Handoff]] = {}

    def _expire(self) -> None:
        now = time.monotonic()
        for token in [t for t, (deadline, _) in self._items.items() if deadline <= now]:
            del self._items[token]

    async def issue(self, handoff: Handoff) -> str:
        self._expire()
        token = new_token()
        self._items[token] = (time.monotonic() + self._ttl, handoff)
        return token

    async def update(self, token: str, handoff: Handoff) -> None:
        if token in self._items:
            self._items[token] = (self._items[token][0], handoff)

    async def take(self, token: str, user_id: int) -> TakeResult:
        self._expire()
        item = self._items.get(token) if is_handoff_token(token) else None
        if item is None:
            return TakeResult(Taken.GONE)
        if item[1].user_id != user_id:
            return TakeResult(Taken.FOREIGN)
        # No await between the check and the removal: a double tap takes it once.
        del self._items[token]
        return TakeResult(Taken.OK, item[1])


class RedisHandoffStore:
    """`<prefix>:handoff:<token>`, signed, expiring. Single use across replicas: of two
    takers only the one whose DEL removed the key gets it."""

    def __init__(self, redis: Redis, prefix: str, ttl_seconds: int, *, signer: Signer) -> None:
        self._redis = redis
        self._prefix = f"{prefix}:handoff"
        self._ttl = ttl_seconds
        self._signer = signer

    def _key(self, token: str) -> str:
        return f"{self._prefix}:{token}"

    async def issue(self, handoff: Handoff) -> str:
        token = new_token()
        key = self._key(token)
        await self._redis.set(key, self._signer.seal(key, orjson.dumps(asdict(handoff))),
                              ex=self._ttl)
        return token

    async def update(self, token: str, handoff: Handoff) -> None:
        key = self._key(token)
        await self._redis.set(key, self._signer.seal(key, orjson.dumps(asdict(handoff))),
                              xx=True, keepttl=True)

    async def take(self, token: str, user_id: int) -> TakeResult:
        if not is_handoff_token(token):
            return TakeResult(Taken.GONE)
        key = self._key(token)
        blob = await self._redis.get(key)
        data = self._signer.open(key, blob) if blob is not None else None
        handoff = _decode(data) if data is not None else None
        if handoff is None:
            return TakeResult(Taken.GONE)
        if handoff.user_id != user_id:
            return TakeResult(Taken.FOREIGN)
        if not await self._redis.delete(key):
            return TakeResult(Taken.GONE)  # the other tap took it first
        return TakeResult(Taken.OK, handoff)
