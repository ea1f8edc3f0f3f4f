"""``python -m tests.fakes.telegram_api`` serves the fake in its own process."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import httpx
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

ROOT = Path(__file__).resolve().parents[2]


async def test_fake_runs_as_a_process() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.fakes.telegram_api",
        "--port",
        "0",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        env: dict[str, str] = {}
        while "TELEGRAM_API_URL" not in env:
            line = (await asyncio.wait_for(process.stdout.readline(), 15)).decode()
            assert line, "the fake exited before printing its URL"
            key, _, value = line.strip().partition("=")
            env[key] = value
        base_url = env["TELEGRAM_API_URL"]
        assert base_url.startswith("http://127.0.0.1:")

        # A trailing slash (as pydantic's AnyHttpUrl renders it) must not break the routes.
        session = AiohttpSession(api=TelegramAPIServer.from_base(base_url + "/"))
        bot = Bot(env["BOT_TOKEN"], session=session)
        try:
            assert (await bot.get_me()).username == "campaign_test_bot"
        finally:
            await bot.session.close()

        async with httpx.AsyncClient(base_url=base_url, timeout=5) as client:
            sent = await client.post(
                "/_fake/send_text", json={"user": {"id": 3, "first_name": "A"}, "text": "hi"}
            )
            assert sent.json()["result"]["update_id"] == 1
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 10)
