"""/new while a draft is open asks before dropping it; /new while its POST runs offers a
new draft beside it, and the POST's result then leaves the new draft alone."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from aiogram.fsm.storage.base import StorageKey

from bot.dialog.draft import Draft, load_draft
from tests.dialog.conftest import ANNA, BORIS, BotUnderTest
from tests.dialog.flows import (
    CREATE,
    CREATED,
    RESEND,
    SKIP,
    SUMMARY,
    TOMORROW,
    fill_to_summary,
)
from tests.fakes.telegram_api import Chat

CONTINUE = "▶️ Продолжить"
RESTART = "🆕 Начать заново"
NEW_DRAFT = "🆕 Новый черновик"
PROMPT = "У вас есть черновик «Долги ноябрь»: продолжить или начать заново?"


@pytest.fixture
def private(app: BotUnderTest) -> Chat:
    return app.fake.add_chat(Chat.private(ANNA))


async def _at_date_step(app: BotUnderTest, chat: Chat) -> int:
    """/new, a name, no description: the calendar is the current question."""
    assert await app.say(chat, ANNA, "/new", reply=False)
    assert await app.say(chat, ANNA, "Долги ноябрь")
    assert await app.press(chat, ANNA, SKIP)
    return app.message_with_button(chat, TOMORROW).message_id


def _key(app: BotUnderTest, chat: Chat) -> StorageKey:
    return StorageKey(bot_id=app.bot.id, chat_id=chat.id, user_id=ANNA.id)


async def _draft(app: BotUnderTest, chat: Chat) -> Draft:
    """The stored draft, read as the bot reads it (the typed model)."""
    draft = load_draft(await app.backend.storage.get_data(_key(app, chat)))
    assert draft is not None
    return draft


async def test_new_over_an_open_draft_asks_and_start_over_drops_it_visibly(
    app: BotUnderTest, private: Chat
) -> None:
    calendar = await _at_date_step(app, private)
    old = await _draft(app, private)
    assert await app.say(private, ANNA, "/new")
    prompt = app.fake.last_message(private.id)
    assert PROMPT in (prompt.text or "")
    assert {b["text"] for b in prompt.buttons} == {CONTINUE, RESTART}
    assert app.fake.message(private.id, calendar).buttons  # nothing dropped yet

    assert await app.press(private, ANNA, RESTART)
    assert app.fake.message(private.id, calendar).buttons == []
    assert app.fake.message(private.id, prompt.message_id).buttons == []
    texts = app.texts(private)
    assert "Черновик «Долги ноябрь» удалён." in texts
    assert "Новый обзвон" in texts[-1]
    new = await _draft(app, private)
    assert new.dialog != old.dialog and new.name is None
    # The old calendar is dead, the new draft takes a name.
    assert await app.say(private, ANNA, "Другой")
    assert await app.press(private, ANNA, SKIP)
    assert (await _draft(app, private)).name == "Другой"


async def test_continue_shows_the_same_question_and_the_draft_goes_on(
    app: BotUnderTest, private: Chat
) -> None:
    await _at_date_step(app, private)
    assert await app.say(private, ANNA, "/new")
    assert await app.press(private, ANNA, CONTINUE)
    assert "дату" in app.last_text(private).lower() or TOMORROW in {
        b["text"] for b in app.fake.last_message(private.id).buttons
    }
    assert await app.press(private, ANNA, TOMORROW)
    assert await app.say(private, ANNA, "9-18")
    assert await app.say(private, ANNA, "1")
    assert await app.say(private, ANNA, "+79161234567")
    assert SUMMARY in app.last_text(private)
    assert "Долги ноябрь" in app.last_text(private)


@pytest.mark.parametrize("word", ["продолжить", "Продолжить!", "заново", "начать заново"])
async def test_typed_answers_are_accepted(app: BotUnderTest, private: Chat, word: str) -> None:
    await fill_to_summary(app, private, ANNA)
    assert await app.say(private, ANNA, "/new")
    assert PROMPT in app.last_text(private)
    assert await app.say(private, ANNA, word)
    if word.lower().startswith("продолж"):
        assert SUMMARY in app.last_text(private)
        assert await app.press(private, ANNA, CREATE)
        await app.settle()
        assert CREATED in app.last_text(private)
    else:
        assert "Черновик «Долги ноябрь» удалён." in app.texts(private)
        assert "Новый обзвон" in app.last_text(private)
        assert app.api.campaign_requests == []


async def test_another_answer_repeats_the_question_and_old_buttons_wait(
    app: BotUnderTest, private: Chat
) -> None:
    await _at_date_step(app, private)
    assert await app.say(private, ANNA, "/new")
    assert await app.say(private, ANNA, "может быть")
    last = app.last_text(private)
    assert "«продолжить» или «заново»" in last and PROMPT in last
    # The calendar under the question does nothing until the choice is made.
    assert await app.press(private, ANNA, TOMORROW)
    answer = app.fake.calls("answerCallbackQuery")[-1].params
    assert "Сначала выберите" in answer.get("text", "")
    assert (await _draft(app, private)).date is None
    assert await app.say(private, ANNA, "продолжить")
    assert await app.press(private, ANNA, TOMORROW)
    assert (await _draft(app, private)).date is not None


async def test_the_first_new_still_starts_at_once(app: BotUnderTest, private: Chat) -> None:
    assert await app.say(private, ANNA, "/new")
    assert "Новый обзвон" in app.last_text(private)
    assert "черновик" not in app.last_text(private).lower()


async def test_in_a_group_only_the_owner_answers_the_question(app: BotUnderTest) -> None:
    group = app.fake.add_chat(Chat.group(77, "Операторы"))
    assert await app.say(group, ANNA, "/new", reply=False)
    assert await app.say(group, ANNA, "Долги ноябрь")
    assert await app.say(group, ANNA, "/new", reply=False)
    prompt = app.message_with_button(group, RESTART)
    assert "Анна" in (prompt.text or "") and PROMPT in (prompt.text or "")
    assert await app.press(group, BORIS, RESTART, message=prompt)
    answer = app.fake.calls("answerCallbackQuery")[-1].params
    assert "чужого" in answer.get("text", "").lower() or "другого" in answer.get("text", "")
    assert (await _draft(app, group)).name == "Долги ноябрь"
    assert await app.press(group, ANNA, CONTINUE, message=prompt)
    assert "Анна" in app.last_text(group) or "Анна" in "\n".join(app.texts(group)[-2:])


async def test_new_while_the_post_runs_offers_a_draft_beside_it(
    make_bot_under_test: Callable[..., BotUnderTest],
) -> None:
    app = make_bot_under_test(campaign_api_read_timeout=10.0)
    private = app.fake.add_chat(Chat.private(ANNA))
    await fill_to_summary(app, private, ANNA)
    app.api.fail_next(delay=3.0)  # the POST is held while the owner goes on
    assert await app.press(private, ANNA, CREATE)
    await asyncio.wait_for(_until(lambda: app.api.campaign_requests), 5)
    assert await app.say(private, ANNA, "/new")
    last = app.last_text(private)
    assert "уже создаётся" in last and "Дождитесь" not in last
    assert await app.press(private, ANNA, NEW_DRAFT)
    assert "Новый обзвон" in app.last_text(private)
    assert await app.say(private, ANNA, "Второй")
    await app.settle()
    # The result reached the owner, and the new draft is untouched by it.
    assert any(CREATED in t for t in app.texts(private))
    assert len(app.api.created) == 1
    draft = await _draft(app, private)
    assert draft.name == "Второй" and not draft.in_flight
    assert await app.backend.storage.get_state(_key(app, private)) == "CampaignForm:description"
    assert await app.press(private, ANNA, SKIP)
    assert TOMORROW in {b["text"] for b in app.fake.last_message(private.id).buttons}


async def test_a_mark_without_a_live_holder_is_reported_on_new(
    app: BotUnderTest, private: Chat
) -> None:
    """A draft marked in flight by a holder that no longer beats: the campaign may exist."""
    await fill_to_summary(app, private, ANNA)
    await app.backend.storage.update_data(
        _key(app, private),
        {"submit": "in_flight", "submit_started": time.time(), "submit_holder": "gone-1-abc"},
    )
    assert await app.say(private, ANNA, "/new")
    assert app.api.campaign_requests == []
    texts = "\n".join(app.texts(private)[-2:])
    assert "возможно, уже создан" in texts and "«Долги ноябрь»" in texts and "номеров: 2" in texts
    assert await app.press(private, ANNA, RESEND)
    await app.settle()
    assert len(app.api.campaign_requests) == 1
    assert CREATED in app.last_text(private)


async def _until(predicate: object) -> None:
    """Poll state the fakes are not asked about (bounded by the caller's wait_for)."""
    while not predicate():  # type: ignore[operator]  # noqa: ASYNC110
        await asyncio.sleep(0.02)


async def test_new_at_the_first_question_starts_over_without_asking(
    app: BotUnderTest, private: Chat
) -> None:
    """Nothing answered yet: a question about continuing would only be noise."""
    assert await app.say(private, ANNA, "/new", reply=False)
    first = await _draft(app, private)
    assert await app.say(private, ANNA, "/new")
    assert "продолжить или начать заново" not in app.last_text(private)
    assert "Новый обзвон" in app.texts(private)[-1]
    again = await _draft(app, private)
    assert again.dialog != first.dialog
    assert await app.say(private, ANNA, "Долги ноябрь")  # the new draft takes the name
    assert (await _draft(app, private)).name == "Долги ноябрь"
