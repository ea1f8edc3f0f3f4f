"""What the bot launched: every created campaign and every submission of unknown outcome.

Kept in Redis when REDIS_URL is set (replicas share it), else in an embedded SQLite file
(HISTORY_FILE); both survive restarts and forget records older than HISTORY_RETENTION_DAYS.
Nothing else depends on it: `SafeHistory` logs a failing store and carries on, so a campaign
goes out whether or not its record could be written.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

import orjson
from pydantic import BaseModel, ConfigDict, ValidationError
from redis.asyncio import Redis

from bot.drafts import Signer

log = logging.getLogger("bot.history")

# A slow store must not hold a campaign's result back for long.
STORE_TIMEOUT_SECONDS = 3.0
PAGE_SIZE = 10

Outcome = Literal["created", "unknown"]


def new_record_id() -> str:
    # 12 url-safe characters: unique enough, and short for 64-byte callback data.
    return secrets.token_urlsafe(9)


class HistoryRecord(BaseModel):
    """One launch, with every field a repeat needs (never the numbers themselves: only a
    reference to the stored list, which expires on its own)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    outcome: Outcome
    campaign_id: int | None = None
    name: str
    description: str = ""
    author_id: int
    author_name: str = ""
    approver_id: int | None = None
    approver_name: str | None = None
    chat_id: int
    thread_id: int | None = None
    at: float  # epoch seconds, when recorded
    date: str  # ISO date the campaign starts
    start: str  # HH:MM
    end: str
    attempts: int
    interval: int | None = None
    count: int
    scenario: str | None = None
    caller: str | None = None
    phones_ref: str | None = None
    add_data_keys: tuple[str, ...] = ()


@dataclass
class HistoryPage:
    records: list[HistoryRecord] = field(default_factory=list)
    total: int = 0
    # False when the store failed: "history unavailable", not "no campaigns yet".
    available: bool = True


class HistoryStore(Protocol):
    async def add(self, record: HistoryRecord) -> None: ...
    async def get(self, record_id: str) -> HistoryRecord | None: ...
    async def page(
        self, *, chat_id: int | None = None, author_id: int | None = None,
        offset: int = 0, limit: int = PAGE_SIZE,
    ) -> HistoryPage: ...
    async def close(self) -> None: ...


def _scope(chat_id: int | None, author_id: int | None) -> tuple[str, int]:
    if (chat_id is None) == (author_id is None):
        raise ValueError("exactly one of chat_id and author_id")
    return ("chat", chat_id) if chat_id is not None else ("user", author_id)  # type: ignore[return-value]


