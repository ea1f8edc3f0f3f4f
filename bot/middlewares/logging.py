"""One log line per update: what it was, where, whose, in which state, how long.

Never the text of a message: it may hold phone numbers.
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update

log = logging.getLogger("bot.updates")

# The update being handled, for the API call lines (bot.telegram) and anything it spawns.
current_update_id: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "current_update_id", default=None
)


class UpdateLoggingMiddleware(BaseMiddleware):
    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        started = time.perf_counter()
        update_id = event.update_id if isinstance(event, Update) else None
        token = current_update_id.set(update_id)
        outcome = "ok"
        try:
            return await handler(event, data)
        except Exception:
            outcome = "error"
            raise
        finally:
            current_update_id.reset(token)
            # The state the update was handled in, as the FSM middleware read it.
            current = data.get("raw_state")
            chat = data.get("event_chat")
            user = data.get("event_from_user")
            log.info(
                "update id=%s type=%s chat=%s user=%s state=%s outcome=%s duration_ms=%.1f",
                update_id if update_id is not None else "-",
                event.event_type if isinstance(event, Update) else type(event).__name__,
                chat.id if chat else "-",
                user.id if user else "-",
                current or "-",
                outcome,
                (time.perf_counter() - started) * 1000,
            )
