"""``python -m bot --demo``: the whole bot on this machine, tried in a browser.

One process on 127.0.0.1: the fake Telegram Bot API, the fake campaign API, the chat page,
and the unmodified bot (bot.runner.run: its real dispatcher, long polling loop and HTTP
session) pointed at the two fakes with demo settings. No .env, token or network is needed
and none is read: the demo never reaches Telegram or a real campaign API. Ctrl+C stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import logging
import sys
from pathlib import Path

from bot.sandbox.campaign_api import FakeCampaignApi
from bot.sandbox.page import ChatPage, DemoChat
from bot.sandbox.telegram import Chat, FakeTelegram, User

log = logging.getLogger("bot.sandbox")

PRESETS = Path(__file__).with_name("presets.toml")
DEFAULT_PORT = 8088
START_TIMEOUT = 30.0
ANNA = User(id=1001, first_name="Анна", username="anna_supervisor")
BORIS = User(id=1002, first_name="Борис", username="boris_supervisor")
GROUP = Chat(id=-1001000000042, type="supergroup", title="Отдел обзвона")
# Not a secret: it only opens the fake Bot API of this process.
DEMO_TOKEN = "100000:demo-sandbox-not-a-real-token"
DEMO_CAMPAIGN_TOKEN = "demo-campaign-token"


def demo_chats() -> list[DemoChat]:
    return [
        DemoChat(Chat.private(ANNA), f"{ANNA.first_name} (личный чат)", (ANNA,)),
        DemoChat(GROUP, GROUP.title or "", (ANNA, BORIS)),
    ]


def demo_settings(telegram_url: str, campaign_url: str) -> dict[str, object]:
    """Everything the bot needs, given explicitly: nothing comes from a .env here."""
    return {
        "_env_file": None,
        "bot_token": DEMO_TOKEN,
        "telegram_api_url": telegram_url,
        "campaign_api_url": campaign_url,
        "campaign_api_token": DEMO_CAMPAIGN_TOKEN,
        "campaign_api_read_timeout": 30.0,
        "presets_file": PRESETS,
        # Anna may create anywhere; in the team group everyone who writes may (Boris too).
        "allowed_user_ids": [ANNA.id],
        "allowed_chat_ids": [GROUP.id],
        "redis_url": None,
        "storage_hmac_key": None,
        "webhook_url": None,
        "webhook_secret": None,
        "webhook_path": None,
        "default_locale": "ru",
    }


async def serve(port: int) -> None:
    from bot.runner import run
    from bot.settings import load_settings

    telegram = FakeTelegram(
        token=DEMO_TOKEN,
        bot_username="campaign_demo_bot",
        # A bot's id is its token's first part: aiogram knows "a reply to me" by it.
        bot_id=int(DEMO_TOKEN.split(":")[0]),
        bot_first_name="Обзвоны (демо)",
    )
    campaigns = FakeCampaignApi(token=DEMO_CAMPAIGN_TOKEN)
    page = ChatPage(telegram, campaigns, demo_chats())
    await telegram.start()
    await campaigns.start()
    try:
        for demo_chat in demo_chats():
            telegram.add_chat(demo_chat.chat)
            if demo_chat.chat.is_group:
                for member in demo_chat.members:
                    telegram.set_member(demo_chat.chat, member)
        try:
            url = await page.start(port=port)
        except OSError as error:
            if error.errno != errno.EADDRINUSE or port == 0:
                raise
            url = await page.start(port=0)  # the usual port is taken: any free one
        settings = load_settings(**demo_settings(telegram.base_url, campaigns.base_url))
        bot = asyncio.create_task(run(settings))
        # The URL once the bot polls: the page answers at once, and SIGINT/SIGTERM from
        # then on stop the bot gracefully (its polling loop handles them).
        polling = asyncio.create_task(telegram.wait_polling(timeout=START_TIMEOUT))
        await asyncio.wait({bot, polling}, return_when=asyncio.FIRST_COMPLETED)
        polling.cancel()
        if not bot.done():
            print(f"Демо: откройте {url}", flush=True)
        await bot
    finally:
        await page.stop()
        await campaigns.stop()
        await telegram.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot --demo", description=__doc__)
    parser.add_argument("--demo", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="port of the chat page (0: any free one)"
    )
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args(argv)
    from bot.logs import setup_logging

    setup_logging(args.log_level.upper())
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port))
    print("Демо остановлено.", file=sys.stderr)
