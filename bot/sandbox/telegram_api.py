"""Entry point of the fake Telegram Bot API (the implementation is ``bot.sandbox.telegram``).

Run by hand: ``python -m bot.sandbox.telegram_api --port 8082``, then start the bot with
``TELEGRAM_API_URL`` set to the printed base URL and the printed token; drive it with the
``/_fake/...`` control endpoints (send_text, send_document, press, messages, requests, ...).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from bot.sandbox.telegram import (
    NOT_MODIFIED,
    QUERY_TOO_OLD,
    ApiError,
    BotMessage,
    Chat,
    FakeTelegram,
    Recorded,
    StoredFile,
    UploadedFile,
    User,
)

__all__ = [
    "NOT_MODIFIED",
    "QUERY_TOO_OLD",
    "ApiError",
    "BotMessage",
    "Chat",
    "FakeTelegram",
    "Recorded",
    "StoredFile",
    "UploadedFile",
    "User",
    "main",
]


async def _serve(args: argparse.Namespace) -> None:
    fake = FakeTelegram(
        token=args.token, bot_username=args.username, privacy_mode=not args.no_privacy
    )
    await fake.start(host=args.host, port=args.port)
    for key, value in fake.env().items():
        print(f"{key}={value}", flush=True)
    print(
        f"control: POST {fake.base_url}/_fake/send_text "
        '{"user": {"id": 1, "first_name": "Ann"}, "text": "/start"}',
        flush=True,
    )
    try:
        await asyncio.Event().wait()  # until Ctrl+C
    finally:
        await fake.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake Telegram Bot API server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8082)
    parser.add_argument("--token", default="123456:TEST")
    parser.add_argument("--username", default="campaign_test_bot")
    parser.add_argument("--no-privacy", action="store_true", help="disable group privacy mode")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
