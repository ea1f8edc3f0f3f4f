"""Replicas sharing Redis: a submission whose sender stopped beating is reported by
exactly one replica; a sender that beats is left alone however long its POST takes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from aiogram.fsm.storage.base import StorageKey

from bot.dialog.inflight import Sweeper
from bot.drafts import inflight_key
from bot.i18n import create_i18n
from tests.dialog.conftest import BotUnderTest
from tests.dialog.flows import CREATE, CREATED, RESEND, SUMMARY, fill_to_summary
from tests.fakes.telegram_api import Chat
from tests.runtime.conftest import ANNA

pytestmark = pytest.mark.redis


def _sweeper(app: BotUnderTest) -> Sweeper:
    return Sweeper(app.bot, app.deps, app.dp.storage, create_i18n("ru"))


async def test_a_dead_mark_is_reported_once_whichever_replicas_sweep(
    make_bot_under_test: Callable[..., BotUnderTest],
) -> None:
    sender, b, c = make_bot_under_test(), make_bot_under_test(), make_bot_under_test()
    chat = sender.fake.add_chat(Chat.private(ANNA))
    await fill_to_summary(sender, chat, ANNA)
    # What the sender leaves behind when it dies mid-POST: the draft marked in flight by
    # it, its registered mark, and (once the TTL ran out) no heartbeat.
    key = StorageKey(bot_id=sender.bot.id, chat_id=chat.id, user_id=ANNA.id)
    data = await sender.backend.storage.get_data(key)
    started = time.time()
    mark = inflight_key(chat.id, ANNA.id, f"{data['dialog']}-{data['rev']}")
    data.update(
        submit="in_flight", submit_started=started, submit_holder="host-1-dead", submit_key=mark
    )
    await sender.deps.inflight.hold(
        mark,
        {
            "chat": chat.id,
            "chat_type": "private",
            "user": ANNA.id,
            "user_name": "Анна",
            "locale": "ru",
            "dialog": data["dialog"],
            "name": data["name"],
            "phones": 2,
            "started": started,
            "phones_ref": data["phones_ref"],
        },
    )
    await sender.backend.storage.set_data(key, data)
    assert sender.backend.redis is not None
    [beat] = [k async for k in sender.backend.redis.scan_iter(match=f"*:inflight:{mark}")]
    await sender.backend.redis.delete(beat)

    before = len(sender.fake.messages(chat.id))
    counts = await asyncio.wait_for(
        asyncio.gather(_sweeper(b).sweep(), _sweeper(c).sweep(), _sweeper(b).sweep()), 20
    )
    assert sum(counts) == 1
    # Told once, on top of the summary, edited in place (no new message in a private chat).
    assert len(sender.fake.messages(chat.id)) == before
    texts = sender.texts(chat)
    assert len([t for t in texts if "возможно, уже создан" in t]) == 1
    assert "«Долги ноябрь»" in texts[-1] and "номеров: 2" in texts[-1]
    assert RESEND in {b["text"] for b in sender.fake.last_message(chat.id).buttons}
    assert await sender.deps.inflight.scan() == []
    assert await asyncio.wait_for(_sweeper(c).sweep(), 10) == 0  # reported is released
    # Resent only on request: one more campaign.
    assert await c.press(chat, ANNA, RESEND)
    await c.settle()
    assert len(c.api.campaign_requests) == 1 and len(c.api.created) == 1
    assert CREATED in c.last_text(chat)


async def test_a_beating_sender_is_not_reported_however_long_its_post(
    make_bot_under_test: Callable[..., BotUnderTest], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Short heartbeats so that the POST outlives several TTLs.
    monkeypatch.setattr("bot.drafts.HEARTBEAT_TTL_SECONDS", 1)
    monkeypatch.setattr("bot.dialog.submission.HEARTBEAT_EVERY_SECONDS", 0.2)
    sender = make_bot_under_test(campaign_api_read_timeout=10.0)
    other = make_bot_under_test()
    chat = sender.fake.add_chat(Chat.private(ANNA))
    await fill_to_summary(sender, chat, ANNA)
    sender.api.fail_next(delay=3.0)
    assert await sender.press(chat, ANNA, CREATE)
    reports = 0
    deadline = time.monotonic() + 20
    while len(sender.deps.tasks) and time.monotonic() < deadline:
        reports += await asyncio.wait_for(_sweeper(other).sweep(), 10)
        await asyncio.sleep(0.3)
        assert len(sender.api.campaign_requests) == 1
    await sender.settle()
    assert reports == 0
    texts = sender.texts(chat)
    assert not any("возможно, уже создан" in t for t in texts)
    assert CREATED in sender.last_text(chat) and SUMMARY not in sender.last_text(chat)
    assert await sender.deps.inflight.scan() == []


async def test_a_late_report_on_an_earlier_submission_leaves_the_resend_alone(
    make_bot_under_test: Callable[..., BotUnderTest],
) -> None:
    """A sweeper that claimed a dead mark and waited for the owner's lock while the owner
    was told (on their own update) and resent: the resend is not taken for the dead one."""
    app = make_bot_under_test(campaign_api_read_timeout=10.0)
    chat = app.fake.add_chat(Chat.private(ANNA))
    await fill_to_summary(app, chat, ANNA)
    key = StorageKey(bot_id=app.bot.id, chat_id=chat.id, user_id=ANNA.id)
    data = await app.backend.storage.get_data(key)
    dead = inflight_key(chat.id, ANNA.id, f"{data['dialog']}-{data['rev']}")
    data.update(submit="in_flight", submit_started=time.time(), submit_holder="h-1-x")
    await app.backend.storage.set_data(key, data)
    entry = {"chat": chat.id, "user": ANNA.id, "dialog": data["dialog"], "name": "x"}
    assert await app.say(chat, ANNA, "создать")  # told on the owner's own update
    assert RESEND in {b["text"] for b in app.fake.last_message(chat.id).buttons}
    app.api.fail_next(delay=2.0)
    assert await app.press(chat, ANNA, RESEND)
    before = len(app.fake.messages(chat.id))
    await asyncio.wait_for(_sweeper(app).report(dead, entry), 10)
    assert len(app.fake.messages(chat.id)) == before
    [(live, _, beating)] = await app.deps.inflight.scan()
    assert live != dead and beating
    await app.settle()
    assert CREATED in app.last_text(chat) and len(app.api.created) == 1


async def _forge_dead_mark(app: BotUnderTest, chat: Chat, data: dict, **entry: object) -> str:
    """The mark a sender leaves when it dies mid-POST, its heartbeat already run out."""
    mark = inflight_key(chat.id, ANNA.id, f"{data['dialog']}-{data['rev']}")
    await app.deps.inflight.hold(
        mark,
        {
            "chat": chat.id,
            "user": ANNA.id,
            "user_name": "Анна",
            "locale": "ru",
            "dialog": data["dialog"],
            "name": data["name"],
            "phones": 2,
            "started": time.time(),
            **entry,
        },
    )
    assert app.backend.redis is not None
    [beat] = [k async for k in app.backend.redis.scan_iter(match=f"*:inflight:{mark}")]
    await app.backend.redis.delete(beat)
    return mark


async def test_in_a_group_the_report_goes_to_the_owner(
    make_bot_under_test: Callable[..., BotUnderTest],
) -> None:
    sender, other = make_bot_under_test(), make_bot_under_test()
    group = sender.fake.add_chat(Chat.group(77, "Операторы"))
    await fill_to_summary(sender, group, ANNA)
    key = StorageKey(bot_id=sender.bot.id, chat_id=group.id, user_id=ANNA.id)
    data = await sender.backend.storage.get_data(key)
    mark = await _forge_dead_mark(sender, group, data, chat_type="group", reply_to=None)
    data.update(submit="in_flight", submit_started=time.time(), submit_holder="h-1-x")
    data["submit_key"] = mark
    await sender.backend.storage.set_data(key, data)
    assert await asyncio.wait_for(_sweeper(other).sweep(), 10) == 1
    last = sender.fake.last_message(group.id)
    assert "возможно, уже создан" in (last.text or "") and "Анна" in (last.text or "")
    assert RESEND in {b["text"] for b in last.buttons}
    assert await sender.press(group, ANNA, RESEND)
    await sender.settle()
    assert len(sender.api.created) == 1


async def test_a_new_draft_started_beside_is_left_alone_by_the_report(
    make_bot_under_test: Callable[..., BotUnderTest],
) -> None:
    sender, other = make_bot_under_test(), make_bot_under_test()
    chat = sender.fake.add_chat(Chat.private(ANNA))
    await fill_to_summary(sender, chat, ANNA)
    key = StorageKey(bot_id=sender.bot.id, chat_id=chat.id, user_id=ANNA.id)
    sent = await sender.backend.storage.get_data(key)
    await _forge_dead_mark(sender, chat, sent, chat_type="private")
    # The owner had started a new draft beside the submission, and named it.
    await sender.backend.storage.set_data(key, {})
    await sender.backend.storage.set_state(key, None)
    assert await sender.say(chat, ANNA, "/new")
    assert await sender.say(chat, ANNA, "Второй")
    before = await sender.backend.storage.get_data(key)
    assert await asyncio.wait_for(_sweeper(other).sweep(), 10) == 1
    text = sender.last_text(chat)
    assert "возможно, уже создан" in text and "«Долги ноябрь»" in text and "/new" in text
    assert await sender.backend.storage.get_data(key) == before
    assert await sender.backend.storage.get_state(key) == "CampaignForm:description"
    assert sender.api.campaign_requests == []


async def test_a_forged_mark_is_dropped_not_reported(
    make_bot_under_test: Callable[..., BotUnderTest],
) -> None:
    """Someone writing into the bot's Redis cannot make it message a chat of their choice."""
    app = make_bot_under_test()
    chat = app.fake.add_chat(Chat.private(ANNA))
    redis = app.backend.redis
    assert redis is not None
    registry = app.deps.inflight._registry
    forged = (
        b'{"chat": %d, "user": %d, "dialog": "abc", "name": "x", "phones": 1, "holder": "h-1-x"}'
        % (
            chat.id,
            ANNA.id,
        )
    )
    await redis.hset(registry, "1:2:abc-0", forged)
    before = len(app.fake.messages(chat.id))
    assert await asyncio.wait_for(_sweeper(app).sweep(), 10) == 0
    assert await redis.hexists(registry, "1:2:abc-0") == 0
    assert len(app.fake.messages(chat.id)) == before