class RedisHistoryStore:
    """`<prefix>:history:rec:<id>` holds a record (signed, expiring after the retention);
    `<prefix>:history:chat:<chat>` and `...:user:<user>` are sorted sets of ids by time."""

    def __init__(
        self, redis: Redis, prefix: str, *, signer: Signer, retention_seconds: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = redis
        self._prefix = f"{prefix}:history"
        self._signer = signer
        self._retention = retention_seconds
        self._clock = clock

    def _rec(self, record_id: str) -> str:
        return f"{self._prefix}:rec:{record_id}"

    def _index(self, kind: str, value: int) -> str:
        return f"{self._prefix}:{kind}:{value}"

    async def add(self, record: HistoryRecord) -> None:
        key = self._rec(record.id)
        ttl = max(1, round(record.at + self._retention - self._clock()))
        cutoff = self._clock() - self._retention
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(key, self._signer.seal(key, orjson.dumps(record.model_dump())), ex=ttl)
            for index in (self._index("chat", record.chat_id),
                          self._index("user", record.author_id)):
                pipe.zadd(index, {record.id: record.at})
                pipe.zremrangebyscore(index, "-inf", cutoff)
                pipe.expire(index, max(1, round(self._retention)))
            await pipe.execute()

    def _decode(self, key: str, blob: bytes | None) -> HistoryRecord | None:
        if blob is None:
            return None
        data = self._signer.open(key, blob)
        if data is None:
            log.warning("history record failed its integrity check: ignored")
            return None
        try:
            return HistoryRecord.model_validate(orjson.loads(data))
        except (orjson.JSONDecodeError, ValidationError):
            return None

    async def get(self, record_id: str) -> HistoryRecord | None:
        key = self._rec(record_id)
        found = self._decode(key, await self._redis.get(key))
        # Redis expires it on its own clock; the retention is judged on ours as well.
        if found is None or found.at < self._clock() - self._retention:
            return None
        return found

    async def page(
        self, *, chat_id: int | None = None, author_id: int | None = None,
        offset: int = 0, limit: int = PAGE_SIZE,
    ) -> HistoryPage:
        index = self._index(*_scope(chat_id, author_id))
        await self._redis.zremrangebyscore(index, "-inf", self._clock() - self._retention)
        total = int(await self._redis.zcard(index))
        ids = [i.decode() if isinstance(i, bytes) else str(i)
               for i in await self._redis.zrevrange(index, offset, offset + limit - 1)]
        if not ids:
            return HistoryPage([], total)
        keys = [self._rec(i) for i in ids]
        blobs = await self._redis.mget(keys)
        records = [r for k, b in zip(keys, blobs, strict=True) if (r := self._decode(k, b))]
        return HistoryPage(records, total)

    async def close(self) -> None:
        return None  # the connection belongs to the state backend


class SqliteHistoryStore:
    """One table in a local file; calls run in a thread, one at a time (sqlite3 objects
    are not shared between threads concurrently)."""

    def __init__(
        self, path: Path, *, retention_seconds: float, clock: Callable[[], float] = time.time
    ) -> None:
        self._path = path
        self._retention = retention_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._db is None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self._path, check_same_thread=False, timeout=5.0)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS history (id TEXT PRIMARY KEY, chat_id INTEGER NOT "
                "NULL, author_id INTEGER NOT NULL, at REAL NOT NULL, body BLOB NOT NULL)"
            )
            db.execute("CREATE INDEX IF NOT EXISTS history_chat ON history (chat_id, at)")
            db.execute("CREATE INDEX IF NOT EXISTS history_author ON history (author_id, at)")
            db.commit()
            self._db = db
        return self._db

    async def _run(self, job: Callable[[sqlite3.Connection], object]) -> object:
        def call() -> object:
            with self._lock:
                db = self._connect()
                with db:  # one transaction, committed or rolled back
                    return job(db)

        return await asyncio.to_thread(call)

    def _prune(self, db: sqlite3.Connection) -> None:
        db.execute("DELETE FROM history WHERE at < ?", (self._clock() - self._retention,))

    async def add(self, record: HistoryRecord) -> None:
        body = orjson.dumps(record.model_dump())

        def job(db: sqlite3.Connection) -> None:
            self._prune(db)
            db.execute(
                "INSERT OR REPLACE INTO history (id, chat_id, author_id, at, body) "
                "VALUES (?, ?, ?, ?, ?)",
                (record.id, record.chat_id, record.author_id, record.at, body),
            )

        await self._run(job)

    @staticmethod
    def _decode(body: bytes) -> HistoryRecord | None:
        try:
            return HistoryRecord.model_validate(orjson.loads(body))
        except (orjson.JSONDecodeError, ValidationError):
            return None

    async def get(self, record_id: str) -> HistoryRecord | None:
        cutoff = self._clock() - self._retention

        def job(db: sqlite3.Connection) -> object:
            return db.execute(
                "SELECT body FROM history WHERE id = ? AND at >= ?", (record_id, cutoff)
            ).fetchone()

        row = await self._run(job)
        return self._decode(row[0]) if row else None  # type: ignore[index]

    async def page(
        self, *, chat_id: int | None = None, author_id: int | None = None,
        offset: int = 0, limit: int = PAGE_SIZE,
    ) -> HistoryPage:
        kind, value = _scope(chat_id, author_id)
        column = "chat_id" if kind == "chat" else "author_id"

        def job(db: sqlite3.Connection) -> object:
            self._prune(db)
            total = db.execute(
                f"SELECT COUNT(*) FROM history WHERE {column} = ?", (value,)
            ).fetchone()[0]
            rows = db.execute(
                f"SELECT body FROM history WHERE {column} = ? "
                "ORDER BY at DESC, id LIMIT ? OFFSET ?",
                (value, limit, offset),
            ).fetchall()
            return total, rows

        total, rows = await self._run(job)  # type: ignore[misc]
        return HistoryPage([r for (body,) in rows if (r := self._decode(body))], int(total))

    async def close(self) -> None:
        def shut() -> None:
            with self._lock:
                if self._db is not None:
                    self._db.close()
                    self._db = None

        await asyncio.to_thread(shut)


class SafeHistory:
    """The store as the dialog uses it: bounded in time, and never raising. A failure is
    logged (the exception's type only: a message may quote a campaign name) and reads as
    "unavailable"."""

    def __init__(self, store: HistoryStore, timeout: float = STORE_TIMEOUT_SECONDS) -> None:
        self.store = store
        self._timeout = timeout

    async def add(self, record: HistoryRecord) -> bool:
        try:
            await asyncio.wait_for(self.store.add(record), self._timeout)
        except Exception as exc:
            log.warning("history record not written chat=%s campaign=%s: %s",
                        record.chat_id, record.campaign_id, type(exc).__name__)
            return False
        return True

    async def get(self, record_id: str) -> HistoryRecord | None:
        try:
            return await asyncio.wait_for(self.store.get(record_id), self._timeout)
        except Exception as exc:
            log.warning("history record not read: %s", type(exc).__name__)
            return None

    async def page(
        self, *, chat_id: int | None = None, author_id: int | None = None,
        offset: int = 0, limit: int = PAGE_SIZE,
    ) -> HistoryPage:
        try:
            return await asyncio.wait_for(
                self.store.page(chat_id=chat_id, author_id=author_id, offset=offset,
                                limit=limit),
                self._timeout,
            )
        except Exception as exc:
            log.warning("history not read: %s", type(exc).__name__)
            return HistoryPage(available=False)

    async def close(self) -> None:
        try:
            await self.store.close()
        except Exception as exc:
            log.warning("history store not closed: %s", type(exc).__name__)
