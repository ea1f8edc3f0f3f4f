"""Soak: two replicas in webhook mode behind a round-robin balancer, one Redis, N supervisors
creating campaigns back to back for T seconds, one replica SIGKILLed every K seconds and
started again.

    python -m benchmarks.soak [--replicas 2] [--users 30] [--seconds 120] [--kill-every 45]

Everything listens on 127.0.0.1: the fake Telegram (in this process) delivers updates to the
balancer as webhooks and retries until a 2xx, as Telegram does; the fake campaign API is in
this process too; the bots are `python -m bot` processes (their own process groups).
Printed: dialogs started / completed, drafts lost, duplicate POSTs, users blocked > 10 s,
updates redelivered after a crash, answer time p50 / p99.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import secrets
import signal
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
import redis.asyncio as aioredis
from aiohttp import web

from bot.i18n import create_i18n
from tests.fakes.campaign_api import FakeCampaignApi
from tests.fakes.telegram_api import BotMessage, Chat, FakeTelegram, User

ROOT = Path(__file__).resolve().parents[1]
SECRET = "soak-Webhook-secret"
BLOCKED_SECONDS = 10.0  # the product's promise: nobody waits longer after a crash
ATTEMPT_TIMEOUT = 25.0  # then the supervisor taps again, as a person would
MAX_AGAIN = 20  # "tap again" answers in a row before the step counts as unexpected
START_TIMEOUT = 60.0
CREATE = "✅ Создать"
SKIP = "Пропустить"
TOMORROW = "Завтра"
CREATED = "Обзвон №"
SUMMARY = "Проверьте обзвон"
DEBUG = bool(os.environ.get("SOAK_DEBUG"))


def _ru(msgid: str) -> str:
    return create_i18n("ru").gettext(msgid, locale="ru")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------- balancer


class Balancer:
    """Round robin over the replicas' webhook ports; a replica refusing the connection is
    skipped (nginx's proxy_next_upstream on connect errors); one dying mid-request gives
    502, and the fake Telegram redelivers."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self._next = itertools.cycle(range(len(ports)))
        self._http: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        # No keep-alive to the replicas (as nginx by default): a killed replica's port then
        # refuses the connection and the next replica is tried, instead of a stale one.
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=70),
                                           connector=aiohttp.TCPConnector(force_close=True))
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._proxy)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        port = free_port()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}/webhook"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._http is not None:
            await self._http.close()

    async def _proxy(self, request: web.Request) -> web.Response:
        assert self._http is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items()
                   if k.lower() in ("content-type", "x-telegram-bot-api-secret-token")}
        first = next(self._next)  # each replica once per request, from the next in turn
        for i in range(len(self.ports)):
            port = self.ports[(first + i) % len(self.ports)]
            try:
                async with self._http.post(f"http://127.0.0.1:{port}{request.path}",
                                           data=body, headers=headers) as upstream:
                    return web.Response(status=upstream.status, body=await upstream.read(),
                                        content_type=upstream.content_type)
            except aiohttp.ClientConnectorError as error:
                if DEBUG:
                    print(f"balancer: {port}: {error!r}"[:200], file=sys.stderr)
                continue  # not listening (dead or still starting): the next one
            except (aiohttp.ClientError, TimeoutError):
                return web.Response(status=502)  # died with the update in its hands
        return web.Response(status=503)  # no replica listening


# ---------------------------------------------------------------- replicas


