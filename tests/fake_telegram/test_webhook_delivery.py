"""The fake's opt-in webhook delivery: the secret header, retries until a 2xx, and a chat's
updates one at a time in order (the next only after the previous was acknowledged)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from tests.fakes.telegram_api import Chat, FakeTelegram, User

ANNA = User(id=1001, first_name="Анна")
BORIS = User(id=1002, first_name="Борис")


class Receiver:
    def __init__(self) -> None:
        self.got: list[tuple[int, str]] = []
        self.fail_first = 0
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        update = await request.json()
        self.got.append((update["update_id"],
                         request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")))
        if self.fail_first > 0:
            self.fail_first -= 1
            return web.Response(status=500)
        return web.json_response({})


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/hook", rec.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    rec.url = f"http://{host}:{port}/hook"
    try:
        yield rec
    finally:
        await runner.cleanup()


async def _set_webhook(fake: FakeTelegram, url: str) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as http:
        async with http.post(f"{fake.api_url}/setWebhook",
                             json={"url": url, "secret_token": "tok"}) as response:
            assert (await response.json())["ok"]


async def test_off_by_default_updates_wait_for_get_updates(
    fake_telegram: FakeTelegram, receiver: Receiver
) -> None:
    await _set_webhook(fake_telegram, receiver.url)
    fake_telegram.send_text(fake_telegram.add_chat(Chat.private(ANNA)), ANNA, "hi")
    await asyncio.sleep(0.3)
    assert receiver.got == []
    assert len(fake_telegram.pending_updates) == 1


async def test_delivered_with_the_secret_retried_and_in_order_per_chat(
    fake_telegram: FakeTelegram, receiver: Receiver
) -> None:
    fake_telegram.deliver_webhooks = True
    anna = fake_telegram.add_chat(Chat.private(ANNA))
    early = fake_telegram.send_text(anna, ANNA, "before the webhook")  # queued, then sent
    await _set_webhook(fake_telegram, receiver.url)
    await fake_telegram.wait_for(lambda: not fake_telegram.pending_updates, timeout=5)
    receiver.fail_first = 2  # the next update is refused twice, then accepted
    first = fake_telegram.send_text(anna, ANNA, "one")
    second = fake_telegram.send_text(anna, ANNA, "two")
    await fake_telegram.wait_for(lambda: not fake_telegram.pending_updates, timeout=10)
    ids = [update_id for update_id, _ in receiver.got]
    assert ids == [early["update_id"], first["update_id"], first["update_id"],
                   first["update_id"], second["update_id"]]
    assert {secret for _, secret in receiver.got} == {"tok"}
    statuses = [a["status"] for a in fake_telegram.webhook_attempts]
    assert statuses == [200, 500, 500, 200, 200]
