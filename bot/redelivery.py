"""Webhook updates survive a crash of the replica handling them.

aiogram's webhook handler answers Telegram 200 before the update is handled, so an update
in progress when the process dies is gone. `AckAfterHandling` answers only once the update
is handled (up to `ACK_WITHIN_SECONDS`): after a crash Telegram gets no answer and
redelivers it, to a replica that is alive. An update taking longer (a big list being
downloaded and read) is answered then and finishes in the background, as before.

Redelivery must not apply an update twice: `HandleOnce` marks each update id handled in
Redis (inside the per-user lock) and ignores one seen already.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.types import TelegramObject, Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger("bot.redelivery")

# Below Telegram's own wait for an answer (about a minute) and above a lock waiter's wait.
ACK_WITHIN_SECONDS = 15.0
HANDLED_TTL_SECONDS = 24 * 3600


class AckAfterHandling(SimpleRequestHandler):
    """SimpleRequestHandler whose 200 means "handled", for updates handled in time."""

    ack_within: float = ACK_WITHIN_SECONDS

    async def _handle_request_background(self, bot: Bot, request: web.Request) -> web.Response:
        update = await request.json(loads=bot.session.json_loads)
        # Still a tracked background task: it outlives the request if slow, and shutdown
        # waits for it either way.
        task = asyncio.create_task(self._background_feed_update(bot=bot, update=update))
        self._background_feed_update_tasks.add(task)
        task.add_done_callback(self._background_feed_update_tasks.discard)
        # asyncio.wait, not wait_for: a timeout (or Telegram hanging up) must not cancel it.
        await asyncio.wait({task}, timeout=self.ack_within)
        return web.json_response({}, dumps=bot.session.json_dumps)


class HandleOnce(BaseMiddleware):
    """An update id handled already (a redelivery) is skipped. Registered on dp.update after
    the FSM middleware, so it runs under the user's lock: a redelivery waits for the
    original and then sees it marked."""

    def __init__(self, redis: Redis, prefix: str, ttl: int = HANDLED_TTL_SECONDS) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl = ttl

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        key = f"{self.prefix}:handled:{data['bot'].id}:{event.update_id}"
        if await self.redis.exists(key):
            log.info("update %s handled already: redelivery ignored", event.update_id)
            return None
        try:
            result = await handler(event, data)
        except asyncio.CancelledError:
            raise  # not finished: a redelivery must run it
        except Exception:
            await self._mark(key)  # failed, but answered by the error handler
            raise
        await self._mark(key)
        return result

    async def _mark(self, key: str) -> None:
        try:
            await self.redis.set(key, 1, ex=self.ttl)
        except RedisError as error:
            log.warning("update not marked handled: %s", type(error).__name__)
