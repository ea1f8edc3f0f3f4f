"""Webhook updates survive a crash of the replica handling them.

aiogram's webhook handler answers Telegram 200 before the update is handled, so an update
in progress when the process dies is gone. `AckAfterHandling` answers only once the update
is handled (up to `ACK_WITHIN_SECONDS`): after a crash Telegram gets no answer and
redelivers it, to a replica that is alive. An update taking longer (a big list being
downloaded and read) is answered then and finishes in the background, as before.

Redelivery must not apply an update twice: `HandleOnce` marks each update id handled in
Redis (inside the per-user lock) and ignores one seen already. The mark is written in the
same MULTI as the update's draft write: DraftRedisStorage holds the FSM state set during
the update (`Pending`) and writes it with the data and the mark, so a crash can not fall
between "the draft moved on" and "the update is marked". Redelivered, an update either was
not applied at all (the bot's messages before its draft write may repeat) or is skipped.

The mark is read in the round trip that takes the lock: `AnnounceUpdate` (before the FSM
middleware) names the update's mark in a `Ticket`, and the lock's acquire script
(bot/isolation.py) reads it atomically with taking the lock. An update handled without the
lock (no FSM context) has its mark checked by `HandleOnce` itself, with EXISTS.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.types import TelegramObject, Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError

from bot.aiogram_compat import webhook_tasks

log = logging.getLogger("bot.redelivery")

# Below Telegram's own wait for an answer (about a minute) and above a lock waiter's wait.
ACK_WITHIN_SECONDS = 15.0
# Marks live as long as drafts (DRAFT_TTL_HOURS): a redelivery comes within minutes.
DEFAULT_HANDLED_TTL_SECONDS = 24 * 3600



@dataclass
class Pending:
    """What the update being handled has not written yet: its "handled" mark (until the
    first draft write carries it) and FSM states set since (Redis key -> state)."""

    mark: str | None
    mark_ttl: int = DEFAULT_HANDLED_TTL_SECONDS
    states: dict[str, str | None] = field(default_factory=dict)
    # Only the update's own task: a task it starts (a submission) inherits the context
    # variable but must write its states itself, at once.
    task: asyncio.Task[Any] | None = field(default_factory=asyncio.current_task)


_pending: contextvars.ContextVar[Pending | None] = contextvars.ContextVar(
    "pending_update_writes", default=None
)


@dataclass
class Ticket:
    """The Redis key of the update's "handled" mark, announced before the lock is taken; the
    lock's acquire fills `seen` (whether the mark was there) in the same round trip."""

    mark: str
    seen: bool | None = None  # None: not read with a lock (HandleOnce asks Redis itself)
    task: asyncio.Task[Any] | None = field(default_factory=asyncio.current_task)


_ticket: contextvars.ContextVar[Ticket | None] = contextvars.ContextVar(
    "update_ticket", default=None
)


def mark_key(prefix: str, bot_id: int, update_id: int) -> str:
    return f"{prefix}:handled:{bot_id}:{update_id}"


def current_ticket() -> Ticket | None:
    """The ticket of the update the current task is handling (not of one that started it)."""
    ticket = _ticket.get()
    if ticket is None or ticket.task is not asyncio.current_task():
        return None
    return ticket


class AnnounceUpdate(BaseMiddleware):
    """Names the update's mark for the lock to read. Registered on dp.update *before* the
    FSM middleware (which takes the lock), unlike HandleOnce."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        token = _ticket.set(Ticket(mark_key(self.prefix, data["bot"].id, event.update_id)))
        try:
            return await handler(event, data)
        finally:
            _ticket.reset(token)


def current_pending() -> Pending | None:
    pending = _pending.get()
    if pending is None or pending.task is not asyncio.current_task():
        return None
    return pending


def write_pending(
    pipe: Pipeline, pending: Pending, state_ttl: int | None, seal: Callable[[str, str], str]
) -> None:
    """Queue the held states (signed by `seal`, as every stored value) and the mark on a
    MULTI pipeline, once."""
    for redis_key, state in pending.states.items():
        if state is None:
            pipe.delete(redis_key)
        else:
            pipe.set(redis_key, seal(redis_key, state), ex=state_ttl)
    pending.states = {}
    if pending.mark is not None:
        pipe.set(pending.mark, 1, ex=pending.mark_ttl)
        pending.mark = None


class AckAfterHandling(SimpleRequestHandler):
    """SimpleRequestHandler whose 200 means "handled", for updates handled in time."""

    ack_within: float = ACK_WITHIN_SECONDS

    async def _handle_request_background(self, bot: Bot, request: web.Request) -> web.Response:
        update = await request.json(loads=bot.session.json_loads)
        # Still a tracked background task: it outlives the request if slow, and shutdown
        # waits for it either way.
        task = asyncio.create_task(self._background_feed_update(bot=bot, update=update))
        webhook_tasks(self).add(task)
        task.add_done_callback(webhook_tasks(self).discard)
        # asyncio.wait, not wait_for: a timeout (or Telegram hanging up) must not cancel it.
        await asyncio.wait({task}, timeout=self.ack_within)
        return web.json_response({}, dumps=bot.session.json_dumps)


class HandleOnce(BaseMiddleware):
    """An update id handled already (a redelivery) is skipped. Registered on dp.update after
    the FSM middleware, so it runs under the user's lock: a redelivery waits for the
    original and then sees it marked."""

    def __init__(self, redis: Redis, prefix: str, state_ttl: int | None, *,
                 seal: Callable[[str, str], str],
                 mark_ttl: int = DEFAULT_HANDLED_TTL_SECONDS) -> None:
        self.redis = redis
        self.prefix = prefix
        self.state_ttl = state_ttl
        self.seal = seal
        self.mark_ttl = mark_ttl

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        key = mark_key(self.prefix, data["bot"].id, event.update_id)
        ticket = current_ticket()
        if ticket is not None and ticket.mark == key and ticket.seen is not None:
            seen = ticket.seen  # read with the lock, atomically with taking it
        else:
            seen = bool(await self.redis.exists(key))
        if seen:
            log.info("update %s handled already: redelivery ignored", event.update_id)
            return None
        pending = Pending(mark=key, mark_ttl=self.mark_ttl)
        token = _pending.set(pending)
        try:
            result = await handler(event, data)
        except asyncio.CancelledError:
            raise  # not finished: nothing held is written, a redelivery runs it again
        except Exception:
            await self._flush(pending)  # failed, but answered by the error handler
            raise
        finally:
            _pending.reset(token)
        await self._flush(pending)  # what no draft write carried (state only, or nothing)
        return result

    async def _flush(self, pending: Pending) -> None:
        if pending.mark is None and not pending.states:
            return
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                write_pending(pipe, pending, self.state_ttl, self.seal)
                await pipe.execute()
        except RedisError as error:
            log.warning("update not marked handled: %s", type(error).__name__)
