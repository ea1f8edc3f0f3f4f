"""The campaign dialog: commands, the wizard's steps, the summary and submission."""

from aiogram import Router

from bot.dialog.flow import DialogMiddleware
from bot.dialog.guards import DraftGuard
from bot.dialog.handlers import common, fallback, history, phones, steps, summary

__all__ = ["DialogMiddleware", "DraftGuard", "get_routers"]


def get_routers() -> list[Router]:
    """Fresh routers, in priority order: commands first, wrong input and stale buttons last."""
    return [
        common.create_router(),
        history.create_router(),
        steps.create_router(),
        phones.create_router(),
        summary.create_router(),
        fallback.create_router(),
    ]
