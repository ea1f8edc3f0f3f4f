"""A worker that dies on a file refuses that file; the bot's process never reads it.

Real worker processes (the module's forkserver pool); the job a worker runs is swapped for
one that dies on demand (tests/phones/worker_jobs.py), as a reader's abort would.
"""

from __future__ import annotations

import asyncio
import logging
import os

import pytest

import bot.phones.executor as ex
from bot.phones import IngestError, ingest_bytes_async, shutdown_executor

from .worker_jobs import crash_or_ingest, worker_facts

GOOD = b"phone\n89161234567\n"
TIMEOUT = 60


@pytest.fixture
def crashing_pool(monkeypatch: pytest.MonkeyPatch):
    shutdown_executor()
    monkeypatch.setattr(ex, "_pool_broken", False)
    monkeypatch.setattr(ex, "_job", crash_or_ingest)

    async def no_thread(*_a, **_k):
        raise AssertionError("the file was read in the bot's own process")

    # Whatever killed a worker would kill the bot: no fallback to a thread.
    monkeypatch.setattr(ex.asyncio, "to_thread", no_thread)
    yield
    shutdown_executor()


async def test_a_worker_that_aborts_refuses_the_file_and_a_new_pool_takes_the_next(
    crashing_pool: None, caplog: pytest.LogCaptureFixture
) -> None:
    first = ex.get_executor()
    with caplog.at_level(logging.ERROR, logger="bot.phones.executor"):
        with pytest.raises(IngestError) as err:
            await asyncio.wait_for(ingest_bytes_async(b"ABORT", "sparse.xlsx"), TIMEOUT)
    assert err.value.code == "read_failed"
    died = [r for r in caplog.records if "worker process died" in r.getMessage()]
    assert len(died) == 1
    assert ex._pool is None and ex._pool_broken is False
    res = await asyncio.wait_for(ingest_bytes_async(GOOD, "good.csv"), TIMEOUT)
    assert res.accepted == 1
    assert ex._pool is not None and ex._pool is not first


async def test_files_caught_in_one_crash_log_it_once(
    crashing_pool: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="bot.phones.executor"):
        results = await asyncio.wait_for(
            asyncio.gather(
                ingest_bytes_async(b"ABORT", "a.xlsx"),
                ingest_bytes_async(b"ABORT", "b.xlsx"),
                return_exceptions=True,
            ),
            TIMEOUT,
        )
    assert all(isinstance(r, IngestError) and r.code == "read_failed" for r in results)
    assert len([r for r in caplog.records if "worker process died" in r.getMessage()]) == 1


async def test_a_memory_error_in_a_worker_refuses_the_file(crashing_pool: None) -> None:
    with pytest.raises(IngestError) as err:
        await asyncio.wait_for(ingest_bytes_async(b"NOMEM", "big.xlsx"), TIMEOUT)
    assert err.value.code == "read_failed"
    assert (await asyncio.wait_for(ingest_bytes_async(GOOD, "a.csv"), TIMEOUT)).accepted == 1


async def test_a_pool_broken_before_the_file_gives_it_to_a_new_pool(
    crashing_pool: None,
) -> None:
    with pytest.raises(IngestError):
        await asyncio.wait_for(ingest_bytes_async(b"ABORT", "a.xlsx"), TIMEOUT)
    # Someone kept the broken pool (as a file in flight does): submitting to it fails
    # at once; the file goes to a new pool, not to a thread.
    broken = ex.get_executor()
    assert broken is not None
    with pytest.raises(IngestError):
        await asyncio.wait_for(ingest_bytes_async(b"ABORT", "b.xlsx"), TIMEOUT)
    ex._pool = broken
    assert (await asyncio.wait_for(ingest_bytes_async(GOOD, "a.csv"), TIMEOUT)).accepted == 1
    assert ex._pool is not broken


async def test_workers_have_a_memory_ceiling_and_the_forkserver_as_parent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shutdown_executor()
    monkeypatch.setattr(ex, "_job", worker_facts)
    try:
        facts = await asyncio.wait_for(ingest_bytes_async(b"", "x"), TIMEOUT)
    finally:
        shutdown_executor()
    assert facts["rlimit_as"] == ex.WORKER_MEMORY_BYTES
    # A warmed worker is far below its ceiling: ordinary lists fit.
    assert facts["vm_size_kb"] * 1024 < ex.WORKER_MEMORY_BYTES / 2
    assert facts["ppid"] != os.getpid()  # forked by the forkserver, which dies with us
