"""First start of the real `python -m bot` process: the README's command with the example
file, a token Telegram refuses, and Telegram not reachable yet.

A refused token or a missing one cannot be fixed by waiting: one line naming BOT_TOKEN,
exit 2, no traceback. An unreachable Telegram can: retried with backoff until it answers.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fakes.telegram_api import Chat, FakeTelegram
from tests.runtime.conftest import ANNA, ROOT, BotProcess, assert_clean_log, wait_until

pytestmark = [pytest.mark.redis, pytest.mark.e2e]

START = 40.0  # a cold start imports aiogram: seconds on a loaded machine
STEP = 20.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def assert_one_line_about_the_token(log: str) -> None:
    assert "Traceback" not in log
    lines = [line for line in log.splitlines() if "BOT_TOKEN" in line]
    assert len(lines) == 1, log
    assert lines[0].startswith("configuration error: BOT_TOKEN"), lines[0]


async def test_the_example_env_file_stops_with_one_line_asking_for_the_token(
    tmp_path: Path,
) -> None:
    """`cp .env.example .env && python -m bot` (what scripts/run.sh runs)."""
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(ROOT),
        "LANG": "C.UTF-8",
        # Were a token accepted, the bot would try here and not on the Internet.
        "TELEGRAM_API_URL": f"http://127.0.0.1:{free_port()}",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=tmp_path,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), START)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 2
    stderr = err.decode()
    assert_one_line_about_the_token(stderr)
    assert stderr.strip() == (
        "configuration error: BOT_TOKEN: is required but not set (a token from @BotFather;"
        " to try the bot without one: bash scripts/run.sh --demo)"
    )
    assert out == b""


@pytest.mark.parametrize(
    ("refused_at", "extra"),
    [
        ("getMe", {"BOT_TOKEN": "123456:REVOKED"}),
        ("deleteWebhook", {}),
        (
            "setWebhook",
            {"WEBHOOK_URL": "https://bot.example.org/tg", "WEBHOOK_SECRET": "s3cret"},
        ),
    ],
)
async def test_a_token_telegram_refuses_stops_the_bot_with_one_line(
    bot_process: Callable[..., BotProcess],
    fake_telegram: FakeTelegram,
    refused_at: str,
    extra: dict[str, str],
) -> None:
    if refused_at != "getMe":
        fake_telegram.fail_next(refused_at, error_code=401, times=100)
    if "WEBHOOK_URL" in extra:
        extra = {**extra, "WEBHOOK_HOST": "127.0.0.1", "WEBHOOK_PORT": str(free_port())}
    bot = await bot_process(**extra)
    assert await bot.wait(START) == 2
    log = bot.output()
    assert_one_line_about_the_token(log)
    assert f"Telegram refused the token (401 Unauthorized) at {refused_at}" in log
    assert_clean_log(log)


async def test_a_bot_started_before_telegram_is_reachable_comes_up_by_itself(
    bot_process: Callable[..., BotProcess], fake_telegram: FakeTelegram
) -> None:
    """Nothing listens at TELEGRAM_API_URL at first (a network not up yet); the bot retries
    with backoff and, once the server is there, starts polling and answers."""
    port = free_port()
    bot = await bot_process(TELEGRAM_API_URL=f"http://127.0.0.1:{port}")
    await wait_until(lambda: "Telegram unreachable at getMe" in bot.output(), timeout=START)
    late = FakeTelegram(token=fake_telegram.token)
    await late.start(port=port)
    try:
        await late.wait_polling(timeout=START)
        chat = late.add_chat(Chat.private(ANNA))
        late.send_text(chat, ANNA, "/start")
        message = await late.wait_for_message(chat.id, timeout=STEP)
        assert "/new" in (message.text or "")
    finally:
        bot.kill_group()
        await bot.wait(STEP)
        await late.stop()
    log = bot.output()
    assert "Traceback" not in log
    retries = [line for line in log.splitlines() if "Telegram unreachable at getMe" in line]
    assert retries and all("retrying in" in line for line in retries)
    assert "try 1 failed, retrying in 1 s" in retries[0]
    assert_clean_log(log)


async def test_the_backoff_doubles_up_to_30_seconds_and_a_refusal_is_not_retried() -> None:
    from aiogram.exceptions import TelegramNetworkError, TelegramUnauthorizedError
    from aiogram.methods import GetMe

    from bot.runner import StartupError, startup_call

    slept: list[float] = []
    failures = iter(range(8))

    async def flaky() -> str:
        if next(failures, None) is not None:
            raise TelegramNetworkError(method=GetMe(), message="ClientConnectorError: refused")
        return "up"

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    assert await startup_call("getMe", flaky, sleep=sleep) == "up"
    assert slept == [1, 2, 4, 8, 16, 30, 30, 30]

    async def refused() -> str:
        raise TelegramUnauthorizedError(method=GetMe(), message="Unauthorized")

    with pytest.raises(StartupError, match=r"^BOT_TOKEN: "):
        await startup_call("getMe", refused, sleep=sleep)
    assert len(slept) == 8
