"""``python -m tests.fakes.campaign_api`` still serves the fake (now bot.sandbox's)."""

from bot.sandbox.campaign_api import main

main()
