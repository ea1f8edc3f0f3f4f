"""The Bot object and its HTTP session: API server, parse mode, flood control."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.middlewares.base import BaseRequestMiddleware
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramRetryAfter
from aiogram.methods import AnswerCallbackQuery

if TYPE_CHECKING:
    from aiogram.client.session.middlewares.base import NextRequestMiddlewareType
    from aiogram.methods import TelegramMethod
    from aiogram.methods.base import Response, TelegramType

    from bot.settings import Settings

from bot.middlewares.logging import current_update_id
from bot.ratelimit import GroupRateMiddleware, GroupSendLimiter

log = logging.getLogger("bot.telegram")
api_log = logging.getLogger("bot.api")


class ApiCallLoggingMiddleware(BaseRequestMiddleware):
    """One line per Bot API call (each attempt): method, chat, update being handled, outcome,
    duration. Never parameters or texts (phone numbers), never the URL (the token)."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        started = time.perf_counter()
        outcome = "ok"
        try:
            return await make_request(bot, method)
        except TelegramRetryAfter as error:
            outcome = f"429 retry_after={error.retry_after}"
            raise
        except TelegramAPIError as error:
            outcome = f"error {type(error).__name__}"
            raise
        except BaseException as error:
            outcome = f"failed {type(error).__name__}"
            raise
        finally:
            if method.__api_method__ != "getUpdates" or outcome != "ok":
                api_log.info(
                    "api method=%s chat=%s update=%s outcome=%s duration_ms=%.1f",
                    method.__api_method__,
                    getattr(method, "chat_id", None) or "-",
                    current_update_id.get() or "-",
                    outcome,
                    (time.perf_counter() - started) * 1000,
                )


class RetryAfterMiddleware(BaseRequestMiddleware):
    """Telegram's flood control: wait out `retry_after` and send again, a bounded number of
    times, so a busy group loses no message. One place for every API call."""

    def __init__(self, max_retries: int = 3, max_wait: float = 60.0) -> None:
        self.max_retries = max_retries
        self.max_wait = max_wait

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        attempt = 0
        while True:
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                attempt += 1
                if attempt > self.max_retries or error.retry_after > self.max_wait:
                    raise
                log.warning(
                    "flood control on %s: waiting %s s (retry %d/%d)",
                    type(method).__name__,
                    error.retry_after,
                    attempt,
                    self.max_retries,
                )
                await asyncio.sleep(error.retry_after)


class StaleCallbackAnswerMiddleware(BaseRequestMiddleware):
    """An answer to a callback query that is already answered or too old (a redelivered
    update, a slow lock) changes nothing for the user: it must not fail the handler."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        try:
            return await make_request(bot, method)
        except TelegramBadRequest as error:
            if isinstance(method, AnswerCallbackQuery) and "query is too old" in error.message:
                log.info(
                    "callback query %s was already answered or expired", method.callback_query_id
                )
                # Session middlewares hand back the method's result, here answerCallbackQuery's.
                return True  # type: ignore[return-value]
            raise


def create_session(settings: Settings, **kwargs: Any) -> AiohttpSession:
    if settings.telegram_api_url is not None:
        api = TelegramAPIServer.from_base(str(settings.telegram_api_url).rstrip("/"))
        kwargs.setdefault("api", api)
    session = AiohttpSession(**kwargs)
    # The first registered is the outermost: retries wrap everything, each attempt is logged;
    # each attempt at a group message takes a slot of that group's per-minute budget.
    session.middleware(RetryAfterMiddleware())
    session.middleware(GroupRateMiddleware(GroupSendLimiter(settings.group_messages_per_minute)))
    session.middleware(StaleCallbackAnswerMiddleware())
    session.middleware(ApiCallLoggingMiddleware())
    return session


def create_bot(settings: Settings, session: AiohttpSession | None = None) -> Bot:
    return Bot(
        token=settings.bot_token.get_secret_value(),
        session=session or create_session(settings),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
