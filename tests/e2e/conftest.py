"""The real bot process (`python -m bot`) against the fakes in this test's event loop.

The fake Telegram and the fake campaign API listen on 127.0.0.1; the bot is a child process
with its own event loop, aiohttp session, polling loop, file downloads and process pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.campaign_api import FakeCampaignApi
from tests.fakes.telegram_api import BotMessage, Chat, FakeTelegram, User

ROOT = Path(__file__).resolve().parents[2]
# Shaped like a real token, so that the log filter has to catch it.
TOKEN = "987654321:AAE_e2eFakeTokenThatMustNeverBeLogged_x"
ANNA = User(id=1001, first_name="Анна", username="anna")
BORIS = User(id=1002, first_name="Борис", username="boris")
START_TIMEOUT = 20.0
STEP_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0


@dataclass
class BotProcess:
    """A running `python -m bot`; `log` is its stdout+stderr once it has stopped."""

    process: asyncio.subprocess.Process
    log_path: Path
    env: dict[str, str]

    @property
    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    async def stop(self) -> int:
        """SIGTERM, then SIGKILL if it has not exited within STOP_TIMEOUT."""
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.process.kill()
                await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT)
        assert self.process.returncode is not None
        return self.process.returncode


@dataclass
class Supervisor:
    """One simulated user in one chat: acts like the Telegram client, waits like a human
    for the bot's answer (bounded)."""

    fake: FakeTelegram
    chat: Chat
    user: User
    last_question: BotMessage | None = None
    seen: list[BotMessage] = field(default_factory=list)

    def _mine(self, message: BotMessage) -> bool:
        # In a group, each question names the user it is addressed to.
        if not self.chat.is_group:
            return True
        text = _text(message)
        return self.user.first_name in text or f"@{self.user.username}" in text

    def _high_mark(self) -> int:
        messages = self.fake.messages(self.chat.id)
        return max((m.message_id for m in messages), default=0)

    async def _wait_new(
        self, mark: int, expect: Callable[[BotMessage], Any], timeout: float  # noqa: ASYNC109
    ) -> BotMessage:
        message = await self.fake.wait_for_message(
            self.chat.id,
            lambda m: m.message_id > mark and self._mine(m) and expect(m),
            timeout=timeout,
        )
        self.seen.append(message)
        if message.force_reply or message.buttons:
            self.last_question = message
        return message

    def _versions(self) -> dict[int, int]:
        return {m.message_id: len(m.history) for m in self.fake.messages(self.chat.id)}

    async def _wait_changed(
        self, before: dict[int, int], expect: Callable[[BotMessage], Any], timeout: float  # noqa: ASYNC109
    ) -> BotMessage:
        """A message sent or edited since `before` that matches `expect`."""
        message = await self.fake.wait_for_message(
            self.chat.id,
            lambda m: before.get(m.message_id, -1) != len(m.history) and expect(m),
            timeout=timeout,
        )
        self.seen.append(message)
        if message.force_reply or message.buttons:
            self.last_question = message
        return message

    async def say(
        self,
        text: str,
        expect: str | Callable[[BotMessage], Any],
        *,
        reply: bool | None = None,
        timeout: float = STEP_TIMEOUT,  # noqa: ASYNC109
    ) -> BotMessage:
        before = self._versions()
        update = self.fake.send_text(self.chat, self.user, text, reply_to=self._reply_to(reply))
        mark = update["message"]["message_id"]
        if not self.chat.is_group:
            # In a private chat a typed answer edits the wizard's live message (above it).
            return await self._wait_changed(before, _matcher(expect), timeout)
        return await self._wait_new(mark, _matcher(expect), timeout)

    async def upload(
        self,
        data: bytes,
        filename: str,
        expect: str | Callable[[BotMessage], Any],
        *,
        timeout: float = STEP_TIMEOUT,  # noqa: ASYNC109
    ) -> BotMessage:
        before = self._versions()
        update = self.fake.send_document(
            self.chat, self.user, data, filename, reply_to=self._reply_to(None)
        )
        if not self.chat.is_group:
            # A refused file: the live question above, edited, says why on top.
            return await self._wait_changed(before, _matcher(expect), timeout)
        mark = update["message"]["message_id"]
        return await self._wait_new(mark, _matcher(expect), timeout)

    async def press(
        self,
        button: str,
        expect: str | Callable[[BotMessage], Any],
        *,
        timeout: float = STEP_TIMEOUT,  # noqa: ASYNC109
        new: bool = True,
    ) -> BotMessage:
        """Press `button` on the newest of this user's messages that has it; wait for a
        message matching `expect`: a new one in a group (or any, edits included, with
        new=False); in a private chat the pressed message may itself become the answer."""
        target = self.message_with_button(button)
        mark = self._high_mark() if new and self.chat.is_group else 0
        self.fake.press_button(self.chat, self.user, target.message_id, target.callback_data(
            _label(target, button)))
        return await self._wait_new(mark, _matcher(expect), timeout)

    async def wait_text(
        self, expect: str | Callable[[BotMessage], Any], *, timeout: float = STEP_TIMEOUT  # noqa: ASYNC109
    ) -> BotMessage:
        """Any of this user's messages, new or edited, matching `expect`."""
        return await self._wait_new(0, _matcher(expect), timeout)

    def message_with_button(self, button: str) -> BotMessage:
        for message in reversed(self.fake.messages(self.chat.id)):
            if self._mine(message) and any(button in b.get("text", "") for b in message.buttons):
                return message
        raise LookupError(f"no message for {self.user.first_name} with a button {button!r}")

    def _reply_to(self, reply: bool | None) -> int | None:
        if reply is False or (reply is None and not self.chat.is_group):
            return None
        return self.last_question.message_id if self.last_question else None


