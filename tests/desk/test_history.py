"""The history store: Redis (the real redis-server) and SQLite (a tmp file), across a restart,
with retention, and a failing store that never raises."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.drafts import Signer
from bot.history import (
    HistoryRecord,
    HistoryStore,
    RedisHistoryStore,
    SafeHistory,
    SqliteHistoryStore,
    new_record_id,
)

DAY = 86400.0
GROUP = -1001000000001
ANNA, BORIS = 1001, 1002
SIGNER = Signer(b"0123456789abcdef0123")


def record(i: int, *, chat: int = GROUP, author: int = ANNA, at: float = 1_000_000.0,
           outcome: str = "created") -> HistoryRecord:
    return HistoryRecord(
        id=new_record_id(), outcome=outcome, campaign_id=100 + i if outcome == "created" else None,
        name=f"Долги {i}", author_id=author, author_name="Анна", chat_id=chat, at=at + i,
        date="2026-11-28", start="09:00", end="18:00", attempts=3, interval=15, count=2 + i,
        scenario="1", caller="1", phones_ref="ref", add_data_keys=("name",),
    )


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", "redis"])
async def make_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Callable[..., HistoryStore]]:
    """make_store(clock, retention) -> a new store on the same file / Redis prefix, as a
    restarted bot would open it."""
    made: list[tuple[HistoryStore, Redis | None]] = []
    prefix = None
    if request.param == "redis":
        request.getfixturevalue("redis_url")
        prefix = request.getfixturevalue("redis_prefix")

    def make(clock: Callable[[], float], retention: float = 90 * DAY) -> HistoryStore:
        if request.param == "sqlite":
            store: HistoryStore = SqliteHistoryStore(
                tmp_path / "work" / "history.sqlite3", retention_seconds=retention, clock=clock
            )
            made.append((store, None))
        else:
            redis = Redis.from_url(request.getfixturevalue("redis_url"))
            store = RedisHistoryStore(redis, prefix or "x", signer=SIGNER,
                                      retention_seconds=retention, clock=clock)
            made.append((store, redis))
        return store

    yield make
    for store, redis in made:
        await store.close()
        if redis is not None:
            await redis.aclose()


async def test_pages_newest_first_by_chat_and_by_author(
    make_store: Callable[..., HistoryStore],
) -> None:
    store = make_store(Clock())
    mine = [record(i) for i in range(12)]
    others = [record(50 + i, chat=-1002, author=BORIS) for i in range(3)]
    for r in mine + others:
        await store.add(r)
    first = await store.page(chat_id=GROUP)
    assert first.total == 12
    assert [r.name for r in first.records] == [f"Долги {i}" for i in range(11, 1, -1)]
    second = await store.page(chat_id=GROUP, offset=10)
    assert [r.name for r in second.records] == ["Долги 1", "Долги 0"]
    by_boris = await store.page(author_id=BORIS)
    assert by_boris.total == 3 and {r.chat_id for r in by_boris.records} == {-1002}
    assert (await store.get(mine[3].id)) == mine[3]
    assert await store.get("no-such-id") is None


async def test_records_survive_a_restart(make_store: Callable[..., HistoryStore]) -> None:
    clock = Clock()
    first = make_store(clock)
    kept = [record(i) for i in range(3)] + [record(9, outcome="unknown")]
    for r in kept:
        await first.add(r)
    await first.close()
    again = make_store(clock)  # a new process: new connection, same file / Redis
    page = await again.page(chat_id=GROUP)
    assert page.total == 4
    assert page.records[0].outcome == "unknown" and page.records[0].campaign_id is None
    assert {r.id for r in page.records} == {r.id for r in kept}
    assert (await again.get(kept[1].id)) == kept[1]


async def test_records_older_than_the_retention_are_forgotten(
    make_store: Callable[..., HistoryStore],
) -> None:
    clock = Clock()
    store = make_store(clock, retention=10 * DAY)
    old, new = record(0, at=clock.now - 11 * DAY), record(1, at=clock.now - DAY)
    await store.add(old)
    await store.add(new)
    page = await store.page(chat_id=GROUP)
    assert [r.id for r in page.records] == [new.id] and page.total == 1
    clock.now += 10 * DAY
    assert (await store.page(author_id=ANNA)).total == 0
    assert await store.get(new.id) is None


async def test_a_forged_redis_record_is_ignored(redis_url: str, redis_prefix: str) -> None:
    redis = Redis.from_url(redis_url)
    try:
        store = RedisHistoryStore(redis, redis_prefix, signer=SIGNER,
                                  retention_seconds=DAY, clock=Clock())
        good = record(1)
        await store.add(good)
        await redis.set(f"{redis_prefix}:history:rec:{good.id}", b"x" * 40 + b'{"id": 1}')
        assert await store.get(good.id) is None
        assert (await store.page(chat_id=GROUP)).records == []
    finally:
        await redis.aclose()


async def test_a_failing_store_is_logged_and_never_raises(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    broken = SafeHistory(SqliteHistoryStore(blocker / "h.sqlite3", retention_seconds=DAY))
    unreachable_redis = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    down = SafeHistory(RedisHistoryStore(unreachable_redis, "x", signer=SIGNER,
                                         retention_seconds=DAY))
    with caplog.at_level(logging.WARNING, logger="bot.history"):
        for safe in (broken, down):
            assert await asyncio.wait_for(safe.add(record(1)), 10) is False
            page = await asyncio.wait_for(safe.page(chat_id=GROUP), 10)
            assert page.available is False and page.records == []
            assert await safe.get("x") is None
            await safe.close()
    assert sum("history record not written" in r.getMessage() for r in caplog.records) == 2
    assert not any("Долги" in r.getMessage() for r in caplog.records)  # no names in logs
    await unreachable_redis.aclose()


async def test_a_slow_store_is_cut_short() -> None:
    class Stuck:
        async def add(self, record: HistoryRecord) -> None:
            await asyncio.sleep(30)

    safe = SafeHistory(Stuck(), timeout=0.2)  # type: ignore[arg-type]
    assert await asyncio.wait_for(safe.add(record(1)), 5) is False
