"""Two bot instances (replicas) sharing one Redis: drafts move between them, and a double
submit split across them creates the campaign once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from tests.dialog.conftest import BotUnderTest
from tests.dialog.flows import CREATE, CREATED, SUMMARY, fill_to_summary, fill_until_phones
from tests.fakes.telegram_api import Chat
from tests.runtime.conftest import ANNA

pytestmark = pytest.mark.redis


@pytest.fixture
def replicas(make_bot_under_test: Callable[..., BotUnderTest]) -> tuple[BotUnderTest, ...]:
    """Two Dispatchers, two Bots, two Redis clients, one key prefix."""
    a, b = make_bot_under_test(), make_bot_under_test()
    assert a.backend.redis is not b.backend.redis
    return a, b


async def test_a_draft_started_on_one_replica_goes_on_on_the_other(
    replicas: tuple[BotUnderTest, BotUnderTest],
) -> None:
    a, b = replicas
    chat = a.fake.add_chat(Chat.private(ANNA))
    await fill_until_phones(a, chat, ANNA)
    assert await b.say(chat, ANNA, "+79161234567, 8 916 123-45-68")
    assert SUMMARY in b.last_text(chat)
    assert await a.press(chat, ANNA, CREATE)
    await a.settle()
    assert len(a.api.campaign_requests) == 1
    assert CREATED in a.last_text(chat)


@pytest.mark.parametrize("second", ["button", "text"])
async def test_double_submit_across_replicas_posts_once(
    replicas: tuple[BotUnderTest, BotUnderTest], second: str
) -> None:
    a, b = replicas
    chat = a.fake.add_chat(Chat.private(ANNA))
    await fill_to_summary(a, chat, ANNA)
    a.api.fail_next(delay=0.5)  # the POST is still running when the second tap is handled

    summary = a.message_with_button(chat, CREATE)
    data = summary.button(CREATE)["callback_data"]
    tap_a = a.fake.press_button(chat, ANNA, summary.message_id, data)
    tap_b = (
        a.fake.press_button(chat, ANNA, summary.message_id, data)
        if second == "button"
        else a.fake.send_text(chat, ANNA, "создать")
    )
    # Both updates are handled at the same time, one by each replica.
    await asyncio.wait_for(
        asyncio.gather(a.dp.feed_raw_update(a.bot, tap_a), b.dp.feed_raw_update(b.bot, tap_b)),
        10,
    )
    await a.settle()
    await b.settle()

    assert len(a.api.campaign_requests) == 1
    assert len(a.api.created) == 1
    texts = "\n".join(a.texts(chat))
    assert texts.count(CREATED) == 1
    # The loser was told so, not silently ignored.
    answers = [c.params.get("text") or "" for c in a.fake.calls("answerCallbackQuery")]
    replies = a.texts(chat)
    assert any("создаётся" in t for t in answers + replies), (answers, replies)