def _text(message: BotMessage) -> str:
    return message.text or message.caption or ""


def _label(message: BotMessage, button: str) -> str:
    return next(b["text"] for b in message.buttons if button in b.get("text", ""))


def _matcher(expect: str | Callable[[BotMessage], Any]) -> Callable[[BotMessage], Any]:
    if callable(expect):
        return expect
    return lambda m: expect in _text(m)


def has_button(label: str) -> Callable[[BotMessage], bool]:
    return lambda m: any(label in b.get("text", "") for b in m.buttons)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    # aiogram takes the bot's id from the token: the fake must agree, or replies in a
    # group would not count as replies to the bot.
    telegram = FakeTelegram(token=TOKEN, bot_id=int(TOKEN.split(":", 1)[0]))
    await telegram.start()
    try:
        yield telegram
    finally:
        await telegram.stop()


@pytest.fixture
async def api() -> AsyncIterator[FakeCampaignApi]:
    async with FakeCampaignApi() as campaign_api:
        yield campaign_api


@pytest.fixture
async def start_bot(
    fake: FakeTelegram, api: FakeCampaignApi, tmp_path: Path
) -> AsyncIterator[Callable[..., Any]]:
    """start_bot(**env) -> BotProcess, polling the fake; every process is stopped after."""
    started: list[BotProcess] = []

    async def start(**overrides: str) -> BotProcess:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("CAMPAIGN_", "ALLOWED_", "REDIS_", "WEBHOOK_", "PRESETS_"))
        }
        env.update(
            PYTHONPATH=str(ROOT),
            PYTHONUNBUFFERED="1",
            BOT_TOKEN=fake.token,
            TELEGRAM_API_URL=fake.base_url,
            CAMPAIGN_API_URL=api.base_url,
            CAMPAIGN_PROJECT_ID="1",
            CAMPAIGN_START_BLOCK_ID="10",
            CAMPAIGN_PHONE_ID="5",
            ALLOWED_USER_IDS=f"{ANNA.id},{BORIS.id}",
            LOG_LEVEL="INFO",
            TIMEZONE="Asia/Yekaterinburg",
            CAMPAIGN_API_READ_TIMEOUT="1.5",
            CAMPAIGN_API_CONNECT_TIMEOUT="1",
            CAMPAIGN_API_CONNECT_RETRIES="1",
        )
        env.update(overrides)
        log_path = tmp_path / f"bot-{len(started)}.log"
        with log_path.open("wb") as log_file:
            # cwd is the test's own directory: no stray .env of the developer is read.
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                cwd=tmp_path,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log_file,
                stderr=asyncio.subprocess.STDOUT,
            )
        bot = BotProcess(process, log_path, env)
        started.append(bot)
        try:
            await fake.wait_polling(timeout=START_TIMEOUT)
        except TimeoutError:
            await bot.stop()
            raise AssertionError(f"the bot did not start polling:\n{bot.log[-3000:]}") from None
        return bot

    try:
        yield start
    finally:
        for bot in started:
            await bot.stop()
            # Shown by pytest when the test failed.
            print(f"--- {bot.log_path.name} ---\n{bot.log[-6000:]}")


def assert_clean_log(log: str, token: str, phones: list[str]) -> None:
    """No bot token and no full phone number, in any spelling, in the process log."""
    assert token not in log
    assert token.split(":", 1)[1] not in log
    for phone in phones:
        digits = "".join(ch for ch in phone if ch.isdigit())[-10:]
        # Also spelled with separators: 916 123-45-67, (916) 1234567, ...
        spread = r"\D{0,3}".join(digits)
        assert re.search(spread, log) is None, f"a phone number ending {digits[-2:]} was logged"
