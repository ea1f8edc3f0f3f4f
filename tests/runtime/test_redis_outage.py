"""Redis going away mid-dialog: a redis-server of this test's own is stopped and started
again. Meanwhile the bot says the service is unavailable; afterwards the draft is still
there and the dialog goes on by itself."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from redis.asyncio import Redis

from tests.dialog.conftest import BotUnderTest
from tests.dialog.flows import SKIP, SUMMARY, TOMORROW
from tests.fakes.telegram_api import Chat
from tests.runtime.conftest import ANNA
from tests.runtime.resilience import REDIS_DOWN_MSGID, ru

pytestmark = pytest.mark.redis

REDIS_SERVER = shutil.which("redis-server")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OwnRedis:
    """redis-server on 127.0.0.1:<free port>, AOF in a temporary directory, so a restart
    comes back with the same data (as the compose file's Redis does)."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        assert REDIS_SERVER is not None
        self.proc = await asyncio.create_subprocess_exec(
            REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
            "--dir", str(self.dir), "--appendonly", "yes", "--appendfsync", "always",
            "--save", "", stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )
        client = Redis.from_url(self.url, socket_connect_timeout=1)
        try:
            for _ in range(100):
                with contextlib.suppress(Exception):
                    if await client.ping():
                        return
                await asyncio.sleep(0.05)
            raise TimeoutError("redis-server did not start")
        finally:
            await client.aclose()

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            await asyncio.wait_for(self.proc.wait(), 10)


@pytest.fixture
async def own_redis(tmp_path: Path) -> AsyncIterator[OwnRedis]:
    if REDIS_SERVER is None:
        pytest.skip("no redis-server binary")
    server = OwnRedis(tmp_path)
    await server.start()
    try:
        yield server
    finally:
        if server.proc is not None and server.proc.returncode is None:
            server.proc.kill()
            await server.proc.wait()


@pytest.fixture
def redis_url(own_redis: OwnRedis) -> str:
    """make_bot_under_test (redis kind) on this test's own server."""
    return own_redis.url


@pytest.fixture
def storage_kind() -> str:
    return "redis"


async def test_redis_restart_mid_dialog_keeps_the_draft_and_the_dialog_goes_on(
    own_redis: OwnRedis, make_bot_under_test: Callable[..., BotUnderTest]
) -> None:
    # own_redis first: make_bot_under_test looks redis_url up, which needs it running.
    app = make_bot_under_test()
    chat = app.fake.add_chat(Chat.private(ANNA))
    assert await app.say(chat, ANNA, "/new", reply=False)
    assert await app.say(chat, ANNA, "Долги ноябрь")
    skip = app.message_with_button(chat, SKIP)

    await own_redis.stop()
    tap = app.fake.press_button(chat, ANNA, skip.message_id, skip.button(SKIP)["callback_data"])
    await asyncio.wait_for(app.deliver(tap), 60)  # no exception out of the dispatcher
    answer = app.fake.callback_answer(tap["callback_query"]["id"])
    assert answer is not None and answer.get("text") == ru(REDIS_DOWN_MSGID)
    await asyncio.wait_for(app.say(chat, ANNA, "описание"), 60)
    assert app.last_text(chat) == ru(REDIS_DOWN_MSGID)

    await own_redis.start()  # same port, same data directory
    # The same tap again: redis-py reconnects by itself, the draft is where it was.
    assert await asyncio.wait_for(app.press(chat, ANNA, SKIP, message=skip), 30)
    assert app.message_with_button(chat, TOMORROW)
    assert await app.press(chat, ANNA, TOMORROW)
    assert await app.say(chat, ANNA, "9-18")
    assert await app.say(chat, ANNA, "3")
    assert await app.say(chat, ANNA, "15")
    assert await app.say(chat, ANNA, "+79161234567, 8 916 123-45-68")
    summary = app.last_text(chat)
    assert SUMMARY in summary and "Долги ноябрь" in summary  # the name from before
