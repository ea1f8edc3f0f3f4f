"""Webhook mode of the real `python -m bot` process: Telegram's deliveries reach it.

The in-process tests (test_webhook.py) serve the app with a path they choose; this one
takes the URL the bot registered with (the fake) Telegram and delivers there, as Telegram
does, so a listen path that disagrees with WEBHOOK_URL fails here.
"""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import Callable
from urllib.parse import urlsplit

import aiohttp
import pytest

from bot.runner import SECRET_HEADER
from tests.fakes.telegram_api import Chat, FakeTelegram
from tests.runtime.conftest import ANNA, BotProcess, assert_clean_log

pytestmark = [pytest.mark.redis, pytest.mark.e2e]

START = 40.0  # a cold start imports aiogram: seconds on a loaded machine
STEP = 20.0
SECRET = "s3cret-Webhook_token"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_an_update_posted_to_the_registered_url_path_is_answered(
    bot_process: Callable[..., BotProcess], fake_telegram: FakeTelegram
) -> None:
    port = free_port()
    bot = await bot_process(
        WEBHOOK_URL="https://bot.example.org/tg/webhook",
        WEBHOOK_SECRET=SECRET,
        WEBHOOK_HOST="127.0.0.1",
        WEBHOOK_PORT=str(port),
    )
    registered = await fake_telegram.wait_for_request("setWebhook", timeout=START)
    url = registered.params["url"]
    assert url == "https://bot.example.org/tg/webhook"
    path = urlsplit(url).path

    chat = fake_telegram.add_chat(Chat.private(ANNA))
    update = fake_telegram.send_text(chat, ANNA, "/start")
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=STEP)) as http:
        # What Telegram does with the registered URL, minus the TLS of the proxy.
        async with http.post(
            f"http://127.0.0.1:{port}{path}", json=update, headers={SECRET_HEADER: SECRET}
        ) as response:
            assert response.status == 200
        # The health check beside the webhook's path (a proxy forwarding /tg/ reaches it).
        async with http.get(f"http://127.0.0.1:{port}/tg/healthz") as response:
            assert response.status == 200
    message = await fake_telegram.wait_for_message(chat.id, timeout=STEP)
    assert "/new" in (message.text or "")

    # The container's health check, with the same settings, finds the same server.
    check = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.healthcheck", env=bot.env, cwd=bot.cwd
    )
    assert await asyncio.wait_for(check.wait(), STEP) == 0

    log = bot.output()
    assert "Telegram delivers to https://bot.example.org/tg/webhook" in log
    assert f"listening on 127.0.0.1:{port}/tg/webhook" in log
    assert SECRET not in log
    assert_clean_log(log)


async def test_webhook_path_overrides_the_url_path_for_a_rewriting_proxy(
    bot_process: Callable[..., BotProcess], fake_telegram: FakeTelegram
) -> None:
    """A proxy that maps /tg/webhook to /hook: Telegram still gets the public URL."""
    port = free_port()
    bot = await bot_process(
        WEBHOOK_URL="https://bot.example.org/tg/webhook",
        WEBHOOK_SECRET=SECRET,
        WEBHOOK_HOST="127.0.0.1",
        WEBHOOK_PORT=str(port),
        WEBHOOK_PATH="/hook",
    )
    registered = await fake_telegram.wait_for_request("setWebhook", timeout=START)
    assert registered.params["url"] == "https://bot.example.org/tg/webhook"
    chat = fake_telegram.add_chat(Chat.private(ANNA))
    update = fake_telegram.send_text(chat, ANNA, "/start")
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=STEP)) as http:
        async with http.post(
            f"http://127.0.0.1:{port}/hook", json=update, headers={SECRET_HEADER: SECRET}
        ) as response:
            assert response.status == 200
    message = await fake_telegram.wait_for_message(chat.id, timeout=STEP)
    assert "/new" in (message.text or "")
    assert f"listening on 127.0.0.1:{port}/hook" in bot.output()
