"""At most N bot messages a minute in one group, as Telegram allows (about 20): a message
over the limit waits its turn instead of failing with 429 (or being dropped).

A session middleware, so every new message in a group passes it, whoever sends it. Edits
and callback answers are not counted: editing in place is how the bot stays under the limit.
The count is this process's own; replicas are told apart by Telegram's 429, which
RetryAfterMiddleware (outside this one) still waits out.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware

if TYPE_CHECKING:
    from aiogram.client.session.middlewares.base import NextRequestMiddlewareType
    from aiogram.methods import TelegramMethod
    from aiogram.methods.base import Response, TelegramType

log = logging.getLogger("bot.telegram")

# A second more than Telegram's minute: its clock counts a message on arrival, not when
# this process let it go.
WINDOW_SECONDS = 61.0
# Methods that put a new message (or several) into the chat.
SENDING_METHODS = frozenset({
    "sendMessage", "sendDocument", "sendPhoto", "sendVideo", "sendAudio", "sendVoice",
    "sendAnimation", "sendSticker", "sendMediaGroup", "sendPoll", "sendContact",
    "sendLocation", "copyMessage", "forwardMessage", "copyMessages", "forwardMessages",
})


def is_group_chat_id(chat_id: object) -> bool:
    # Groups and supergroups have negative ids; "@name" addresses a public chat.
    return (isinstance(chat_id, int) and chat_id < 0) or (
        isinstance(chat_id, str) and chat_id.startswith("@")
    )


class GroupSendLimiter:
    """A sliding window per chat; waiters of one chat queue in order behind its lock."""

    def __init__(
        self,
        per_window: int = 20,
        window: float = WINDOW_SECONDS,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        max_chats: int = 10_000,
    ) -> None:
        self.per_window = per_window
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._max_chats = max_chats
        self._sent: dict[int | str, deque[float]] = {}
        self._locks: dict[int | str, asyncio.Lock] = {}

    def set_clock(
        self, clock: Callable[[], float], sleep: Callable[[float], Awaitable[object]]
    ) -> None:
        """Another time source (tests run the minute on a virtual clock)."""
        self._clock = clock
        self._sleep = sleep

    def _forget_idle(self) -> None:
        # Bounded memory: chats with nothing in the window are dropped first.
        if len(self._sent) <= self._max_chats:
            return
        now = self._clock()
        for chat in [c for c, q in self._sent.items() if not q or now - q[-1] >= self.window]:
            lock = self._locks.get(chat)
            if lock is None or not lock.locked():
                self._sent.pop(chat, None)
                self._locks.pop(chat, None)

    async def acquire(self, chat_id: int | str) -> float:
        """Wait until `chat_id` may get one more message; returns the seconds waited."""
        self._forget_idle()
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        sent = self._sent.setdefault(chat_id, deque())
        waited = 0.0
        async with lock:
            while True:
                now = self._clock()
                while sent and now - sent[0] >= self.window:
                    sent.popleft()
                if len(sent) < self.per_window:
                    sent.append(now)
                    return waited
                pause = self.window - (now - sent[0]) + 0.01
                waited += pause
                await self._sleep(pause)


class GroupRateMiddleware(BaseRequestMiddleware):
    def __init__(self, limiter: GroupSendLimiter) -> None:
        self.limiter = limiter

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        chat_id = getattr(method, "chat_id", None)
        if method.__api_method__ in SENDING_METHODS and is_group_chat_id(chat_id):
            waited = await self.limiter.acquire(chat_id)  # type: ignore[arg-type]
            if waited:
                log.info("group limit: %s to chat=%s waited %.1f s",
                         method.__api_method__, chat_id, waited)
        return await make_request(bot, method)
