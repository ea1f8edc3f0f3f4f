"""Real `python -m bot` processes (webhook mode, one Redis) and a sender SIGKILLed while
the campaign API holds its POST: the owner is told by the process that is left (or by the
restarted one, at start), /new works at once, and only an explicit resend posts again.

The test is the balancer: it posts each update to the replica it chooses.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import time
from collections.abc import Callable

import aiohttp
import pytest

from tests.dialog.flows import CREATE, CREATED, RESEND, SKIP, SUMMARY, TOMORROW
from tests.fakes.campaign_api import FakeCampaignApi
from tests.fakes.telegram_api import BotMessage, Chat, FakeTelegram, User
from tests.runtime.conftest import ANNA, BotProcess, assert_clean_log, wait_until

pytestmark = [pytest.mark.redis, pytest.mark.e2e]

STEP = 20.0  # seconds any one bot answer may take (bounded, generous for a loaded machine)
START = 40.0  # a cold start imports aiogram
REPORTED = 20.0  # the brief: the owner hears of the interrupted submission within this
SECRET = "replica-crash-secret"
HOLD = 120.0  # the campaign API holds the POST far longer than the test lasts
CONTINUE = "▶️ Продолжить"
RESTART = "🆕 Начать заново"
INTERRUPTED = "возможно, уже создан"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Replica:
    def __init__(self, process: BotProcess, port: int) -> None:
        self.process, self.port = process, port
        self.url = f"http://127.0.0.1:{port}"

    async def ready(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START
        async with aiohttp.ClientSession() as http:
            while True:
                try:
                    async with http.get(f"{self.url}/healthz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                assert loop.time() < deadline, "the replica did not start in time"
                await asyncio.sleep(0.1)

    async def post(self, update: dict) -> None:
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        timeout = aiohttp.ClientTimeout(total=STEP)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            async with http.post(f"{self.url}/webhook", json=update, headers=headers) as r:
                assert r.status == 200


async def start_replica(bot_process: Callable[..., object], host: str = "node-1") -> Replica:
    """One replica; replicas on different `host`s cannot see each other's processes, so a
    dead one is known only by its heartbeat running out."""
    port = _free_port()
    process = await bot_process(  # type: ignore[misc]
        HOSTNAME=host,
        WEBHOOK_URL="https://bot.example.test/webhook",
        WEBHOOK_SECRET=SECRET,
        WEBHOOK_HOST="127.0.0.1",
        WEBHOOK_PORT=str(port),
        CAMPAIGN_API_READ_TIMEOUT=str(HOLD),
    )
    replica = Replica(process, port)
    await replica.ready()
    return replica


class Owner:
    """Anna in the fake Telegram; each step goes to one replica and waits for its answer."""

    def __init__(self, fake: FakeTelegram, chat: Chat, user: User) -> None:
        self.fake, self.chat, self.user = fake, chat, user

    def _count(self) -> int:
        return len(self.fake.calls("sendMessage")) + len(self.fake.calls("editMessageText"))

    async def say(self, via: Replica, text: str) -> None:
        before = self._count()
        await via.post(self.fake.send_text(self.chat, self.user, text))
        await self.fake.wait_for(lambda: self._count() > before, timeout=STEP)

    async def press(self, via: Replica, label: str) -> None:
        message = self.with_button(label)
        before = self._count()
        data = message.button(label)["callback_data"]
        await via.post(self.fake.press_button(self.chat, self.user, message.message_id, data))
        await self.fake.wait_for(lambda: self._count() > before, timeout=STEP)

    def with_button(self, label: str) -> BotMessage:
        for message in reversed(self.fake.messages(self.chat.id)):
            if any(label in b.get("text", "") for b in message.buttons):
                return message
        raise LookupError(label)

    def texts(self) -> list[str]:
        return [m.text or "" for m in self.fake.messages(self.chat.id)]

    async def to_summary(self, via: Replica) -> None:
        await self.say(via, "/new")
        await self.say(via, "Долги ноябрь")
        await self.press(via, SKIP)
        await self.press(via, TOMORROW)
        await self.say(via, "9-18")
        await self.say(via, "3")
        await self.say(via, "15")
        await via.post(self.fake.send_text(self.chat, self.user, "+79161234567, 8 916 123-45-68"))
        await self.fake.wait_for_message(
            self.chat.id, lambda m: SUMMARY in (m.text or ""), timeout=STEP
        )

    async def create_and_die(self, via: Replica, api: FakeCampaignApi) -> float:
        """«Create»; SIGKILL the sender while the API holds its POST. Returns the kill time."""
        api.fail_next(delay=HOLD)
        await self.press(via, CREATE)
        await wait_until(lambda: api.campaign_requests, timeout=STEP)
        via.process.kill_group()
        assert await via.process.wait(5) == -signal.SIGKILL
        return time.monotonic()

    async def wait_interrupted(self, seconds: float) -> BotMessage:
        return await self.fake.wait_for_message(
            self.chat.id,
            lambda m: INTERRUPTED in (m.text or "") and SUMMARY in (m.text or ""),
            timeout=seconds,
        )


async def test_the_replica_left_reports_a_submission_cut_by_sigkill(
    bot_process: Callable[..., BotProcess],
    fake_telegram: FakeTelegram,
    campaign_api: FakeCampaignApi,
) -> None:
    a, b = await asyncio.gather(
        start_replica(bot_process, "node-a"), start_replica(bot_process, "node-b")
    )
    chat = fake_telegram.add_chat(Chat.private(ANNA))
    anna = Owner(fake_telegram, chat, ANNA)
    await anna.to_summary(a)
    killed = await anna.create_and_die(a, campaign_api)

    await anna.wait_interrupted(REPORTED)
    took = time.monotonic() - killed
    texts = anna.texts()
    # The progress message was the live summary: the report is on top of it, once.
    assert sum(INTERRUPTED in t for t in texts) == 1
    assert any("«Долги ноябрь» (номеров: 2, отправлен в" in t for t in texts)
    assert not any("уже создаётся" in t for t in texts)
    assert RESEND in {x["text"] for x in fake_telegram.last_message(chat.id).buttons}

    # /new at once: it asks about the draft instead of refusing; «Continue» is the summary
    # with «Send again», which posts exactly once more.
    await anna.say(b, "/new")
    assert "У вас есть черновик «Долги ноябрь»" in anna.texts()[-1]
    await anna.press(b, CONTINUE)
    assert SUMMARY in anna.texts()[-1]
    assert len(campaign_api.campaign_requests) == 1 and not campaign_api.created
    await anna.press(b, RESEND)
    await fake_telegram.wait_for(lambda: any(CREATED in t for t in anna.texts()), timeout=STEP)
    assert len(campaign_api.campaign_requests) == 2 and len(campaign_api.created) == 1
    log = b.process.output()
    assert log.count("interrupted submission dialog=") == 1
    assert_clean_log(log)
    print(f"\ninterrupted submission reported {took:.1f} s after SIGKILL")


async def test_a_restarted_process_reports_its_own_cut_submission_at_start(
    bot_process: Callable[..., BotProcess],
    fake_telegram: FakeTelegram,
    campaign_api: FakeCampaignApi,
) -> None:
    first = await start_replica(bot_process)
    chat = fake_telegram.add_chat(Chat.private(ANNA))
    anna = Owner(fake_telegram, chat, ANNA)
    await anna.to_summary(first)
    killed = await anna.create_and_die(first, campaign_api)

    again = await start_replica(bot_process)  # the same host, a new process
    await anna.wait_interrupted(REPORTED)
    took = time.monotonic() - killed
    await anna.say(again, "/new")
    assert "У вас есть черновик «Долги ноябрь»" in anna.texts()[-1]
    asked = len(anna.texts())
    await anna.press(again, RESTART)
    await fake_telegram.wait_for(
        lambda: any("Новый обзвон" in t for t in anna.texts()[asked:]), timeout=STEP
    )
    assert "Черновик «Долги ноябрь» удалён." in anna.texts()
    assert len(campaign_api.campaign_requests) == 1
    assert again.process.output().count("interrupted submission dialog=") == 1
    print(f"\nrestarted process reported {took:.1f} s after SIGKILL (start-up included)")
