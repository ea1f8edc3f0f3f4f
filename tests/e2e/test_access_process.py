"""End to end, the real `python -m bot`: an anonymous group admin is nobody's user."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import ANNA, STEP_TIMEOUT, BotProcess, Supervisor
from tests.fakes.campaign_api import FakeCampaignApi
from tests.fakes.telegram_api import Chat, FakeTelegram, User

pytestmark = pytest.mark.e2e

GROUP_ANONYMOUS_BOT = User(id=1087968824, first_name="Group", username="GroupAnonymousBot",
                           is_bot=True, language_code=None)
ANONYMOUS = (
    "Вы пишете от имени группы — отключите анонимность в настройках администратора, "
    "чтобы создавать обзвоны"
)


async def test_anonymous_admin_new_in_a_group_gets_no_draft(
    fake: FakeTelegram, api: FakeCampaignApi, start_bot: Any
) -> None:
    group = fake.add_chat(Chat.group(-1001234567890, "Операторы"))
    # The group is an allowed chat: before, anyone writing there counted as a user.
    bot: BotProcess = await start_bot(ALLOWED_CHAT_IDS=str(group.id), GROUP_WIZARD="group")
    try:
        polls = fake.calls("getUpdates")
        assert "chat_member" in polls[-1].params["allowed_updates"]
        update = fake.send_message(
            group,
            GROUP_ANONYMOUS_BOT,
            {
                "text": "/new",
                "entities": [{"type": "bot_command", "offset": 0, "length": 4}],
                "sender_chat": group.to_dict(),
            },
        )
        mark = update["message"]["message_id"]
        refusal = await fake.wait_for_message(
            group.id, lambda m: m.message_id > mark, timeout=STEP_TIMEOUT
        )
        assert refusal.text == ANONYMOUS
        assert refusal.reply_to == mark
        assert str(GROUP_ANONYMOUS_BOT.id) not in (refusal.text or "")
        # A person in the same group still gets a draft: the bot was working all along.
        anna = Supervisor(fake, group, ANNA)
        await anna.say("/new", "Как назовём обзвон", reply=False)
        texts = [m.text or "" for m in fake.messages(group.id)]
        assert sum("Как назовём обзвон" in t for t in texts) == 1
    finally:
        code = await bot.stop()
    assert code == 0, bot.log[-3000:]
    log = bot.log
    assert f"access refused chat={group.id} sender_chat={group.id}" in log
    assert not [line for line in log.splitlines()
                if "draft started" in line and f"user={GROUP_ANONYMOUS_BOT.id}" in line]
    assert api.campaign_requests == []
