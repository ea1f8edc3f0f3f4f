"""Runs the bot: long polling by default, a webhook server when WEBHOOK_URL is set."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from aiogram import Bot, Dispatcher
from aiogram.exceptions import (
    TelegramNetworkError,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.webhook.aiohttp_server import setup_application
from aiohttp import web

from bot.aiogram_compat import webhook_tasks
from bot.app import (
    SHUTDOWN_WAIT_SECONDS,
    create_deps,
    create_dispatcher,
    create_state_backend,
    set_commands,
)
from bot.i18n import create_i18n
from bot.logs import register_secret, register_url_password
from bot.phones import shutdown_executor, start_executor
from bot.redelivery import AckAfterHandling
from bot.settings import Settings
from bot.telegram import create_bot

log = logging.getLogger("bot")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# On shutdown in webhook mode: how long updates still being handled may take, before the
# dispatcher's shutdown waits (up to SHUTDOWN_WAIT_SECONDS) for submissions.
WEBHOOK_UPDATES_WAIT_SECONDS = 10.0
# Seconds between start-up attempts while Telegram cannot be reached; the last one repeats.
STARTUP_BACKOFF = (1, 2, 4, 8, 16, 30)

T = TypeVar("T")


class StartupError(Exception):
    """Start-up cannot succeed by waiting (e.g. the token is refused): one line, exit 2."""


def _register_secrets(settings: Settings) -> None:
    """Secrets the log filter must never let through, whatever logs them."""
    for secret in (
        settings.bot_token,
        settings.campaign_api_token,
        settings.webhook_secret,
        settings.storage_hmac_key,
    ):
        if secret is not None:
            register_secret(secret.get_secret_value())
    if settings.redis_url:
        register_url_password(settings.redis_url)


async def startup_call(
    what: str,
    call: Callable[[], Awaitable[T]],
    *,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> T:
    """A Bot API call the bot cannot start without. Telegram unreachable (no network yet,
    DNS, timeout, 5xx): try again with a capped backoff, one log line per try, until it
    answers; the token refused: StartupError naming BOT_TOKEN, since waiting cannot help."""
    attempt = 0
    while True:
        try:
            return await call()
        except TelegramUnauthorizedError:
            raise StartupError(
                f"BOT_TOKEN: Telegram refused the token (401 Unauthorized) at {what}"
            ) from None
        except (TelegramNetworkError, TelegramServerError) as error:
            delay = STARTUP_BACKOFF[min(attempt, len(STARTUP_BACKOFF) - 1)]
            attempt += 1
            log.warning(
                "Telegram unreachable at %s (%s: %s): try %d failed, retrying in %d s",
                what,
                type(error).__name__,
                error.message,
                attempt,
                delay,
            )
            await sleep(delay)


def public_url(url: str) -> str:
    """A URL fit for the log: no user, password, query or fragment."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


async def run(settings: Settings) -> None:
    _register_secrets(settings)
    backend = create_state_backend(settings)
    deps = create_deps(settings, backend)
    i18n = create_i18n(settings.default_locale)
    dp = create_dispatcher(settings, deps, backend, i18n=i18n)
    bot = create_bot(settings)
    try:
        # bot.me() caches the answer, so start_polling does not ask again.
        me = await startup_call("getMe", bot.me)
        log.info(
            "bot @%s (id %s) starting, mode=%s storage=%s",
            me.username,
            me.id,
            "polling" if settings.webhook_url is None else "webhook",
            type(backend.storage).__name__,
        )
        await startup_call("setMyCommands", lambda: set_commands(bot, i18n))
        if settings.numbering_plan_dir is not None:
            # For the ingest workers' forkserver, which reads the registry once for all
            # of them (bot/forkserver_preload.py); the setting may come from .env.
            os.environ["NUMBERING_PLAN_DIR"] = str(settings.numbering_plan_dir)
        await asyncio.to_thread(start_executor)
        # Everything loaded so far (aiogram, polars, the catalogs: ~1M objects) lives as
        # long as the bot: out of the collector's sight, a full collection takes ~1 ms,
        # not the ~100 ms that stalled whichever update was being answered.
        gc.collect()
        gc.freeze()
        if settings.webhook_url is None:
            await run_polling(dp, bot)
        else:
            await run_webhook(dp, bot, settings)
    finally:
        # Normally closed by the dispatcher's shutdown already; not if start-up failed.
        await deps.campaign_client.aclose()
        await backend.close()
        await bot.session.close()
        await asyncio.to_thread(shutdown_executor)
        log.info("connections closed")


