"""Dialog throughput: many users completing whole dialogs at once through the real
dispatcher (memory and Redis storage), beside a bare aiogram dispatcher with one echo
handler answering as many updates, fed the same way, through the same Bot session."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable

from aiogram import Bot, Dispatcher, Router
from aiogram.types import Message

from benchmarks.common import (
    CREATE,
    SKIP,
    SUMMARY,
    TOMORROW,
    BenchBot,
    Row,
    make_settings,
    percentile,
    rate_ratio,
    redis_available,
    time_ratio,
)
from bot.telegram import create_bot
from tests.fakes.campaign_api import FakeCampaignApi
from tests.fakes.telegram_api import Chat, FakeTelegram, User

UPDATES_PER_DIALOG = 9
FIRST_USER = 50_000


async def walk(bench: BenchBot, chat: Chat, user: User, samples: list[float]) -> None:
    """One whole dialog: /new, name, skip, tomorrow, 9-18, 3, 15, numbers, Create."""
    fake = bench.fake

    async def say(text: str) -> None:
        samples.append(await bench.feed(fake.send_text(chat, user, text)))

    async def press(label: str) -> None:
        samples.append(await bench.feed(bench.press_update(chat, user, label)))

    await say("/new")
    await say(f"Обзвон {user.id}")
    await press(SKIP)
    await press(TOMORROW)
    await say("9-18")
    await say("3")
    await say("15")
    await say("+79161234567, 8 916 123-45-68")
    last = fake.last_message(chat.id)
    if last is None or SUMMARY not in (last.text or ""):
        raise RuntimeError(f"user {user.id} did not reach the summary")
    await press(CREATE)


def echo_dispatcher() -> Dispatcher:
    router = Router()

    @router.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "?")

    dp = Dispatcher()
    dp.include_router(router)
    return dp


async def _run_users(
    users: list[User],
    run: Callable[[Chat, User, list[float]], Awaitable[None]],
    fake: FakeTelegram,
) -> tuple[list[float], float]:
    samples: list[float] = []
    chats = [fake.add_chat(Chat.private(u)) for u in users]
    started = time.perf_counter()
    await asyncio.gather(*(run(c, u, samples) for c, u in zip(chats, users, strict=True)))
    return samples, time.perf_counter() - started


async def run_async(quick: bool = False) -> list[Row]:
    n_users = 20 if quick else 200
    rows: list[Row] = []
    async with FakeCampaignApi() as api:
        fake = FakeTelegram()
        await fake.start()
        try:
            rows += await _measure(fake, api, n_users)
        finally:
            await fake.stop()
    return rows


async def _measure(fake: FakeTelegram, api: FakeCampaignApi, n_users: int) -> list[Row]:
    rows: list[Row] = []
    base_ids = iter(range(FIRST_USER, FIRST_USER + 10 * n_users))

    def next_users() -> list[User]:
        return [User(id=next(base_ids), first_name=f"U{i}") for i in range(n_users)]

    # The bare baseline: one echo handler, the same Bot (session, middlewares), the same
    # number of updates per user, users in parallel, each user's updates one after another.
    bot = create_bot(make_settings(fake, api, []))
    echo = echo_dispatcher()

    async def echo_user(chat: Chat, user: User, samples: list[float]) -> None:
        for i in range(UPDATES_PER_DIALOG):
            update = fake.send_text(chat, user, f"ответ {i}")
            started = time.perf_counter()
            await echo.feed_raw_update(bot, update)
            samples.append(time.perf_counter() - started)

    await _run_users(next_users(), echo_user, fake)  # warm-up (connections, imports)
    base_samples, base_wall = await _run_users(next_users(), echo_user, fake)
    base_rate = len(base_samples) / base_wall
    base_p50 = percentile(base_samples, 50) * 1000
    base_p99 = percentile(base_samples, 99) * 1000
    rows.append(
        Row(
            "dialog: bare echo dispatcher",
            "updates/s",
            base_rate,
            unit="1/s",
            note=f"{n_users} users x {UPDATES_PER_DIALOG} updates",
        )
    )

    storages = ["memory"]
    if await redis_available():
        storages.append("redis")
    for storage in storages:
        case = f"dialog: full wizard, {storage}"
        try:
            rows += await _dialogs(
                fake,
                api,
                bot,
                storage,
                next_users(),
                next_users()[:5],
                base_rate,
                base_p50,
                base_p99,
                case,
            )
        except Exception as error:
            rows.append(
                Row(
                    case,
                    "failed",
                    None,
                    base_rate,
                    None,
                    "≤2x",
                    False,
                    note=f"{n_users} users at once: {type(error).__name__}: {error}",
                )
            )
    await bot.session.close()
    return rows


async def _dialogs(
    fake: FakeTelegram,
    api: FakeCampaignApi,
    bot: Bot,
    storage: str,
    users: list[User],
    warm: list[User],
    base_rate: float,
    base_p50: float,
    base_p99: float,
    case: str,
) -> list[Row]:
    n_users = len(users)
    bench = BenchBot.create(fake, api, [u.id for u in users + warm], storage=storage, bot=bot)
    try:
        created_before = len(api.created)
        await _run_users(warm, functools.partial(walk, bench), fake)
        samples, wall = await _run_users(users, functools.partial(walk, bench), fake)
        await bench.deps.tasks.wait(60)
        created = len(api.created) - created_before - len(warm)
    finally:
        await bench.close(close_session=False)
    rate = len(samples) / wall
    p50 = percentile(samples, 50) * 1000
    p99 = percentile(samples, 99) * 1000
    note = f"{n_users} users at once, {created}/{n_users} campaigns created"
    rate_r = rate_ratio(rate, base_rate)
    p50_r = time_ratio(p50, base_p50)
    return [
        Row(
            case,
            "updates/s",
            rate,
            base_rate,
            rate_r,
            "≤2x",
            rate_r is not None and rate_r <= 2 and created == n_users,
            "1/s",
            note,
        ),
        Row(
            case,
            "p50 ms/update",
            p50,
            base_p50,
            p50_r,
            "≤2x",
            p50_r is not None and p50_r <= 2,
            "ms",
        ),
        Row(case, "p99 ms/update", p99, base_p99, time_ratio(p99, base_p99), "", None, "ms"),
    ]


def run(quick: bool = False) -> list[Row]:
    return asyncio.run(run_async(quick))