class Replica:
    def __init__(self, index: int, env: dict[str, str], log_dir: Path) -> None:
        self.index = index
        self.port = free_port()
        self.env = {**env, "WEBHOOK_PORT": str(self.port)}
        self.log_path = log_dir / f"replica-{index}.log"
        self.proc: asyncio.subprocess.Process | None = None
        self.kills = 0

    async def start(self) -> None:
        with self.log_path.open("ab") as out:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", env=self.env, cwd=self.log_path.parent,
                stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )

    async def wait_healthy(self, timeout: float = START_TIMEOUT) -> None:  # noqa: ASYNC109
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
            while loop.time() < deadline:
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with http.get(f"http://127.0.0.1:{self.port}/healthz") as response:
                        if response.status == 200:
                            return
                if self.proc is not None and self.proc.returncode is not None:
                    raise RuntimeError(f"replica {self.index} exited, see {self.log_path}")
                await asyncio.sleep(0.1)
        raise TimeoutError(f"replica {self.index} not healthy in {timeout} s")

    async def kill(self) -> None:
        """SIGKILL the whole group, as when a container is killed."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.proc.wait(), 10)
        self.kills += 1


# ---------------------------------------------------------------- supervisors


@dataclass
class Stats:
    started: int = 0
    completed: int = 0
    lost: int = 0
    unexpected: int = 0
    interrupted: int = 0  # POSTs cut by a kill, reported to their owner
    unreported: int = 0  # ... never reported: the owner was left waiting
    report_delays: list[float] = field(default_factory=list)  # press -> report, s
    refused_new: int = 0  # /new answered "being created, wait" instead of a draft
    retaps: int = 0
    answer_times: list[float] = field(default_factory=list)
    blocked_users: set[int] = field(default_factory=set)
    longest_wait: float = 0.0


def _snapshot(fake: FakeTelegram, chat_id: int) -> dict[int, int]:
    return {m.message_id: len(m.history) for m in fake.messages(chat_id, include_deleted=True)}


def _changed(fake: FakeTelegram, chat_id: int, before: dict[int, int]) -> list[BotMessage]:
    return [m for m in fake.messages(chat_id, include_deleted=True)
            if before.get(m.message_id, -1) != len(m.history)]


def _text(message: BotMessage) -> str:
    return message.text or message.caption or ""


def _has_button(label: str) -> Callable[[BotMessage], bool]:
    return lambda m: any(label in b.get("text", "") for b in m.buttons)


def _contains(marker: str) -> Callable[[BotMessage], bool]:
    return lambda m: marker in _text(m)


class Supervisor:
    def __init__(self, fake: FakeTelegram, user: User, stats: Stats, texts: dict[str, Any]):
        self.fake, self.user, self.stats, self.texts = fake, user, stats, texts
        self.chat = fake.add_chat(Chat.private(user))
        self.dialogs = itertools.count(1)
        self.sidelined = False

    def _send(self, kind: str, value: str) -> dict:
        if kind == "text":
            return self.fake.send_text(self.chat, self.user, value)
        for message in reversed(self.fake.messages(self.chat.id)):
            for button in message.buttons:
                if value in button.get("text", ""):
                    return self.fake.press_button(self.chat, self.user, message.message_id,
                                                  button["callback_data"])
        raise LookupError(value)

    async def step(self, kind: str, value: str, expect: Callable[[BotMessage], bool]) -> str:
        """One answer, tapped again while the bot asks for that (busy, unavailable) or says
        nothing for ATTEMPT_TIMEOUT; 'ok', 'lost' (the bot no longer knows the draft) or
        'unexpected'. The answer time runs from the update to the expected message."""
        loop = asyncio.get_running_loop()
        agains = 0
        while True:
            before = _snapshot(self.fake, self.chat.id)
            try:
                update = self._send(kind, value)
            except LookupError:  # the button is gone: the bot showed something else
                return "unexpected"
            sent = loop.time()
            verdict = partial(self._verdict, before, expect, update)
            try:
                outcome = await self.fake.wait_for(verdict, timeout=ATTEMPT_TIMEOUT)
            except TimeoutError:
                self.stats.blocked_users.add(self.user.id)
                self.stats.longest_wait = max(self.stats.longest_wait, ATTEMPT_TIMEOUT)
                self.stats.retaps += 1
                changed = _changed(self.fake, self.chat.id, before)
                if any(self.texts["creating"] in _text(m) for m in changed):
                    return "unreported"  # the POST's replica died and nobody said so
                if changed:
                    if DEBUG:
                        texts = [_text(m)[:80] for m in _changed(self.fake, self.chat.id, before)]
                        print(f"unexpected after {value!r}: {texts!r}", file=sys.stderr)
                    return "unexpected"
                continue
            waited = loop.time() - sent
            if outcome == "interrupted":
                # Not an answer time: the sender died; this is how long the owner waited
                # to hear that the campaign may exist.
                self.stats.report_delays.append(waited)
                return outcome
            if outcome == "refused":
                self.stats.refused_new += 1
                outcome = "again"
            self.stats.answer_times.append(waited)
            self.stats.longest_wait = max(self.stats.longest_wait, waited)
            if waited > BLOCKED_SECONDS:
                self.stats.blocked_users.add(self.user.id)
                if DEBUG:
                    attempts = [(a["status"], round(a["time"] - self.fake.now() + waited, 2))
                                for a in self.fake.webhook_attempts
                                if a["update_id"] == update["update_id"]]
                    print(f"waited {waited:.1f} s for {value!r}: {attempts}", file=sys.stderr)
            if outcome == "again":
                self.stats.retaps += 1
                agains += 1
                if agains > MAX_AGAIN:
                    return "unexpected"
                await asyncio.sleep(0.5)
                continue
            return outcome

    def _verdict(self, before: dict[int, int], expect: Callable[[BotMessage], bool],
                 update: dict) -> str:
        """'' while the expected answer is not there (an edit of the previous question may
        come first); else 'ok', 'again' or 'lost'."""
        changed = _changed(self.fake, self.chat.id, before)
        if any(expect(m) for m in changed):
            return "ok"
        texts = " ".join(_text(m) for m in changed)
        if "callback_query" in update:
            # A toast is an answer too: "busy", "unavailable", or "already answered" (the
            # question was asked again after a crash): a person taps the newest one again.
            answer = self.fake.callback_answer(update["callback_query"]["id"]) or {}
            toast = answer.get("text") or ""
            if toast and toast not in self.texts["progress_toasts"]:
                return "again"
        if self.texts["busy"] in texts or self.texts["down"] in texts:
            return "again"
        if self.texts["no_draft"] in texts:
            return "lost"
        if self.texts["interrupted"] in texts and any(
            _has_button(self.texts["resend"])(m) for m in changed
        ):
            return "interrupted"  # a POST cut by a kill, reported (in full) by a replica
        if self.texts["in_flight"] in texts:
            return "refused"  # /new dead-ended by an in-flight mark
        return ""

    async def dialog(self) -> None:
        name = f"Soak {self.user.id}-{next(self.dialogs)}"
        # /new after an interrupted submission asks about that draft: start over.
        resume = self.texts["resume"]
        opened = await self.step(
            "text", "/new", lambda m: self.texts["name_q"] in _text(m) or resume in _text(m)
        )
        if opened == "ok" and resume in _text(self.fake.last_message(self.chat.id)):
            opened = await self.step("press", self.texts["restart"],
                                     _contains(self.texts["name_q"]))
        if opened != "ok":
            if DEBUG:
                recent = [_text(m)[:70] for m in self.fake.messages(self.chat.id)[-4:]]
                print(f"/new gave {opened!r}: {recent!r}", file=sys.stderr)
            self.stats.started += 1
            self.stats.unexpected += opened != "lost"
            self.stats.lost += opened == "lost"
            return
        steps: list[tuple[str, str, Callable[[BotMessage], bool]]] = [
            ("text", name, _has_button(SKIP)),
            ("press", SKIP, _has_button(TOMORROW)),
            ("press", TOMORROW, _contains(self.texts["window_q"])),
            ("text", "9-18", _contains(self.texts["attempts_q"])),
            ("text", "3", _contains(self.texts["interval_q"])),
            ("text", "15", _contains(self.texts["phones_q"])),
            ("text", "+79161234567, 8 916 123-45-68", _contains(SUMMARY)),
            ("press", CREATE, _contains(CREATED)),
        ]
        self.stats.started += 1
        for kind, value, expect in steps:
            outcome = await self.step(kind, value, expect)
            if outcome == "lost":
                if DEBUG:
                    recent = [_text(m)[:70] for m in self.fake.messages(self.chat.id)[-4:]]
                    print(f"lost after {value!r}: {recent!r}", file=sys.stderr)
                self.stats.lost += 1
                return
            if outcome == "unexpected":
                self.stats.unexpected += 1
                return
            if outcome == "interrupted":
                # Told the campaign may exist: a person checks, then starts the next one.
                self.stats.interrupted += 1
                return
            if outcome == "unreported":
                self.stats.unreported += 1
                self.sidelined = True
                return
        self.stats.completed += 1

    async def run(self, until: float) -> None:
        loop = asyncio.get_running_loop()
        while loop.time() < until and not self.sidelined:
            await self.dialog()


# ---------------------------------------------------------------- the run


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1]


async def soak(
    *, replicas: int = 2, users: int = 30, seconds: float = 120.0, kill_every: float = 45.0,
    redis_url: str = "redis://127.0.0.1:6379/0", log_dir: Path | None = None,
) -> dict[str, Any]:
    log_dir = log_dir or Path(tempfile.mkdtemp(prefix="soak-"))
    prefix = f"soak-{secrets.token_hex(4)}"
    fake = FakeTelegram()
    fake.deliver_webhooks = True
    api = FakeCampaignApi()
    await fake.start()
    await api.start()
    supervisors_users = [User(id=10_000 + i, first_name=f"Супервизор{i}") for i in range(users)]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(log_dir),
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        "LANG": "C.UTF-8",
        "BOT_TOKEN": fake.token,
        "TELEGRAM_API_URL": fake.base_url,
        "CAMPAIGN_API_URL": api.base_url,
        "CAMPAIGN_PROJECT_ID": "1",
        "CAMPAIGN_START_BLOCK_ID": "10",
        "CAMPAIGN_PHONE_ID": "5",
        "CAMPAIGN_API_READ_TIMEOUT": "10",
        "ALLOWED_USER_IDS": ",".join(str(u.id) for u in supervisors_users),
        "TIMEZONE": "Asia/Yekaterinburg",
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": prefix,
        "LOG_LEVEL": "WARNING",
        "WEBHOOK_URL": "https://soak.example.test/webhook",
        "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_HOST": "127.0.0.1",
    }
    bots = [Replica(i, env, log_dir) for i in range(replicas)]
    balancer = Balancer([r.port for r in bots])
    stats = Stats()
    texts = {
        "busy": _ru("One moment, please tap again"),
        "down": _ru("Service temporarily unavailable, try again in a minute"),
        "no_draft": _ru("To create a campaign send /new. /help — how it works"),
        "creating": _ru("⏳ Creating the campaign…"),
        "progress_toasts": (_ru("Creating…"),),
        "in_flight": _ru("The campaign is being created right now. Wait for the answer."),
        # The fixed head of the interrupted-submission report (before the name).
        "interrupted": _ru(
            "The bot restarted while creating the campaign «{name}» (numbers: {count}, sent "
            "at {time}). It may have been created: check the list of campaigns before "
            "sending again."
        ).split("«")[0],
        "resume": _ru("You have a draft «{name}»: continue or start over?").split("«")[0],
        "restart": _ru("🆕 Start over"),
        "resend": _ru("⚠️ Send again"),
        "name_q": _ru("What shall we call the campaign?"),
        "window_q": _ru("Calling hours? Time zone: {zone}. E.g. 9-18").split("{")[0],
        "attempts_q": _ru("How many dial attempts per number?"),
        "interval_q": _ru("Minutes between attempts?"),
        "phones_q": _ru("Send the list: Excel, CSV, TXT or numbers as text. I find the phone "
                        "column myself; the other columns go to the scenario."),
    }
    killer: asyncio.Task[None] | None = None
    try:
        await balancer.start()
        fake.webhook_target = balancer.url
        for bot in bots:
            await bot.start()
        await asyncio.gather(*(bot.wait_healthy() for bot in bots))
        await fake.wait_for(lambda: fake.webhook_url, timeout=START_TIMEOUT)
        loop = asyncio.get_running_loop()
        began = loop.time()
        until = began + seconds

        async def kill_loop() -> None:
            for victim in itertools.cycle(bots):
                await asyncio.sleep(kill_every)
                if loop.time() >= until:
                    return
                await victim.kill()
                await victim.start()  # restarted at once, as an orchestrator would
                # One replica down at a time (the scenario): the next kill waits.
                with contextlib.suppress(TimeoutError, RuntimeError):
                    await victim.wait_healthy()

        killer = asyncio.create_task(kill_loop())
        people = [Supervisor(fake, user, stats, texts) for user in supervisors_users]
        # A dialog started before the end runs to its end (bounded by its step timeouts).
        await asyncio.wait_for(asyncio.gather(*(p.run(until) for p in people)),
                               seconds + 20 * ATTEMPT_TIMEOUT)
        elapsed = loop.time() - began
    finally:
        if killer is not None:
            killer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await killer
        for bot in bots:
            await bot.kill()
        await balancer.stop()
        await fake.stop()
        await api.stop()
        client = aioredis.Redis.from_url(redis_url)
        try:
            keys = [k async for k in client.scan_iter(match=f"{prefix}:*", count=1000)]
            for i in range(0, len(keys), 500):
                await client.delete(*keys[i:i + 500])
        finally:
            await client.aclose()

    names = [((r.json or {}).get("campaign") or {}).get("name") for r in api.campaign_requests]
    duplicates = sum(count - 1 for count in _counts(names).values() if count > 1)
    # Updates a replica had taken when it was killed: aiogram's default (200 before the
    # handler runs) would have lost each; answered after handling, they are redelivered.
    in_flight = {a["update_id"] for a in fake.webhook_attempts if a["status"] == 502}
    failed_ids = {a["update_id"] for a in fake.webhook_attempts
                  if not (isinstance(a["status"], int) and a["status"] < 300)}
    if DEBUG:
        print("webhook attempt statuses:",
              _counts([str(a["status"]) for a in fake.webhook_attempts]), file=sys.stderr)
    return {
        "replicas": replicas,
        "supervisors": users,
        "seconds": round(elapsed, 1),
        "kills": sum(b.kills for b in bots) - len(bots),  # the final teardown kills excluded
        "dialogs started": stats.started,
        "dialogs completed": stats.completed,
        "drafts lost": stats.lost,
        "unexpected answers": stats.unexpected,
        "submissions cut by a kill, reported": stats.interrupted,
        "submissions cut by a kill, never reported": stats.unreported,
        "longest wait for that report, s": round(max(stats.report_delays, default=0.0), 1),
        "/new refused (in flight)": stats.refused_new,
        "duplicate POSTs": duplicates,
        "campaigns created": len(api.campaign_requests),
        "users blocked > 10 s": len(stats.blocked_users),
        "longest wait, s": round(stats.longest_wait, 2),
        "re-taps (busy/timeout)": stats.retaps,
        "updates in flight at a kill": len(in_flight),
        "updates redelivered": len(failed_ids),
        "answers": len(stats.answer_times),
        "answer p50, ms": round(_quantile(stats.answer_times, 0.50) * 1000, 1),
        "answer p99, ms": round(_quantile(stats.answer_times, 0.99) * 1000, 1),
        "logs": str(log_dir),
    }


def _counts(values: list[Any]) -> dict[Any, int]:
    counts: dict[Any, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


def format_table(result: dict[str, Any]) -> str:
    width = max(len(k) for k in result)
    lines = [f"| {'metric'.ljust(width)} | value |", f"|{'-' * (width + 2)}|-------|"]
    lines += [f"| {k.ljust(width)} | {v} |" for k, v in result.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--kill-every", type=float, default=45.0)
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL",
                                                              "redis://127.0.0.1:6379/0"))
    args = parser.parse_args(argv)
    started = time.monotonic()
    result = asyncio.run(soak(replicas=args.replicas, users=args.users, seconds=args.seconds,
                              kill_every=args.kill_every, redis_url=args.redis_url))
    print(format_table(result))
    print(f"(wall time {time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
