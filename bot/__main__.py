"""`python -m bot`: settings -> polling or webhook. `python -m bot --demo`: the whole bot
on this machine against the fakes, with a chat page (bot/sandbox/demo.py)."""

from __future__ import annotations

import asyncio
import logging
import sys

from bot import aiogram_lazy

# First, before anything imports aiogram: its ~300 types built on first use (~100 MB).
aiogram_lazy.install()

from bot.logs import setup_logging  # noqa: E402
from bot.settings import load_settings_or_exit  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if "--demo" in args:
        # The only place the bot's code reaches the sandbox, and only when asked to.
        from bot.sandbox.demo import main as demo

        demo(args)
        return
    if args:
        print(f"usage: python -m bot [--demo [--port N]]; unknown: {' '.join(args)}",
              file=sys.stderr)
        raise SystemExit(2)
    settings = load_settings_or_exit()
    setup_logging(settings.log_level)
    # Imported late: a configuration error is reported without importing aiogram.
    from bot.app import load_app_presets
    from bot.runner import StartupError, run

    try:
        load_app_presets(settings)
    except ValueError as error:
        print(f"configuration error: PRESETS_FILE: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    try:
        asyncio.run(run(settings))
    except KeyboardInterrupt:
        pass
    except StartupError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    logging.getLogger("bot").info("stopped")


if __name__ == "__main__":
    main()
