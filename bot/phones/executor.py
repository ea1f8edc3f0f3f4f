"""Running ingestion off the event loop: a process pool; a thread only when processes
cannot start at all."""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import contextlib
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path

from .errors import IngestError, IngestLimits
from .ingest import ingest_bytes
from .normalize import warm_up
from .report import ReportTexts, build_report
from .result import IngestResult, PhoneList
from .sniff import extension

log = logging.getLogger(__name__)

# The caller's per-list work run in the worker on the accepted list (PhoneList -> any
# picklable value); this package does not know what it computes.
Annotate = Callable[[PhoneList], object]

# One worker: polars already spreads one list over both cores of the 2-core machine, so
# a second worker would not read two lists faster, but it would hold ~60 MB idle. A list
# uploaded while another is read waits its turn (~0.5 s for a million rows).
DEFAULT_WORKERS = 1
# Address space a worker may take: a runaway allocation (a reader building a huge grid)
# fails in that worker (MemoryError, or an abort that breaks the pool) instead of pushing
# the machine into swap. A 20 MB list peaks near 1 GB; the rest is the interpreter's and
# the libraries' reserved address space.
WORKER_MEMORY_BYTES = 3 * 1024**3
# One list per worker: the allocators (Python's, polars') keep what a million-row list
# took, so a worker exits after its job and a fresh one is forked in its place (warm:
# the forkserver holds the prefix table), and the bot's idle memory comes back.
TASKS_PER_WORKER = 1
_FORKSERVER_PRELOAD = ["bot.forkserver_preload"]
# What a worker runs (a seam for tests that make a worker die on purpose).
_job = ingest_bytes
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
                ctx = multiprocessing.get_context("forkserver")
                # The forkserver dies with the bot (and with it, its workers).
                ctx.set_forkserver_preload(_FORKSERVER_PRELOAD)
                _pool = cf.ProcessPoolExecutor(
                    max_workers=max_workers,
                    mp_context=ctx,
                    initializer=_init_worker,
                    initargs=(WORKER_MEMORY_BYTES,),
                    max_tasks_per_child=TASKS_PER_WORKER,
                )
            except (OSError, NotImplementedError, ValueError) as exc:
                log.warning("phone lists: no process pool (%s); using threads", exc)
                _pool_broken = True
        return _pool


def _init_worker(memory_bytes: int | None = None) -> None:
    import sys

    from bot.lifeline import die_with_parent

    # Dies with the forkserver, which dies with the bot: no orphan holds memory or the
    # bot's stdout after a crash of the bot.
    die_with_parent()
    server = sys.modules.get("bot.forkserver_preload")
    if server is not None and os.getppid() != server.FORKSERVER_PID:
        os._exit(1)  # orphaned while starting (a worker forked just before the bot died)
    if memory_bytes:
        _limit_memory(memory_bytes)
    # Below the bot's own process: while big lists are read, answers to everyone else
    # must still get the CPU first.
    with contextlib.suppress(OSError):
        os.nice(10)
    # The number-prefix table is the forkserver's (inherited); where the pool is not a
    # forkserver's, it is filled here, at start, not by the first upload.
    warm_up()
    # polars and the readers imported now, while the worker waits for a list. (A tiny
    # warm-up list here was tried: ~70 ms less on a million rows, but ~48 MB more in
    # every idle worker, mostly polars' code paged in.)
    import bot.phones.ingest  # noqa: F401

    # What the forkserver's preload prepares for every list (bot.forkserver_preload).
    # An initializer that raises breaks the whole pool: a worker that could not prepare
    # it reads lists all the same (the hook builds what it needs itself).
    if server is not None and hasattr(server, "warm_worker"):
        try:
            server.warm_worker()
        except Exception:
            log.exception("phone lists: a worker's warm-up failed; it reads lists all the same")


def _limit_memory(memory_bytes: int) -> None:
    try:
        import resource
    except ImportError:  # not POSIX
        return
    with contextlib.suppress(ValueError, OSError):
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        soft = memory_bytes if hard == resource.RLIM_INFINITY else min(memory_bytes, hard)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _ready() -> bool:
    return True


def run_job(
    job, args: tuple, report: ReportTexts | None, annotate: Annotate | None = None
) -> object:
    """In the worker: the job (a file given by its path is read here), the caller's
    `annotate` hook over the accepted list while it is still the columnar frame (its
    result in `result.annotation`), and the rejected-rows report when rows were
    rejected (built here, beside the rows, so only its bytes cross)."""
    started = time.perf_counter()
    began_at = time.time()
    if isinstance(args[0], os.PathLike):
        args = (Path(args[0]).read_bytes(), *args[1:])
    result = job(*args)
    del args  # the file's bytes
    if not isinstance(result, IngestResult):
        return result
    read = time.perf_counter()
    if annotate is not None and result.accepted:
        try:
            result.annotation = annotate(result.phones)
        except Exception:
            # The list itself is good: the caller computes its extra data another way.
            log.exception("phone lists: the annotate hook failed; the list is kept")
    annotated = time.perf_counter()
    # (Building the report, the hook and the packing in threads at once was tried: on
    # two cores each got slower by about what the others saved.)
    result.phones.pack()
    packed = time.perf_counter()
    if report is not None and (result.rejected_total or result.left_out):
        result.report = build_report(
            result, report.describe, headers=report.headers, left_out_title=report.left_out_title
        )
        # The rows are in the report now; their counts stay. (Pickling and unpickling a
        # few thousand row objects cost ~20 ms of the wait for the report.)
        result.rejected_rows = []
    result.timings = {
        "read_ms": (read - started) * 1000,
        "annotate_ms": (annotated - read) * 1000,
        "pack_ms": (packed - annotated) * 1000,
        "report_ms": (time.perf_counter() - packed) * 1000,
        # Wall clock (another process's perf_counter means nothing to the bot): the
        # bot tells the wait for the worker and the way back from these.
        "began_at": began_at,
        "sent_at": time.time(),
    }
    return result


