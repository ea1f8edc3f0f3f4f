"""Runtime tests: bots in this process sharing a real Redis, and the real `python -m bot`
process against the fakes. Everything on 127.0.0.1, every wait bounded."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from tests.dialog.conftest import ANNA, BORIS, make_bot_under_test  # noqa: F401  (fixture)
from tests.fakes.campaign_api import FakeCampaignApi
from tests.fakes.telegram_api import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]
# What must never reach a log line: the fake's token and a full phone number of the lists.
TOKEN = "123456:TEST"
FULL_PHONES = ("+79161234567", "79161234567", "89161234567", "+79161234568", "79161234568")


@pytest.fixture
def storage_kind(redis_url: str) -> str:
    """make_bot_under_test (from tests/dialog) with Redis only: replicas share this test's
    redis_prefix."""
    return "redis"


class BotProcess:
    """`python -m bot` in a process group of its own; its output goes to `log_path`."""

    def __init__(self, env: dict[str, str], log_path: Path, cwd: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.cwd = cwd
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log_path.open("ab") as out:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                env=self.env,
                cwd=self.cwd,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,  # its own group: ingest workers die with it
            )

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def signal(self, sig: signal.Signals) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, sig)

    def kill_group(self) -> None:
        """SIGKILL the process and its children (as when a container is killed)."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)

    async def wait(self, timeout: float) -> int:  # noqa: ASYNC109
        assert self.proc is not None
        return await asyncio.wait_for(self.proc.wait(), timeout)

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@pytest.fixture
async def bot_process(
    fake_telegram: FakeTelegram,
    campaign_api: FakeCampaignApi,
    redis_url: str,
    redis_prefix: str,
    tmp_path: Path,
) -> AsyncIterator[Callable[..., BotProcess]]:
    """bot_process(**env) -> a started `python -m bot` on the fakes and this test's Redis
    prefix. Every process is killed (with its group) at the end, whatever happened."""
    made: list[BotProcess] = []

    async def start(**extra: str) -> BotProcess:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(tmp_path),
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            "LANG": "C.UTF-8",
            "BOT_TOKEN": fake_telegram.token,
            "TELEGRAM_API_URL": fake_telegram.base_url,
            "CAMPAIGN_API_URL": campaign_api.base_url,
            "CAMPAIGN_PROJECT_ID": "1",
            "CAMPAIGN_START_BLOCK_ID": "10",
            "CAMPAIGN_PHONE_ID": "5",
            "CAMPAIGN_API_READ_TIMEOUT": "10",
            "ALLOWED_USER_IDS": f"{ANNA.id},{BORIS.id}",
            "TIMEZONE": "Asia/Yekaterinburg",
            "REDIS_URL": redis_url,
            "REDIS_KEY_PREFIX": redis_prefix,
            "LOG_LEVEL": "INFO",
            **extra,
        }
        process = BotProcess(env, tmp_path / "bot.log", cwd=tmp_path)  # no .env in tmp_path
        made.append(process)
        await process.start()
        return process

    yield start  # type: ignore[misc]
    for process in made:
        process.kill_group()
        if process.proc is not None:
            with contextlib.suppress(TimeoutError, ProcessLookupError):
                await process.wait(5)


async def wait_until(predicate: Callable[[], object], timeout: float = 10.0) -> None:  # noqa: ASYNC109
    """Poll `predicate` (for state the fake Telegram is not told about) until truthy."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError(f"condition not met in {timeout} s")
        await asyncio.sleep(0.02)


def assert_clean_log(text: str) -> None:
    """No token and no full phone number in what the bot wrote."""
    assert TOKEN not in text
    for phone in FULL_PHONES:
        assert phone not in text, f"a full phone number in the log: {phone}"
