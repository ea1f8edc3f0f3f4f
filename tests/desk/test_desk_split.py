"""A split set started from a group, through the real Dispatcher (memory and Redis, SQLite
or Redis history): the group's card shows every part (ID, missing, may exist) and is
edited in place through the set's life; every created part and every part of unknown
outcome gets one history record; a split sent by a colleague's approval posts each part
once, also when two approve at once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from aiogram.fsm.storage.base import StorageKey

from tests.calling.registry_files import write_registry
from tests.desk.test_desk_flow import (
    GROUP_ID,
    VERA,
    approval_presets,
    assert_group_is_quiet,
    group_messages,
    new_in_group,
)
from tests.dialog.conftest import ANNA, BORIS, BotUnderTest
from tests.dialog.flows import SKIP, SUMMARY
from tests.dialog.test_calling_hours import CREATE_MISSING, CREATE_SET, SPLIT, THREE_ZONES_CSV
from tests.fakes.telegram_api import Chat

NAMES = ["Долги декабрь · UTC+5", "Долги декабрь · UTC+3", "Долги декабрь · UTC+10"]


@pytest.fixture
def desk(make_bot_under_test: Callable[..., BotUnderTest], tmp_path: Path
         ) -> Callable[..., BotUnderTest]:
    def make(**overrides) -> BotUnderTest:
        overrides.setdefault("group_wizard", "private")
        overrides.setdefault("allowed_user_ids", [ANNA.id, BORIS.id, VERA.id])
        return make_bot_under_test(numbering_plan_dir=write_registry(tmp_path / "plan"),
                                   **overrides)

    return make


async def split_in_private(app: BotUnderTest, group: Chat) -> tuple[Chat, int]:
    """/new in the group, the draft in private up to the split's confirmation; returns
    the private chat and the group's card (the handoff message)."""
    token = await new_in_group(app, group, ANNA)
    card = app.fake.last_message(group.id)
    assert card is not None
    private = app.fake.add_chat(Chat.private(ANNA))
    assert await app.say(private, ANNA, f"/start {token}")
    assert await app.say(private, ANNA, "Долги декабрь")
    assert await app.press(private, ANNA, SKIP)
    assert await app.say(private, ANNA, "01.12.2026")
    assert await app.say(private, ANNA, "9-18")
    assert await app.say(private, ANNA, "1")
    assert await app.upload(private, ANNA, THREE_ZONES_CSV, "list.csv")
    assert SUMMARY in app.last_text(private), app.last_text(private)
    assert await app.press(private, ANNA, SPLIT)
    return private, card.message_id


async def history_of(app: BotUnderTest) -> list:
    assert app.deps.history is not None
    page = await app.deps.history.page(chat_id=GROUP_ID)
    assert page.available
    return page.records


async def test_a_split_set_on_the_card_and_in_the_history(
    desk: Callable[..., BotUnderTest],
) -> None:
    app = desk()
    group = app.fake.add_chat(Chat.group(GROUP_ID, "Отдел взыскания"))
    private, card_id = await split_in_private(app, group)
    # The first passes, the second is refused by the API, the third passes.
    app.api.fail_next(times=1)
    app.api.fail_next(status=503, json={"message": "overloaded"})
    assert await app.press(private, ANNA, CREATE_SET)
    await app.settle()
    assert len(app.api.campaign_requests) == 3
    ids = sorted(app.api.created)
    assert len(ids) == 2
    card = app.fake.message(group.id, card_id)  # edited in place: the handoff message
    text = card.text or ""
    assert text.startswith("⚠️ Создано обзвонов: 2 из 3"), text
    assert f"«Долги декабрь · UTC+5» (3): ID {ids[0]}" in text
    assert "«Долги декабрь · UTC+3» (2): отклонён: overloaded" in text
    assert f"«Долги декабрь · UTC+10» (1): ID {ids[1]}" in text
    assert "Автор: Анна" in text and "номеров: 6" in text
    assert [b["text"] for b in card.buttons] == ["📜 История"]
    records = await history_of(app)
    assert sorted((r.name, r.campaign_id, r.outcome, r.count) for r in records) == sorted([
        (NAMES[0], ids[0], "created", 3), (NAMES[2], ids[1], "created", 1),
    ])
    assert all(r.phones_ref is None for r in records)  # never the whole list for one part
    by_name = {r.name: r for r in records}
    assert (by_name[NAMES[2]].start, by_name[NAMES[2]].end) == ("04:00", "13:00")

    # The retry: the card says «creating», then the whole set; one more record only.
    edits_before = len(app.fake.calls("editMessageText"))
    assert await app.press(private, ANNA, CREATE_MISSING)
    await app.settle()
    assert [r.json["campaign"]["name"] for r in app.api.campaign_requests[3:]] == [NAMES[1]]
    card_edits = [c for c in app.fake.calls("editMessageText")[edits_before:]
                  if c.params.get("chat_id") == group.id
                  and int(c.params["message_id"]) == card_id]
    assert [str(c.params["text"]).split("\n")[0] for c in card_edits] == [
        "⏳ Создаются обзвоны: 3…", "✅ Создано обзвонов: 3"
    ]
    final = app.fake.message(group.id, card_id).text or ""
    for campaign_id in app.api.created:
        assert f"ID {campaign_id}" in final
    records = await history_of(app)
    assert len(records) == 3
    assert sorted(r.campaign_id for r in records) == sorted(app.api.created)
    assert sorted(r.name for r in records) == sorted(NAMES)
    assert_group_is_quiet(app, group, at_most=1)
    assert "Создано обзвонов: 3" in app.last_text(private)


