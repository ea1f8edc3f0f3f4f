"""End to end, the real `python -m bot`: a group's /new handed over by a deep link, one
POST, at most 3 bot messages in the group, and the history kept across a restart (SQLite
beside memory drafts; Redis with REDIS_URL)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.conftest import ANNA, STEP_TIMEOUT, TOKEN, BotProcess, Supervisor, has_button
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
