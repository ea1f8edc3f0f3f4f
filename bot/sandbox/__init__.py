"""The sandbox: fake Telegram Bot API, fake campaign API and the demo that runs the real bot
against them with a chat page. Tests and ``python -m bot --demo`` import it; the bot's own
code never does (tests/unit/test_sandbox_boundary.py)."""