def start_executor() -> None:
    """Start the worker processes now (call it from a thread: starting them blocks): the
    event loop never pays for starting them, and they warm up while the bot starts."""
    pool = get_executor()
    if pool is not None:
        with contextlib.suppress(cf.BrokenExecutor, OSError, RuntimeError):
            # The worker started (and the forkserver with it, which fills the prefix
            # table); it is replaced after this first job, as after every list.
            pool.submit(_ready).result(timeout=60)


def shutdown_executor(wait: bool = True) -> None:
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=wait, cancel_futures=True)


def _discard(pool: Executor) -> bool:
    """Drop a broken pool so that the next file gets a new one; True for the caller that
    dropped it (the one to log the incident: every file in it sees the same break)."""
    global _pool
    with _lock:
        if _pool is not pool:
            return False
        _pool = None
    pool.shutdown(wait=False, cancel_futures=True)
    return True


def _submit(
    pool: Executor, args: tuple, report: ReportTexts | None, annotate: Annotate | None
) -> cf.Future | None:
    """The job in the pool; None when the pool cannot run it at all (no processes)."""
    global _pool_broken
    try:
        return pool.submit(run_job, _job, args, report, annotate)
    except cf.BrokenExecutor:
        raise
    except (OSError, RuntimeError, NotImplementedError) as exc:
        log.warning("phone lists: worker processes cannot start (%s); using threads", exc)
        with _lock:
            _pool_broken = True
        _discard(pool)
        return None


async def ingest_bytes_async(
    data: bytes | os.PathLike[str],
    filename: str,
    limits: IngestLimits = IngestLimits(),  # noqa: B008
    *,
    executor: Executor | None = None,
    choice: tuple[str, int] | None = None,
    report: ReportTexts | None = None,
    annotate: Annotate | None = None,
) -> IngestResult:
    """ingest_bytes off the event loop. In a worker process by default, so a 20 MB file
    does not hold the GIL the bot's other dialogs need; a thread only if processes can't
    start at all. `data` may be the path of the downloaded file: the worker reads it, so
    the bot never holds the bytes. The result comes back pickled: PhoneList pickles as
    its Arrow IPC bytes. With `report`, the rejected-rows report is built in the worker
    too (`result.report`), only when rows were rejected. With `annotate` (a picklable
    callable taking the accepted PhoneList), its result comes back as
    `result.annotation`, computed in the worker from the columnar list: the caller's
    per-number data (zones) without the bot ever expanding the list.

    A worker that dies on a file (an abort in a reader, the memory ceiling) refuses that
    file as unreadable, and the next file gets a new pool. The file is never read again in
    the bot's own process: whatever killed the worker would kill the bot."""
    # The choice only when there is one: jobs that take three arguments keep working.
    args = (data, filename, limits) if choice is None else (data, filename, limits, choice)
    pool = executor if executor is not None else get_executor()
    if pool is None:
        return await _in_thread(args, report, annotate)
    try:
        future = _submit(pool, args, report, annotate)
    except cf.BrokenExecutor:
        if executor is not None:
            raise
        # Broken by an earlier file, before this one was given to it: a new pool takes it.
        _discard(pool)
        pool = get_executor()
        if pool is None:
            return await _in_thread(args, report, annotate)
        try:
            future = _submit(pool, args, report, annotate)
        except cf.BrokenExecutor:
            raise IngestError("read_failed", kind=extension(filename)) from None
    if future is None:
        return await _in_thread(args, report, annotate)
    try:
        return await asyncio.wrap_future(future)
    except cf.BrokenExecutor:
        if (executor is None and _discard(pool)) or executor is not None:
            log.error(
                "phone lists: a worker process died reading a .%s file of %d bytes; "
                "the file is refused, a new pool takes the next one",
                extension(filename) or "?",
                _size(data),
            )
        raise IngestError("read_failed", kind=extension(filename)) from None
    except MemoryError:
        log.error(
            "phone lists: a .%s file of %d bytes exceeded the worker's memory ceiling; refused",
            extension(filename) or "?",
            _size(data),
        )
        raise IngestError("read_failed", kind=extension(filename)) from None


async def _in_thread(
    args: tuple, report: ReportTexts | None, annotate: Annotate | None
) -> IngestResult:
    return await asyncio.to_thread(run_job, ingest_bytes, args, report, annotate)  # type: ignore[return-value]


def _size(data: bytes | os.PathLike[str]) -> int:
    if isinstance(data, os.PathLike):
        with contextlib.suppress(OSError):
            return os.stat(data).st_size
        return -1
    return len(data)
