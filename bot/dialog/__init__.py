"""The campaign dialog: commands, the wizard's steps, the summary and submission.

See docs/architecture.md for the path of an update through these modules.
"""

from aiogram import Router

from bot.dialog.handlers import common, desk, fallback, history, phones, steps, summary
from bot.dialog.middleware import DialogMiddleware, DraftLoader, setup_dialog

__all__ = ["DialogMiddleware", "DraftLoader", "get_routers", "setup_dialog"]


def get_routers() -> list[Router]:
    """Fresh routers, in priority order: commands first, wrong input and stale buttons last."""
    return [
        desk.create_router(),  # /start <token> before /start
        common.create_router(),
        history.create_router(),
        steps.create_router(),
        phones.create_router(),
        summary.create_router(),
        fallback.create_router(),
    ]
