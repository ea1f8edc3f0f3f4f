"""Running ingestion off the event loop: a process pool, a thread as the fallback."""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import contextlib
import logging
import multiprocessing
import os
import threading
from concurrent.futures import Executor

from .errors import IngestLimits
from .ingest import ingest_bytes
from .normalize import warm_up
from .result import IngestResult

log = logging.getLogger(__name__)

DEFAULT_WORKERS = 2
_lock = threading.Lock()
_pool: Executor | None = None
_pool_broken = False


def get_executor(max_workers: int = DEFAULT_WORKERS) -> Executor | None:
    """The module's process pool, created on first use; None when processes can't start."""
    global _pool, _pool_broken
    with _lock:
        if _pool is None and not _pool_broken:
            try:
                # Not fork: a forked copy of a process whose other threads (the bot's,
                # polars' pool) held locks can deadlock in the child.
                _pool = cf.ProcessPoolExecutor(
                    max_workers=max_workers,
                    mp_context=multiprocessing.get_context("forkserver"),
                    initializer=_init_worker,
                )
            except (OSError, NotImplementedError, ValueError) as exc:
                log.warning("phone lists: no process pool (%s); using threads", exc)
                _pool_broken = True
        return _pool


def _init_worker() -> None:
    # Below the bot's own process: while big lists are read, answers to everyone else
    # must still get the CPU first.
    with contextlib.suppress(OSError):
        os.nice(10)
    # The number-prefix table (~2 s to fill): paid at start, not by the first upload.
    warm_up()


def _ready() -> bool:
    return True


def start_executor() -> None:
    """Start the worker processes now (call it from a thread: starting them blocks): the
    event loop never pays for starting them, and they warm up while the bot starts."""
    pool = get_executor()
    if pool is not None:
        with contextlib.suppress(cf.BrokenExecutor, OSError, RuntimeError):
            for _ in range(DEFAULT_WORKERS):
                pool.submit(_ready)


def shutdown_executor(wait: bool = True) -> None:
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=wait, cancel_futures=True)


async def ingest_bytes_async(
    data: bytes,
    filename: str,
    limits: IngestLimits = IngestLimits(),  # noqa: B008
    *,
    executor: Executor | None = None,
) -> IngestResult:
    """ingest_bytes off the event loop. In a worker process by default, so a 20 MB file
    does not hold the GIL the bot's other dialogs need; a thread if processes can't run.
    The result comes back pickled: PhoneList pickles as a few big objects (columnar)."""
    global _pool_broken, _pool
    loop = asyncio.get_running_loop()
    pool = executor if executor is not None else get_executor()
    if pool is not None:
        try:
            return await loop.run_in_executor(pool, ingest_bytes, data, filename, limits)
        except cf.BrokenExecutor as exc:
            if executor is not None:
                raise
            log.warning("phone lists: process pool broke (%s); using a thread", exc)
            with _lock:
                _pool_broken = True
                broken, _pool = _pool, None
            if broken is not None:
                broken.shutdown(wait=False, cancel_futures=True)
    return await asyncio.to_thread(ingest_bytes, data, filename, limits)