async def run_polling(dp: Dispatcher, bot: Bot) -> None:
    # Polling and a webhook exclude each other: polling is chosen by leaving WEBHOOK_URL empty.
    await startup_call("deleteWebhook", lambda: bot.delete_webhook(drop_pending_updates=False))
    # SIGTERM/SIGINT stop polling; the dispatcher's shutdown then waits for running work.
    await dp.start_polling(
        bot,
        allowed_updates=dp.resolve_used_update_types(),
        close_bot_session=False,
        handle_signals=True,
    )


class WebhookHandler(AckAfterHandling):
    """aiogram's handler (401 on a wrong or missing secret), but on shutdown it waits for the
    updates it is still handling instead of closing the bot's session under them: the
    session is closed last, by `run`."""

    async def close(self) -> None:
        pending = set(webhook_tasks(self))
        if pending:
            log.info("shutdown: waiting for %d webhook update(s) being handled", len(pending))
            await asyncio.wait(pending, timeout=WEBHOOK_UPDATES_WAIT_SECONDS)


def create_webhook_app(dp: Dispatcher, bot: Bot, settings: Settings) -> web.Application:
    app = web.Application()

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app.router.add_get("/healthz", healthz)
    if settings.healthz_path != "/healthz":
        app.router.add_get(settings.healthz_path, healthz)
    # Required with WEBHOOK_URL (settings); tests may serve the app without one.
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    # Registered before setup_application: aiohttp runs on_shutdown callbacks in order, so
    # updates in progress finish first, then the dispatcher's shutdown waits for submissions.
    WebhookHandler(dispatcher=dp, bot=bot, secret_token=secret).register(
        app, path=settings.webhook_listen_path
    )
    setup_application(app, dp, bot=bot)
    return app


def webhook_options(dp: Dispatcher, settings: Settings) -> dict[str, Any]:
    assert settings.webhook_url is not None
    return {
        "url": str(settings.webhook_url),
        "secret_token": (
            settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        ),
        "allowed_updates": dp.resolve_used_update_types(),
        "drop_pending_updates": False,
    }


async def run_webhook(
    dp: Dispatcher, bot: Bot, settings: Settings, *, stop: asyncio.Event | None = None
) -> None:
    """Serve until SIGTERM/SIGINT (or `stop` is set). Every replica sets the same webhook at
    start; none deletes it on shutdown, which would cut off the replicas still running."""
    app = create_webhook_app(dp, bot, settings)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_WAIT_SECONDS)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.webhook_host, settings.webhook_port)
        await site.start()
        options = webhook_options(dp, settings)
        await startup_call("setWebhook", lambda: bot.set_webhook(**options))
        log.info(
            "webhook: Telegram delivers to %s; listening on %s:%s%s (health %s)",
            public_url(options["url"]),
            settings.webhook_host,
            settings.webhook_port,
            settings.webhook_listen_path,
            settings.healthz_path,
        )
        stop = stop or asyncio.Event()
        loop = asyncio.get_running_loop()
        handled: list[signal.Signals] = []
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.add_signal_handler(sig, stop.set)
                handled.append(sig)
            except (NotImplementedError, RuntimeError):  # not the main thread / Windows
                pass
        try:
            await stop.wait()
            log.info("webhook server stopping")
        finally:
            for sig in handled:
                loop.remove_signal_handler(sig)
    finally:
        # Stops accepting requests, then on_shutdown: webhook updates in progress finish,
        # then the dispatcher's shutdown (submissions finish, the API client is closed).
        await runner.cleanup()