async def test_a_part_of_unknown_outcome_is_recorded_and_shown_as_may_exist(
    desk: Callable[..., BotUnderTest],
) -> None:
    """The sender died after the first part and during the second: the dead sender's
    report records the created part and the one that may exist, and the card says so."""
    app = desk()
    group = app.fake.add_chat(Chat.group(GROUP_ID, "Отдел"))
    private, card_id = await split_in_private(app, group)
    key = StorageKey(bot_id=app.bot.id, chat_id=private.id, user_id=ANNA.id)
    data = await app.backend.storage.get_data(key)
    parts = data["split"]
    parts[0].update(status="created", id=900)
    parts[1]["status"] = "sending"
    data.update(split=parts, submit="in_flight", submit_started=1.0,
                submit_holder="host-1-dead", submit_key="campaign-bot:inflight:dead")
    await app.backend.storage.set_data(key, data)
    assert await app.press(private, ANNA, CREATE_SET)
    await app.settle()
    assert app.api.campaign_requests == []
    text = app.fake.message(group.id, card_id).text or ""
    assert text.startswith("⚠️ Создано обзвонов: 1 из 3"), text
    assert "«Долги декабрь · UTC+5» (3): ID 900" in text
    assert "«Долги декабрь · UTC+3» (2): ответа нет, обзвон МОГ создаться" in text
    assert "«Долги декабрь · UTC+10» (1): ещё не отправлен" in text
    records = await history_of(app)
    assert sorted((r.name, r.outcome, r.campaign_id) for r in records) == [
        (NAMES[1], "unknown", None), (NAMES[0], "created", 900),
    ]
    # The missing one sent: one more record, none twice.
    assert await app.press(private, ANNA, CREATE_MISSING)
    await app.settle()
    assert [r.json["campaign"]["name"] for r in app.api.campaign_requests] == [NAMES[2]]
    records = await history_of(app)
    assert sorted(r.name for r in records) == sorted(NAMES)
    final = app.fake.message(group.id, card_id).text or ""
    assert "Создано обзвонов: 2 из 3" in final and "МОГ создаться" in final


async def test_a_split_approved_by_a_colleague_posts_each_part_once(
    desk: Callable[..., BotUnderTest], tmp_path: Path,
) -> None:
    app = desk(presets_file=approval_presets(tmp_path))
    group = app.fake.add_chat(Chat.group(GROUP_ID, "Отдел"))
    private, _ = await split_in_private(app, group)
    assert await app.press(private, ANNA, CREATE_SET)
    assert "ждёт согласования" in app.last_text(private)
    assert app.api.campaign_requests == []
    card = app.message_with_button(group, "✅ Одобрить")
    awaiting = card.text or ""
    assert awaiting.startswith("🕓 Ждёт согласования")
    for name in NAMES:
        assert f"«{name}»" in awaiting and "ещё не отправлен" in awaiting
    # The author's own vote is refused.
    assert await app.press(group, ANNA, "✅ Одобрить", message=card)
    assert "Свой обзвон одобрить нельзя" in app.fake.callback_answers[-1]["text"]
    assert app.api.campaign_requests == []
    # Two colleagues at once: each part once.
    data = card.button("✅ Одобрить")["callback_data"]
    await asyncio.gather(
        app.deliver(app.fake.press_button(group, BORIS, card.message_id, data)),
        app.deliver(app.fake.press_button(group, VERA, card.message_id, data)),
    )
    await app.settle()
    # A late third approval changes nothing either.
    assert await app.deliver(app.fake.press_button(group, VERA, card.message_id, data))
    await app.settle()
    names = [r.json["campaign"]["name"] for r in app.api.campaign_requests]
    assert sorted(names) == sorted(NAMES) and len(names) == 3
    final = app.fake.message(group.id, card.message_id).text or ""
    assert final.startswith("✅ Создано обзвонов: 3"), final
    assert "Одобрено:" in final
    for campaign_id in app.api.created:
        assert f"ID {campaign_id}" in final
    records = await history_of(app)
    assert sorted(r.name for r in records) == sorted(NAMES)
    assert all(r.approver_id in (BORIS.id, VERA.id) for r in records)
    assert "Создано обзвонов: 3" in app.last_text(private)  # the author is told privately
    assert len([m for m in group_messages(app, group) if m.buttons or m.text]) <= 3
