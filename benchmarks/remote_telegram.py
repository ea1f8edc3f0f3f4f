"""The fake Telegram Bot API in a process of its own, driven over its HTTP control API.

Real Telegram is remote: its work is not paid for by the bot's process. Run in the bot's
own event loop, the fake would charge the bot both ends of every Bot API call, so a
handler making two calls per update would look worse than it is beside one making one.
`RemoteTelegram` starts `python -m tests.fakes.telegram_api --port 0` on 127.0.0.1,
reads the bound URL from its first lines and talks to `/_fake/...` with its own aiohttp
session (never the bot's). The child is killed on `stop()`, whatever happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from pathlib import Path
from typing import Any

import aiohttp

from tests.fakes.telegram_api import BotMessage, Chat, User

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 30.0
CONTROL_TIMEOUT = 60.0


class RemoteTelegram:
    """`token` and `base_url` as `FakeTelegram` has them (enough for `make_settings`), and
    async control calls: `send_text`, `press`, `messages`."""

    def __init__(self, token: str = "123456:TEST") -> None:
        self.token = token
        self.base_url = ""
        self._process: asyncio.subprocess.Process | None = None
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.fakes.telegram_api",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--token",
            self.token,
            cwd=ROOT,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            self.base_url = await asyncio.wait_for(self._read_url(), START_TIMEOUT)
        except BaseException:
            await self.stop()
            raise
        if not self.base_url.startswith("http://127.0.0.1:"):
            await self.stop()
            raise RuntimeError(f"the fake Telegram bound {self.base_url!r}, not 127.0.0.1")
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=100),
            timeout=aiohttp.ClientTimeout(total=CONTROL_TIMEOUT),
        )

    async def _read_url(self) -> str:
        assert self._process is not None and self._process.stdout is not None
        while True:
            line = await self._process.stdout.readline()
            if not line:
                raise RuntimeError("the fake Telegram exited before printing its URL")
            key, _, value = line.decode().strip().partition("=")
            if key == "TELEGRAM_API_URL":
                return value

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        process, self._process = self._process, None
        if process is None:
            return
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(process.wait(), 10)

    async def __aenter__(self) -> RemoteTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ control

    async def _call(self, action: str, body: dict | None = None, **query: Any) -> Any:
        if self._session is None:
            raise RuntimeError("RemoteTelegram is not started")
        url = f"{self.base_url}/_fake/{action}"
        params = {k: str(v) for k, v in query.items()}
        if body is None:
            request = self._session.get(url, params=params)
        else:
            request = self._session.post(url, params=params, json=body)
        async with request as response:
            data = await response.json()
        if not data.get("ok"):
            raise RuntimeError(f"/_fake/{action}: {data.get('error') or data}")
        return data["result"]

    async def send_text(self, chat: Chat, user: User, text: str) -> dict:
        """The update the fake queued for the bot (nothing polls the queue here)."""
        return await self._call(
            "send_text", {"chat": chat.to_dict(), "user": user.to_dict(), "text": text}
        )

    async def press(self, chat: Chat, user: User, message_id: int, data: str) -> dict:
        return await self._call(
            "press",
            {
                "chat": chat.to_dict(),
                "user": user.to_dict(),
                "message_id": message_id,
                "data": data,
            },
        )

    async def messages(self, chat_id: int) -> list[BotMessage]:
        """What the bot sent to the chat, oldest first (without the `file` of documents)."""
        known = {f for f in BotMessage.__dataclass_fields__ if f != "file"}
        raw = await self._call("messages", chat_id=chat_id)
        return [BotMessage(**{k: v for k, v in m.items() if k in known}) for m in raw]

    async def request_count(self) -> int:
        """Bot API calls the fake has answered so far (control calls are not counted)."""
        return len(await self._call("requests"))

    def cpu_seconds(self) -> float | None:
        """CPU time (user + system) the fake's process has used so far; None off Linux."""
        if self._process is None:
            return None
        try:
            stat = Path(f"/proc/{self._process.pid}/stat").read_text()
            fields = stat.rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return None

    async def press_label(self, chat: Chat, user: User, label: str) -> dict:
        """Press the button containing `label` on the newest bot message that has one."""
        for message in reversed(await self.messages(chat.id)):
            if any(label in b.get("text", "") for b in message.buttons):
                return await self.press(
                    chat, user, message.message_id, message.callback_data(label)
                )
        raise LookupError(f"no bot message in chat {chat.id} has a button {label!r}")
