"""Moved to ``bot.sandbox.campaign_api``; every name of it is here too."""

from tests.fakes._alias import reexport

reexport(globals(), "bot.sandbox.campaign_api")
