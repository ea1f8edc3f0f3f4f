"""The stored draft is one typed, versioned value: an older version's draft is migrated
and goes on; one this version cannot read is dropped with a word to its owner, never a
crash. Memory and Redis storage alike (MemoryStorage would keep what Redis cannot)."""

from __future__ import annotations

import json

import pytest
from aiogram.fsm.storage.base import StorageKey

from bot.dialog.draft import SCHEMA_VERSION, Draft, DraftUnreadable, load_draft, new_draft
from bot.presets import Presets
from tests.dialog.conftest import ANNA, BotUnderTest
from tests.dialog.flows import SKIP, SUMMARY, TOMORROW
from tests.fakes.telegram_api import Chat


@pytest.fixture
def private(app: BotUnderTest) -> Chat:
    return app.fake.add_chat(Chat.private(ANNA))


def _key(app: BotUnderTest, chat: Chat) -> StorageKey:
    return StorageKey(bot_id=app.bot.id, chat_id=chat.id, user_id=ANNA.id)


def test_a_new_draft_is_json_safe_and_round_trips() -> None:
    presets = Presets.single(project_id=1, start_block_id=10, phone_id=5)
    draft = new_draft(ANNA.id, ANNA.id, presets)
    stored = json.loads(json.dumps(draft.dump()))
    assert stored["v"] == SCHEMA_VERSION and stored["preset"] == ["sc", "cl"]
    assert "name" not in stored  # unanswered steps are not stored
    assert load_draft(stored) == draft


def test_a_v1_draft_migrates_and_a_newer_or_broken_one_is_refused() -> None:
    v1 = {"owner": 1, "dialog": "abc123", "fixed": ["sc"], "scenario": "s", "rev": 2,
          "kb_msgs": [], "list_file": {}}
    draft = load_draft(v1)
    assert isinstance(draft, Draft)
    assert draft.preset == ["sc"] and draft.list_file is None and draft.v == SCHEMA_VERSION
    assert load_draft({}) is None
    with pytest.raises(DraftUnreadable):
        load_draft({"v": SCHEMA_VERSION + 1, "owner": 1, "dialog": "abc123"})
    with pytest.raises(DraftUnreadable):
        load_draft({"v": SCHEMA_VERSION, "owner": "nobody", "dialog": "abc123"})


async def test_a_draft_stored_by_the_previous_version_goes_on(
    app: BotUnderTest, private: Chat
) -> None:
    assert await app.say(private, ANNA, "/new")
    assert await app.say(private, ANNA, "Старый черновик")
    key = _key(app, private)
    stored = await app.backend.storage.get_data(key)
    # As v1 wrote it: no version, "fixed" for the preset steps.
    old = {k: v for k, v in stored.items() if k not in ("v", "preset")}
    old["fixed"] = stored["preset"]
    await app.backend.storage.set_data(key, old)
    assert await app.press(private, ANNA, SKIP)
    assert await app.press(private, ANNA, TOMORROW)
    assert await app.say(private, ANNA, "9-18")
    assert await app.say(private, ANNA, "1")
    assert await app.say(private, ANNA, "+79161234567")
    assert SUMMARY in app.last_text(private) and "Старый черновик" in app.last_text(private)
    migrated = await app.backend.storage.get_data(key)
    assert migrated["v"] == SCHEMA_VERSION and "fixed" not in migrated


@pytest.mark.parametrize("stored", [
    {"v": SCHEMA_VERSION + 1, "owner": ANNA.id, "dialog": "abc123"},
    {"v": SCHEMA_VERSION, "owner": ANNA.id, "dialog": "abc123", "attempts": "many"},
], ids=["newer-version", "invalid-field"])
async def test_an_unreadable_draft_is_dropped_with_a_word_to_its_owner(
    app: BotUnderTest, private: Chat, stored: dict
) -> None:
    assert await app.say(private, ANNA, "/new")
    key = _key(app, private)
    await app.backend.storage.set_data(key, stored)
    assert await app.say(private, ANNA, "Ответ")
    assert "прежней версией бота" in app.last_text(private)
    assert await app.backend.storage.get_state(key) is None
    assert await app.backend.storage.get_data(key) == {}
    # A command still does what it says.
    assert await app.say(private, ANNA, "/new")
    assert "Как назовём обзвон" in app.last_text(private)
