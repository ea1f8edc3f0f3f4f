"""Moved to ``bot.sandbox.telegram``; this name (and its submodules) is kept as the same
package."""

from tests.fakes._alias import alias

alias(__name__, "bot.sandbox.telegram", ("entities", "models", "server"))
