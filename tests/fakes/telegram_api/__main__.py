"""``python -m tests.fakes.telegram_api`` still serves the fake (now bot.sandbox's)."""

from bot.sandbox.telegram_api import main

main()
