"""The private aiogram names bot/aiogram_compat.py reads exist, and hold the tasks the
dispatcher and the webhook handler really create: a new aiogram that renames them fails
here, not at shutdown."""

from __future__ import annotations

import inspect

import aiogram
from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import BaseRequestHandler, SimpleRequestHandler

from bot.aiogram_compat import TESTED_AIOGRAM, handling_tasks, webhook_tasks


def test_the_installed_aiogram_is_one_the_shim_was_checked_on() -> None:
    major_minor = ".".join(aiogram.__version__.split(".")[:2])
    assert major_minor in TESTED_AIOGRAM


async def test_the_dispatcher_tracks_its_update_tasks_where_the_shim_reads() -> None:
    dp = Dispatcher()
    assert handling_tasks(dp) == set()
    # aiogram's polling adds each handle-as-task to this very set, and discards it when done.
    source = inspect.getsource(Dispatcher)
    assert "self._handle_update_tasks.add(" in source
    assert "add_done_callback(self._handle_update_tasks.discard)" in source


async def test_the_webhook_handler_keeps_its_feed_tasks_where_the_shim_reads() -> None:
    bot = Bot("42:TEST")
    try:
        handler = SimpleRequestHandler(dispatcher=Dispatcher(), bot=bot)
        assert webhook_tasks(handler) == set()
        source = inspect.getsource(BaseRequestHandler)
        assert "self._background_feed_update_tasks.add(" in source
    finally:
        await bot.session.close()
