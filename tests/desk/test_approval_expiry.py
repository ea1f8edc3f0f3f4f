"""An approval request nobody decided: its group card turns «expired» without a press
(the sweep on a virtual clock, memory and Redis), once; a draft still holding the request
loses it and its author is told; a decided or withdrawn request is never called expired;
the periodic task turns a card by itself (bounded)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from aiogram.fsm.storage.base import StorageKey

from bot.dialog.approval_expiry import ApprovalExpiry
from bot.i18n import create_i18n
from tests.desk.test_desk_flow import (
    GROUP_ID,
    approval_presets,
    desk,  # noqa: F401  (the fixture)
    fill_in_private,
    new_in_group,
)
from tests.dialog.conftest import ANNA, BORIS, BotUnderTest
from tests.fakes.telegram_api import BotMessage, Chat

SEND = "📨 Отправить на согласование"
APPROVE = "✅ Одобрить"
EXPIRED = "⌛ Срок согласования истёк"


def expiry(app: BotUnderTest, at: list[float]) -> ApprovalExpiry:
    return ApprovalExpiry(app.bot, app.deps, app.backend.storage,
                          create_i18n(app.settings.default_locale), clock=lambda: at[0])


async def requested(app: BotUnderTest) -> tuple[Chat, Chat, BotMessage]:
    group = app.fake.add_chat(Chat.group(GROUP_ID, "Отдел"))
    private = await fill_in_private(app, ANNA, await new_in_group(app, group, ANNA))
    assert await app.press(private, ANNA, SEND)
    card = app.message_with_button(group, APPROVE)
    assert (card.text or "").startswith("🕓 Ждёт согласования")
    return group, private, card


async def test_the_card_says_expired_once_the_draft_is_gone(
    desk: Callable[..., BotUnderTest], tmp_path: Path  # noqa: F811
) -> None:
    app = desk(presets_file=approval_presets(tmp_path))
    group, private, card = await requested(app)
    data = card.button(APPROVE)["callback_data"]  # as a client still showing it
    ttl = app.settings.draft_ttl_seconds
    at = [time.time() + ttl - 60]
    sweeper = expiry(app, at)
    assert await sweeper.sweep() == 0  # not due yet
    assert (app.fake.message(group.id, card.message_id).text or "").startswith("🕓")
    # The draft expires (as its storage TTL does it): nothing of it is left.
    key = StorageKey(bot_id=app.bot.id, chat_id=private.id, user_id=ANNA.id)
    await app.backend.storage.set_state(key, None)
    await app.backend.storage.set_data(key, {})
    at[0] = time.time() + ttl + 1
    assert await sweeper.sweep() == 1
    expired = app.fake.message(group.id, card.message_id)  # edited in place
    text = expired.text or ""
    assert text.startswith(EXPIRED), text
    assert "Долги ноябрь" in text and "Автор: Анна" in text
    assert not any(b["text"] == APPROVE for b in expired.buttons)
    assert await sweeper.sweep() == 0  # once
    # A client still showing the old button: closed, nothing sent.
    assert await app.deliver(app.fake.press_button(group, BORIS, card.message_id, data))
    assert "закрыто" in app.fake.callback_answers[-1]["text"]
    assert app.api.campaign_requests == []
    assert (app.fake.message(group.id, card.message_id).text or "").startswith(EXPIRED)


async def test_a_draft_still_holding_the_request_loses_it_and_its_author_is_told(
    desk: Callable[..., BotUnderTest], tmp_path: Path  # noqa: F811
) -> None:
    app = desk(presets_file=approval_presets(tmp_path))
    group, private, card = await requested(app)
    data = card.button(APPROVE)["callback_data"]
    # Even before the sweep comes, a vote on a request past its time does not count.
    key = StorageKey(bot_id=app.bot.id, chat_id=private.id, user_id=ANNA.id)
    stored = await app.backend.storage.get_data(key)
    stored["approval"]["expires"] = time.time() - 1
    await app.backend.storage.set_data(key, stored)
    assert await app.deliver(app.fake.press_button(group, BORIS, card.message_id, data))
    assert app.api.campaign_requests == []
    at = [time.time() + app.settings.draft_ttl_seconds + 1]
    assert await expiry(app, at).sweep() == 1
    assert (app.fake.message(group.id, card.message_id).text or "").startswith(EXPIRED)
    assert "Никто не согласовал обзвон вовремя: срок согласования истёк" in app.last_text(private)
    assert "approval" not in await app.backend.storage.get_data(key)
    # Sent again: a new request, a new card; a colleague's approval creates it once.
    assert await app.press(private, ANNA, SEND)
    again = app.message_with_button(group, APPROVE)
    assert again.message_id != card.message_id
    assert await app.press(group, BORIS, APPROVE, message=again)
    await app.settle()
    assert len(app.api.campaign_requests) == 1
    assert (app.fake.message(group.id, again.message_id).text or "").startswith("✅ Обзвон №")
    assert await expiry(app, [at[0] + 10**6]).sweep() == 0  # decided: never «expired»
    assert (app.fake.message(group.id, card.message_id).text or "").startswith(EXPIRED)


async def test_decided_or_withdrawn_requests_are_never_called_expired(
    desk: Callable[..., BotUnderTest], tmp_path: Path  # noqa: F811
) -> None:
    app = desk(presets_file=approval_presets(tmp_path))
    group, private, card = await requested(app)
    assert await app.press(group, BORIS, APPROVE, message=card)
    await app.settle()
    assert len(app.api.campaign_requests) == 1
    far = [time.time() + app.settings.draft_ttl_seconds * 10]
    assert await expiry(app, far).sweep() == 0
    assert (app.fake.message(group.id, card.message_id).text or "").startswith("✅ Обзвон №")
    # Withdrawn by its author: «cancelled» stays.
    token = await new_in_group(app, group, ANNA)
    private = await fill_in_private(app, ANNA, token, "Второй")
    assert await app.press(private, ANNA, SEND)
    second = app.message_with_button(group, APPROVE)
    assert await app.press(private, ANNA, "✖️ Отменить")
    assert await expiry(app, far).sweep() == 0
    assert (app.fake.message(group.id, second.message_id).text or "").startswith(
        "✖️ Автор отменил обзвон")


async def test_the_periodic_task_turns_the_card_by_itself(
    desk: Callable[..., BotUnderTest], tmp_path: Path  # noqa: F811
) -> None:
    app = desk(presets_file=approval_presets(tmp_path))
    group, _private, card = await requested(app)
    at = [time.time()]
    task = asyncio.create_task(expiry(app, at).run(every=0.01))
    try:
        await asyncio.sleep(0.05)
        assert (app.fake.message(group.id, card.message_id).text or "").startswith("🕓")
        at[0] += app.settings.draft_ttl_seconds + 1  # the virtual clock passes the TTL
        for _ in range(500):  # bounded: at most ~5 s
            if (app.fake.message(group.id, card.message_id).text or "").startswith(EXPIRED):
                break
            await asyncio.sleep(0.01)
        assert (app.fake.message(group.id, card.message_id).text or "").startswith(EXPIRED)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert not app.api.campaign_requests


async def test_redis_notes_one_replica_per_note_and_a_forged_one_ignored(
    redis_url: str, redis_prefix: str
) -> None:
    from redis.asyncio import Redis

    from bot.dialog.approval_expiry import RedisApprovalNotes
    from bot.drafts import Signer

    redis = Redis.from_url(redis_url)
    try:
        signer = Signer(b"0123456789abcdef0123")
        notes = RedisApprovalNotes(redis, redis_prefix, signer, keep_seconds=60)
        now = time.time()
        for n in range(5):
            await notes.add({"dialog": f"d{n}", "due": now - n, "owner": 1, "chat": -1,
                             "card": n, "view": {}})
        await notes.add({"dialog": "later", "due": now + 3600, "owner": 1, "chat": -1,
                         "card": 9, "view": {}})
        await notes.forget("d4")
        await redis.hset(f"{redis_prefix}:approvals", "forged", b"x" * 40 + b'{"due": 0}')
        # Two replicas sweep at once: each due note goes to exactly one of them.
        first, second = await asyncio.gather(notes.take_due(now), notes.take_due(now))
        taken = [n["dialog"] for n in first + second]
        assert sorted(taken) == ["d0", "d1", "d2", "d3"]
        assert await notes.take_due(now) == []
        assert [n["dialog"] for n in await notes.take_due(now + 3600)] == ["later"]
    finally:
        await redis.aclose()
