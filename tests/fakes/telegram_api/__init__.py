"""Moved to ``bot.sandbox.telegram_api``; every name of it is here too."""

from tests.fakes._alias import reexport

reexport(globals(), "bot.sandbox.telegram_api")
