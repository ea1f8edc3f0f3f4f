"""Webhook mode: the secret is checked on every request, /healthz answers, the webhook is
set with the dispatcher's update types and left in place on shutdown (other replicas)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest
from aiohttp import web

from bot.runner import SECRET_HEADER, create_webhook_app, run_webhook
from tests.dialog.conftest import BotUnderTest
from tests.dialog.flows import CREATE, CREATED, fill_to_summary
from tests.fakes.telegram_api import Chat
from tests.runtime.conftest import ANNA

pytestmark = pytest.mark.redis

SECRET = "s3cret-Webhook_token"
WEBHOOK = {"webhook_url": "https://bot.example.test/webhook", "webhook_secret": SECRET}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Served:
    def __init__(self, app: BotUnderTest, runner: web.AppRunner) -> None:
        self.app, self.runner = app, runner
        host, port = runner.addresses[0][:2]
        self.base = f"http://{host}:{port}"
        self.stopped = False

    async def stop(self) -> None:
        """What run_webhook does on SIGTERM: the runner's cleanup."""
        if not self.stopped:
            self.stopped = True
            await self.runner.cleanup()


@pytest.fixture
async def served(make_bot_under_test: Callable[..., BotUnderTest]) -> AsyncIterator[Served]:
    """The webhook app of a bot under test, served on 127.0.0.1."""
    app = make_bot_under_test(**WEBHOOK)
    runner = web.AppRunner(create_webhook_app(app.dp, app.bot, app.settings), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    served = Served(app, runner)
    try:
        yield served
    finally:
        await served.stop()


@pytest.mark.parametrize("header", [None, "wrong", SECRET[:-1]])
async def test_a_wrong_or_missing_secret_is_refused_and_not_processed(
    served: Served, header: str | None
) -> None:
    app, base = served.app, served.base
    chat = app.fake.add_chat(Chat.private(ANNA))
    update = app.fake.send_text(chat, ANNA, "/start")
    headers = {SECRET_HEADER: header} if header is not None else {}
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/webhook", json=update, headers=headers) as response:
            assert response.status == 401
    await asyncio.sleep(0.3)  # a background handler, had one started, would have answered
    assert app.fake.calls("sendMessage") == []
    assert app.fake.messages(chat.id) == []


async def test_the_right_secret_is_processed_and_healthz_answers(
    served: Served,
) -> None:
    app, base = served.app, served.base
    chat = app.fake.add_chat(Chat.private(ANNA))
    update = app.fake.send_text(chat, ANNA, "/start")
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/healthz") as response:
            assert response.status == 200
            assert await response.json() == {"ok": True}
        async with http.post(
            f"{base}/webhook", json=update, headers={SECRET_HEADER: SECRET}
        ) as response:
            assert response.status == 200
    message = await app.fake.wait_for_message(chat.id, timeout=5)
    assert "/new" in (message.text or "")


async def test_run_webhook_sets_the_webhook_and_leaves_it_on_shutdown(
    make_bot_under_test: Callable[..., BotUnderTest],
) -> None:
    app = make_bot_under_test(**WEBHOOK, webhook_host="127.0.0.1", webhook_port=_free_port())
    stop = asyncio.Event()
    task = asyncio.create_task(run_webhook(app.dp, app.bot, app.settings, stop=stop))
    try:
        call = await app.fake.wait_for_request("setWebhook", timeout=5)
        assert call.params["url"] == WEBHOOK["webhook_url"]
        assert call.params["secret_token"] == SECRET
        assert sorted(call.params["allowed_updates"]) == sorted(app.dp.resolve_used_update_types())
        assert {"message", "callback_query"} <= set(call.params["allowed_updates"])
        async with aiohttp.ClientSession() as http:
            url = f"http://127.0.0.1:{app.settings.webhook_port}/healthz"
            async with http.get(url) as response:
                assert response.status == 200
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    assert app.fake.calls("deleteWebhook") == []
    assert app.fake.webhook_url == WEBHOOK["webhook_url"]
    assert app.deps.campaign_client.closed  # the dispatcher's shutdown ran


async def test_webhook_shutdown_lets_an_update_in_progress_and_its_submission_finish(
    served: Served,
) -> None:
    """On SIGTERM in webhook mode the update being handled, then the submission it started,
    finish before the API client is closed; the Bot session stays open for the answer."""
    app, base = served.app, served.base
    chat = app.fake.add_chat(Chat.private(ANNA))
    await fill_to_summary(app, chat, ANNA)
    app.api.fail_next(delay=0.8)
    summary = app.message_with_button(chat, CREATE)
    tap = app.fake.press_button(
        chat, ANNA, summary.message_id, summary.button(CREATE)["callback_data"]
    )
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/webhook", json=tap, headers={SECRET_HEADER: SECRET}) as r:
            assert r.status == 200  # answered at once, handled in the background
    await asyncio.wait_for(served.stop(), 10)
    assert len(app.api.created) == 1
    assert CREATED in app.last_text(chat)
    assert app.deps.campaign_client.closed
