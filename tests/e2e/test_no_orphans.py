"""End to end: whatever way the bot dies, every process it started dies with it.

After a SIGKILL of the bot its forkserver, its warm ingest workers and the multiprocessing
resource tracker used to live on (re-parented to PID 1), holding memory and the bot's
stdout pipe: a process manager waiting for EOF on that pipe hung, and a restarted bot
started four more beside them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.dialog.flows import contacts_xlsx
from tests.e2e.conftest import ANNA, ROOT, START_TIMEOUT, TOKEN, Supervisor, has_button
from tests.e2e.test_bot_process import CREATE, walk_to_phones
from tests.fakes.campaign_api import FakeCampaignApi
from tests.fakes.telegram_api import Chat, FakeTelegram

pytestmark = pytest.mark.e2e

GONE_TIMEOUT = 10.0
MARK = "CAMPAIGN_BOT_TEST_RUN"  # in the bot's environment: its children inherit it


def _start_time(pid: int) -> str | None:
    """Field 22 of /proc/<pid>/stat (tells a pid from a later reuse); None if gone or a
    zombie (dead, only not reaped yet: a container's PID 1 may never reap)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return None if fields[0] in ("Z", "X") else fields[19]


def _children(pid: int) -> set[int]:
    out: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            out.update(int(p) for p in (task / "children").read_text().split())
    return out


def _descendants(pid: int) -> set[int]:
    seen: set[int] = set()
    todo = [pid]
    while todo and len(seen) < 1000:
        for child in _children(todo.pop()) - seen:
            seen.add(child)
            todo.append(child)
    return seen


def _marked(mark: str) -> set[int]:
    """Every live process whose environment carries this run's mark."""
    needle = f"{MARK}={mark}".encode()
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                if _start_time(int(entry.name)) is not None:
                    found.add(int(entry.name))
    return found


async def _until(condition: Callable[[], bool], timeout: float = GONE_TIMEOUT) -> bool:  # noqa: ASYNC109
    """Poll `condition` until it holds or `timeout` passes; whether it held."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.05)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
async def test_a_killed_bot_leaves_no_process_behind(
    fake: FakeTelegram, api: FakeCampaignApi, tmp_path: Path
) -> None:
    mark = uuid.uuid4().hex
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CAMPAIGN_", "ALLOWED_", "REDIS_", "WEBHOOK_", "PRESETS_"))
    }
    env.update(
        {
            MARK: mark,
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            "BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": fake.base_url,
            "CAMPAIGN_API_URL": api.base_url,
            "CAMPAIGN_PROJECT_ID": "1",
            "CAMPAIGN_START_BLOCK_ID": "10",
            "CAMPAIGN_PHONE_ID": "5",
            "ALLOWED_USER_IDS": str(ANNA.id),
            "TIMEZONE": "Asia/Yekaterinburg",
        }
    )
    # stdout is a pipe, as under a process manager: its EOF is what the manager waits for.
    bot = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    assert bot.stdout is not None
    output = bytearray()

    async def drain() -> None:
        assert bot.stdout is not None
        while chunk := await bot.stdout.read(65536):
            output.extend(chunk)

    reader = asyncio.create_task(drain())
    started: dict[int, str | None] = {}
    try:
        await fake.wait_polling(timeout=START_TIMEOUT)
        anna = Supervisor(fake, fake.add_chat(Chat.private(ANNA)), ANNA)
        await walk_to_phones(anna, name="Сироты", attempts="1", window="9-18")
        # A list read through the workers: the pool is up and warm.
        summary = await anna.upload(contacts_xlsx(), "Клиенты.xlsx", has_button(CREATE))
        assert "Номеров: 2" in summary.text

        def children() -> set[int]:
            return (_descendants(bot.pid) | _marked(mark)) - {bot.pid}

        # The forkserver, the warm worker (one list per worker: the one that read the
        # list is replaced by a fresh one, forked just after the report) and the resource
        # tracker at least.
        await _until(lambda: len(children()) >= 3, START_TIMEOUT)
        started = {pid: _start_time(pid) for pid in children()}
        assert len(started) >= 3, started

        bot_started = _start_time(bot.pid)
        bot.send_signal(signal.SIGKILL)
        # Not bot.wait(): asyncio's wait also waits for the stdout pipe, which is the
        # very thing a survivor would hold open.
        assert await _until(lambda: _start_time(bot.pid) != bot_started), "still running"

        def survivors() -> dict[int, str | None]:
            alive = {p: t for p, t in started.items() if t is not None and _start_time(p) == t}
            alive.update({p: _start_time(p) for p in _marked(mark)})
            return alive

        await _until(lambda: not survivors())
        assert not survivors(), f"still alive after the bot's SIGKILL: {survivors()}"
        # Nobody holds the bot's stdout any more.
        await asyncio.wait_for(reader, GONE_TIMEOUT)
        assert await asyncio.wait_for(bot.wait(), GONE_TIMEOUT) == -signal.SIGKILL
    finally:
        if bot.returncode is None:
            bot.kill()
            await bot.wait()
        reader.cancel()
        for pid in _marked(mark):  # never leave them to other tests
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        print(output.decode("utf-8", "replace")[-4000:])
