"""Webhook updates are acknowledged once handled (so Telegram redelivers an update whose
replica died), and a redelivered update is not applied twice."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest
from aiohttp import web

from bot.runner import SECRET_HEADER, create_webhook_app
from tests.dialog.conftest import BotUnderTest
from tests.dialog.flows import SKIP
from tests.fakes.telegram_api import Chat
from tests.runtime.conftest import ANNA

pytestmark = pytest.mark.redis

SECRET = "s3cret-Webhook_token"
WEBHOOK = {"webhook_url": "https://bot.example.test/webhook", "webhook_secret": SECRET}


@pytest.fixture
async def served(
    make_bot_under_test: Callable[..., BotUnderTest],
) -> AsyncIterator[tuple[BotUnderTest, str]]:
    app = make_bot_under_test(**WEBHOOK)
    runner = web.AppRunner(create_webhook_app(app.dp, app.bot, app.settings), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    try:
        yield app, f"http://{host}:{port}/webhook"
    finally:
        await runner.cleanup()


def _answers(app: BotUnderTest) -> int:
    return len(app.fake.calls("sendMessage")) + len(app.fake.calls("editMessageText"))


async def test_the_webhook_answers_only_once_the_update_is_handled(
    served: tuple[BotUnderTest, str],
) -> None:
    app, url = served
    chat = app.fake.add_chat(Chat.private(ANNA))
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        for update in (app.fake.send_text(chat, ANNA, "/new"),
                       app.fake.send_text(chat, ANNA, "Долги ноябрь")):
            before = _answers(app)
            async with http.post(url, json=update, headers={SECRET_HEADER: SECRET}) as response:
                assert response.status == 200
            # The bot's answer (a new message, or the live one edited) was given before
            # Telegram was told "delivered".
            assert _answers(app) == before + 1
    assert app.message_with_button(chat, SKIP)


async def test_a_redelivered_update_is_not_applied_twice(
    make_bot_under_test: Callable[..., BotUnderTest],
) -> None:
    a, b = make_bot_under_test(), make_bot_under_test()  # replicas, one Redis
    chat = a.fake.add_chat(Chat.private(ANNA))
    assert await a.say(chat, ANNA, "/new", reply=False)
    name = a.fake.send_text(chat, ANNA, "Долги ноябрь")
    await a.dp.feed_raw_update(a.bot, name)
    after_first = a.texts(chat)
    # Telegram got no answer in time (the replica died after handling it): the same
    # update again, to the other replica. Handled twice, the name would become the
    # description.
    await b.dp.feed_raw_update(b.bot, name)
    assert a.texts(chat) == after_first
    assert a.message_with_button(chat, SKIP)  # still at the description question
    assert await b.press(chat, ANNA, SKIP)
