"""The bot's periodic sweeps (interrupted submissions, expired approval requests) stop at
once when the bot stops, even when the stop lands while a sweep runs and the code it
awaits swallows the cancel (asyncio.wait_for on 3.11 does, when the cancel meets the end
of what it waits for). Found as a webhook bot refused by Telegram that took the whole
sweep interval (minutes) to exit instead of a second."""

from __future__ import annotations

import asyncio

import pytest

from bot.dialog.approval_expiry import ApprovalExpiry, stop_expiry
from bot.dialog.inflight import Sweeper, stop_sweeper


async def _swallowing_sweep(started: asyncio.Event) -> int:
    started.set()
    try:
        await asyncio.sleep(30)
    except asyncio.CancelledError:
        pass  # what a library may do; the task's cancel request stays counted
    return 0


@pytest.mark.parametrize(
    ("kind", "stop"), [(Sweeper, stop_sweeper), (ApprovalExpiry, stop_expiry)]
)
async def test_a_stop_during_a_sweep_that_swallows_it_still_stops_the_loop(
    kind: type, stop, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = asyncio.Event()
    sweeps = 0

    async def sweep(self) -> int:
        nonlocal sweeps
        sweeps += 1
        return await _swallowing_sweep(started)

    monkeypatch.setattr(kind, "sweep", sweep)
    looper = kind.__new__(kind)  # the loop needs nothing else of the sweeper
    task = asyncio.create_task(looper.run())
    await asyncio.wait_for(started.wait(), 5)
    stopping = asyncio.create_task(stop(task))
    # The sweep interval is a minute or more: a stop that waits it out fails here.
    done, _ = await asyncio.wait([stopping], timeout=5)
    try:
        assert stopping in done, "the loop slept on after the stop"
    finally:
        task.cancel()
        await asyncio.wait([stopping, task], timeout=5)
    assert task.done() and task.cancelled()
    assert sweeps == 1


@pytest.mark.parametrize(
    ("kind", "stop", "line"),
    [
        (Sweeper, stop_sweeper, "in-flight sweep failed"),
        (ApprovalExpiry, stop_expiry, "approval expiry sweep failed"),
    ],
)
async def test_a_failed_sweep_is_logged_once_by_name_and_the_loop_goes_on(
    kind: type, stop, line: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    failed = asyncio.Event()

    async def sweep(self) -> int:
        failed.set()
        raise RuntimeError("redis went away")

    monkeypatch.setattr(kind, "sweep", sweep)
    looper = kind.__new__(kind)
    with caplog.at_level("ERROR"):
        task = asyncio.create_task(looper.run())
        await asyncio.wait_for(failed.wait(), 5)
        await asyncio.sleep(0)
        assert not task.done()  # the loop sleeps until the next sweep
        await asyncio.wait_for(stop(task), 5)
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == [line]
