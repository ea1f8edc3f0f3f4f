"""End to end, the real `python -m bot`: a group's /new handed over by a deep link, one
POST, at most 3 bot messages in the group, and the history kept across a restart (SQLite
beside memory drafts; Redis with REDIS_URL); four-eyes approval by a second member, the
author's own refused, exactly one POST."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ANNA, BORIS, STEP_TIMEOUT, TOKEN, BotProcess, Supervisor, has_button
from tests.fakes.campaign_api import FakeCampaignApi
from tests.fakes.telegram_api import Chat, FakeTelegram

pytestmark = pytest.mark.e2e

PHONES = ["+79161234567", "+79161234568"]


@pytest.fixture(params=["sqlite", "redis"])
def storage_env(request: pytest.FixtureRequest) -> dict[str, str]:
    if request.param == "sqlite":
        return {}
    url = request.getfixturevalue("redis_url")
    return {"REDIS_URL": url, "REDIS_KEY_PREFIX": request.getfixturevalue("redis_prefix")}


async def test_group_campaign_by_deep_link_and_history_after_restart(
    fake: FakeTelegram, api: FakeCampaignApi, start_bot: Any, storage_env: dict[str, str]
) -> None:
    group = fake.add_chat(Chat.group(-1001234567890, "Операторы"))
    bot: BotProcess = await start_bot(**storage_env)
    try:
        member = Supervisor(fake, group, ANNA)
        handoff = await member.say("/new@campaign_test_bot", has_button("Открыть личный чат"),
                                   reply=False)
        url = handoff.buttons[0]["url"]
        token = re.fullmatch(r"https://t\.me/campaign_test_bot\?start=([A-Za-z0-9_-]+)", url)
        assert token and len(token[1]) <= 64
        anna = Supervisor(fake, fake.add_chat(Chat.private(ANNA)), ANNA)
        await anna.say(f"/start {token[1]}", "Как назовём обзвон")
        await anna.say("Обзвон из группы", has_button("Пропустить"))
        await anna.press("Пропустить", has_button("Завтра"))
        await anna.press("Завтра", "В какие часы звонить")
        await anna.say("9-18", "Сколько попыток")
        await anna.say("1", "Пришлите список")
        await anna.say(", ".join(PHONES), has_button("✅ Создать"))
        await anna.press("✅ Создать", "Обзвон №")
        card = await fake.wait_for_message(
            group.id, lambda m: (m.text or "").startswith("✅ Обзвон №"), timeout=STEP_TIMEOUT
        )
        assert card.message_id == handoff.message_id  # the handoff became the card
        assert len(api.campaign_requests) == 1
        group_messages = fake.messages(group.id, include_deleted=True)
        assert len(group_messages) <= 3
        group_text = "\n".join(m.text or "" for m in group_messages)
        assert "916" not in group_text  # no number, not even masked, in the group
    finally:
        assert await bot.stop() == 0, bot.log[-3000:]
    campaign_id = next(iter(api.created))

    again: BotProcess = await start_bot(**storage_env)  # same working folder / same Redis
    try:
        member = Supervisor(fake, group, ANNA)
        listing = await member.say("/history", "Обзвоны этого чата", reply=False)
        assert f"№ {campaign_id} «Обзвон из группы»" in (listing.text or "")
    finally:
        assert await again.stop() == 0, again.log[-3000:]
    assert TOKEN not in bot.log + again.log
    for phone in PHONES:
        assert phone not in bot.log + again.log


async def _answer(fake: FakeTelegram, seen: int) -> dict:
    """The next callback answer after the `seen` first ones (bounded wait)."""
    for _ in range(int(STEP_TIMEOUT / 0.05)):
        if len(fake.callback_answers) > seen:
            return fake.callback_answers[seen]
        await asyncio.sleep(0.05)
    raise AssertionError("the button press was not answered")


async def test_approval_by_a_second_member_self_approval_refused_one_post(
    fake: FakeTelegram, api: FakeCampaignApi, start_bot: Any, storage_env: dict[str, str],
    tmp_path: Path,
) -> None:
    group = fake.add_chat(Chat.group(-1001234567890, "Операторы"))
    presets = tmp_path / "presets.toml"
    presets.write_text(
        '[[scenarios]]\nkey = "debt"\ntitle = "Долги"\nproject_id = 1\nstart_block_id = 10\n'
        '[[callers]]\nkey = "main"\ntitle = "Основной"\nphone_id = 5\n'
        f'[chats."{group.id}"]\napproval = true\n',
        "utf-8",
    )
    bot: BotProcess = await start_bot(PRESETS_FILE=str(presets), **storage_env)
    try:
        handoff = await Supervisor(fake, group, ANNA).say(
            "/new@campaign_test_bot", has_button("Открыть личный чат"), reply=False)
        token = re.fullmatch(r"https://t\.me/campaign_test_bot\?start=([A-Za-z0-9_-]+)",
                             handoff.buttons[0]["url"])
        assert token
        anna = Supervisor(fake, fake.add_chat(Chat.private(ANNA)), ANNA)
        await anna.say(f"/start {token[1]}", "Как назовём обзвон")
        await anna.say("На согласование", has_button("Пропустить"))
        await anna.press("Пропустить", has_button("Завтра"))
        await anna.press("Завтра", "В какие часы звонить")
        await anna.say("9-18", "Сколько попыток")
        await anna.say("1", "Пришлите список")
        await anna.say(", ".join(PHONES), has_button("Отправить на согласование"))
        await anna.press("Отправить на согласование", "ждёт согласования")
        card = await fake.wait_for_message(
            group.id, lambda m: any(b.get("text") == "✅ Одобрить" for b in m.buttons),
            timeout=STEP_TIMEOUT,
        )
        assert (card.text or "").startswith("🕓 Ждёт согласования")
        approve = next(b["callback_data"] for b in card.buttons if b["text"] == "✅ Одобрить")
        # The author's own approval: refused, nothing sent.
        seen = len(fake.callback_answers)
        fake.press_button(group, ANNA, card.message_id, approve)
        refused = await _answer(fake, seen)
        assert refused["show_alert"] and "Свой обзвон одобрить нельзя" in refused["text"]
        assert api.campaign_requests == []
        # A colleague approves: created once, the card edited in place.
        seen = len(fake.callback_answers)
        fake.press_button(group, BORIS, card.message_id, approve)
        assert "Одобрено" in (await _answer(fake, seen))["text"]
        final = await fake.wait_for_message(
            group.id, lambda m: (m.text or "").startswith("✅ Обзвон №"), timeout=STEP_TIMEOUT
        )
        assert final.message_id == card.message_id and "Одобрено: Борис" in (final.text or "")
        await anna.wait_text("Обзвон №")
        # A late second tap by a client still showing the button: still one POST.
        seen = len(fake.callback_answers)
        fake.press_button(group, BORIS, card.message_id, approve)
        late = await _answer(fake, seen)
        assert "закрыто" in late["text"] or "Уже решено" in late["text"]
        assert len(api.campaign_requests) == 1
    finally:
        assert await bot.stop() == 0, bot.log[-3000:]
    assert len(api.campaign_requests) == 1
    for phone in PHONES:
        assert phone not in bot.log
