"""The one place that reads aiogram's private attributes: the tasks of updates being
handled, which aiogram keeps but does not expose, and shutdown must wait for.

Pinned: pyproject allows only the aiogram versions tests/unit/test_aiogram_compat.py has
checked these names on; a new version is taken by moving the pin and running that test.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiogram import Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler

TESTED_AIOGRAM = ("3.31",)  # major.minor versions the names below were checked on


def handling_tasks(dispatcher: Dispatcher) -> set[asyncio.Task[Any]]:
    """Polling: the dispatcher's per-update tasks (handle_as_tasks)."""
    tasks: set[asyncio.Task[Any]] = dispatcher._handle_update_tasks
    return tasks


def webhook_tasks(handler: SimpleRequestHandler) -> set[asyncio.Task[Any]]:
    """Webhook: the handler's background feed tasks (handle_in_background)."""
    tasks: set[asyncio.Task[Any]] = handler._background_feed_update_tasks
    return tasks
