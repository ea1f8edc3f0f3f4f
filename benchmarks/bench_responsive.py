"""Responsiveness: how long another user's text answer takes to be handled while three
20 MB contact lists are being read, through the real handler path (download from the fake
Telegram, `ingest_bytes_async` in the default process pool, report, draft store).

The baseline is the same users answering the same way with no list being read."""

from __future__ import annotations

import asyncio
import time

from benchmarks.common import SKIP, SUMMARY, TOMORROW, BenchBot, Row, percentile, time_ratio
from bot.phones import start_executor
from tests.fakes.campaign_api import FakeCampaignApi
from tests.fakes.telegram_api import Chat, FakeTelegram, User

MB = 1024 * 1024
TARGET_MS = 250.0
MAX_WALKS = 400  # per answering user: a bound on the loop, not a target


def big_csv(target_bytes: int, seed: int) -> bytes:
    """A contact list as exported by a CRM: phone, name, time; just under target_bytes."""
    lines = ["phone;name;time"]
    size = len(lines[0]) + 1
    i = 0
    while True:
        line = f"+7916{(seed * 3_000_000 + i) % 10_000_000:07d};Иванов Иван Иванович {i};10:00"
        size += len(line.encode()) + 1
        if size > target_bytes:
            break
        lines.append(line)
        i += 1
    return ("\n".join(lines) + "\n").encode()


async def _to_phones(bench: BenchBot, chat: Chat, user: User) -> None:
    fake = bench.fake
    for text in ("/new", f"Список {user.id}"):
        await bench.feed(fake.send_text(chat, user, text))
    for label in (SKIP, TOMORROW):
        await bench.feed(bench.press_update(chat, user, label))
    for text in ("9-18", "1"):
        await bench.feed(fake.send_text(chat, user, text))


async def _answer_loop(
    bench: BenchBot,
    chat: Chat,
    user: User,
    samples: list[float],
    running: asyncio.Event | None,
    walks: int,
) -> None:
    """Whole dialogs of typed answers, timed one by one; until the lists are read (or
    `walks` dialogs when there is nothing to wait for)."""
    fake = bench.fake
    for walk in range(MAX_WALKS):
        if running is None and walk >= walks:
            return
        if running is not None and not running.is_set():
            return
        await bench.feed(fake.send_text(chat, user, "/cancel"))
        samples.append(await bench.feed(fake.send_text(chat, user, "/new")))
        samples.append(await bench.feed(fake.send_text(chat, user, f"Обзвон {walk}")))
        await bench.feed(bench.press_update(chat, user, SKIP))
        await bench.feed(bench.press_update(chat, user, TOMORROW))
        for text in ("9-18", "3", "15", "+79161234567, 89161234568"):
            samples.append(await bench.feed(fake.send_text(chat, user, text)))


async def run_async(quick: bool = False) -> list[Row]:
    size = (2 if quick else 19.5) * MB
    n_answering = 3
    async with FakeCampaignApi() as api:
        fake = FakeTelegram()
        await fake.start()
        uploaders = [User(id=70_000 + i, first_name=f"Загрузка{i}") for i in range(3)]
        answering = [User(id=71_000 + i, first_name=f"Ответ{i}") for i in range(n_answering)]
        bench = BenchBot.create(fake, api, [u.id for u in uploaders + answering])
        # As bot.runner does at start: the worker processes (and the forkserver, whose
        # preload takes ~2 s) start off the event loop, before the first list.
        await asyncio.to_thread(start_executor)
        try:
            return await _measure(bench, uploaders, answering, int(size), quick)
        finally:
            await bench.close()
            await fake.stop()


async def _measure(
    bench: BenchBot, uploaders: list[User], answering: list[User], size: int, quick: bool
) -> list[Row]:
    fake = bench.fake
    up_chats = [fake.add_chat(Chat.private(u)) for u in uploaders]
    ans_chats = [fake.add_chat(Chat.private(u)) for u in answering]
    files = await asyncio.to_thread(lambda: [big_csv(size, i) for i in range(3)])

    # Baseline: nothing being read.
    idle: list[float] = []
    await asyncio.gather(
        *(_answer_loop(bench, c, u, [], None, 1) for c, u in zip(ans_chats, answering, strict=True))
    )  # warm-up
    await asyncio.gather(
        *(
            _answer_loop(bench, c, u, idle, None, 5 if quick else 20)
            for c, u in zip(ans_chats, answering, strict=True)
        )
    )

    for chat, user in zip(up_chats, uploaders, strict=True):
        await _to_phones(bench, chat, user)
    running = asyncio.Event()
    running.set()
    busy: list[float] = []
    upload_times: list[float] = []

    async def upload(chat: Chat, user: User, data: bytes, name: str) -> None:
        upload_times.append(await bench.feed(fake.send_document(chat, user, data, name)))

    uploads = asyncio.gather(
        *(
            upload(c, u, f, f"list{i}.csv")
            for i, (c, u, f) in enumerate(zip(up_chats, uploaders, files, strict=True))
        )
    )
    answers = asyncio.gather(
        *(
            _answer_loop(bench, c, u, busy, running, 0)
            for c, u in zip(ans_chats, answering, strict=True)
        )
    )
    started = time.perf_counter()
    try:
        await uploads
    finally:
        running.clear()
        await answers
    wall = time.perf_counter() - started

    read_ok = sum(SUMMARY in (fake.last_message(c.id).text or "") for c in up_chats)
    accepted = [t for c in up_chats for t in [fake.last_message(c.id).text or ""]]
    p99_busy = percentile(busy, 99) * 1000 if busy else None
    p99_idle = percentile(idle, 99) * 1000
    ratio = time_ratio(p99_busy, p99_idle)
    ok = p99_busy is not None and p99_busy < 250 and read_ok == len(up_chats)
    note = (
        f"{len(busy)} answers during {wall:.1f} s; lists read: {read_ok}/3 "
        f"({size / MB:.1f} MB each, slowest {max(upload_times):.1f} s)"
    )
    if read_ok < len(up_chats):
        note += "; a list failed: " + accepted[0][:80].replace("\n", " ")
    return [
        Row(
            "responsiveness: 3 lists being read",
            "p99 ms/answer",
            p99_busy,
            p99_idle,
            ratio,
            f"<{TARGET_MS:.0f} ms",
            ok,
            "ms",
            note,
        ),
        Row(
            "responsiveness: 3 lists being read",
            "p50 ms/answer",
            percentile(busy, 50) * 1000 if busy else None,
            percentile(idle, 50) * 1000,
            time_ratio(percentile(busy, 50) if busy else None, percentile(idle, 50)),
            "",
            None,
            "ms",
        ),
    ]


def run(quick: bool = False) -> list[Row]:
    return asyncio.run(run_async(quick))
