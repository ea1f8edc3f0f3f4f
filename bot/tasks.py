"""Background work that must finish before the process exits (campaign submissions), and
the bot's periodic sweeps."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

log = logging.getLogger("bot.tasks")


class BackgroundTasks:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed", task.get_name(), exc_info=task.exception())

    async def wait(self, seconds: float) -> bool:
        """Wait for running tasks, at most `seconds`; True when all finished."""
        if not self._tasks:
            return True
        log.info("waiting for %d background task(s), up to %.0f s", len(self._tasks), seconds)
        _, pending = await asyncio.wait(set(self._tasks), timeout=seconds)
        return not pending


def stop_requested() -> bool:
    """Whether the running task was asked to stop, also when the cancel saying so was
    swallowed by the code it awaited (wait_for on 3.11 does when the cancel meets the
    end of what it waits for; a Redis command may too)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


async def run_periodically(
    sweep: Callable[[], Awaitable[object]], *, every: float, limit: float, what: str
) -> None:
    """`sweep()` every `every` seconds, each bounded by `limit` seconds; a failed one is
    logged and the next one runs. A stop requested during a sweep stops the loop at once,
    not after the sleep (the bot's shutdown waits for it)."""
    while True:
        try:
            async with asyncio.timeout(limit):
                await sweep()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s failed", what)
        if stop_requested():
            raise asyncio.CancelledError
        await asyncio.sleep(every)


async def stop_task(task: asyncio.Task[Any]) -> None:
    """Cancel a task and wait until it has stopped."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
