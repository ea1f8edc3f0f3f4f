"""Redis unreachable (restart, failover, a network blip): the user is told to retry in a
minute instead of getting nothing. redis-py reconnects by itself on the next command, so
the bot carries on once Redis is back; the draft in Redis was never touched."""

from __future__ import annotations

import contextlib
import logging

from aiogram.exceptions import TelegramAPIError
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import gettext as _
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger("bot.outage")

REDIS_DOWN = (RedisConnectionError, RedisTimeoutError)
REDIS_DOWN_FILTER = ExceptionTypeFilter(*REDIS_DOWN)


async def on_redis_down(event: ErrorEvent) -> bool:
    """No traceback for an outage: one warning line, and an answer to the update."""
    update = event.update
    log.warning("update %s: Redis unavailable (%s)", update.update_id,
                type(event.exception).__name__)
    text = _("Service temporarily unavailable, try again in a minute")
    with contextlib.suppress(TelegramAPIError):
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.message is not None:
            await update.message.reply(text)
    return True
