"""Forged callbacks: any client can send any callback_data for any message it sees.

Whatever the data says, the bot edits or strips only a message the presser owns, and a
step the presets fixed cannot be reopened.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.dialog.conftest import ANNA, BORIS, BotUnderTest
from tests.dialog.flows import CREATE, EDIT, SKIP, SUMMARY, TOMORROW, fill_to_summary
from tests.dialog.test_presets_access_language import PRESETS
from tests.fakes.telegram_api import BotMessage, Chat, User

FIXED = "Этот пункт задан настройками и не меняется."
ALREADY = "На этот вопрос уже есть ответ."


@pytest.fixture
def group(app: BotUnderTest) -> Chat:
    return app.fake.add_chat(Chat.group(77, "Операторы"))


async def walk_to_summary(app: BotUnderTest, group: Chat, user: User) -> BotMessage:
    """/new in the group and every answer as a reply, as the ForceReply makes clients do."""
    fake = app.fake
    assert await app.say(group, user, "/new", reply=False)
    for answer in ("Тест", None, None, "9-18", "1", "+79161234567"):
        if answer is None:
            label = SKIP if SKIP in str(fake.messages(group.id)[-2].keyboard) else TOMORROW
            assert await app.press(group, user, label)
        else:
            assert await app.say(group, user, answer)
    assert SUMMARY in app.last_text(group)
    return own_summary(app, group, user)


def own_summary(app: BotUnderTest, group: Chat, user: User) -> BotMessage:
    for message in reversed(app.fake.messages(group.id)):
        if user.first_name in (message.text or "") and any(
            CREATE in b.get("text", "") for b in message.buttons
        ):
            return message
    raise LookupError(user)


async def forge(app: BotUnderTest, chat: Chat, user: User, message: BotMessage,
                data: str) -> dict:
    assert await app.deliver(app.fake.press_button(chat, user, message.message_id, data))
    return app.fake.callback_answers[-1]


def snapshot(app: BotUnderTest, chat: Chat, message: BotMessage) -> tuple:
    now = app.fake.message(chat.id, message.message_id)
    return now.text, now.reply_markup, now.edit_date


async def state_of(app: BotUnderTest, chat: Chat, user: User) -> str | None:
    return await app.dp.fsm.get_context(app.bot, chat_id=chat.id, user_id=user.id).get_state()


async def draft_of(app: BotUnderTest, chat: Chat, user: User) -> dict[str, Any]:
    return await app.dp.fsm.get_context(app.bot, chat_id=chat.id, user_id=user.id).get_data()


async def test_own_summary_button_on_anothers_summary_is_refused(
    app: BotUnderTest, group: Chat
) -> None:
    """Boris's valid «Edit» data (his owner, dialog and rev) sent on Anna's summary."""
    anna_summary = await walk_to_summary(app, group, ANNA)
    boris_summary = await walk_to_summary(app, group, BORIS)
    before = snapshot(app, group, anna_summary)
    sent = len(app.fake.messages(group.id))
    answer = await forge(app, group, BORIS, anna_summary,
                         boris_summary.button(EDIT)["callback_data"])
    assert answer["show_alert"] is True
    assert snapshot(app, group, anna_summary) == before
    assert len(app.fake.messages(group.id)) == sent
    assert not any(m.reply_to == anna_summary.reply_to for m in app.fake.messages(group.id)[sent:])
    # Both drafts are untouched: each still creates one campaign with its own button.
    for user in (ANNA, BORIS):
        assert await app.press(group, user, CREATE, message=own_summary(app, group, user))
    await app.settle()
    assert len(app.api.campaign_requests) == 2


async def test_language_button_on_anothers_message_is_refused(
    app: BotUnderTest, group: Chat
) -> None:
    anna_summary = await walk_to_summary(app, group, ANNA)
    before = snapshot(app, group, anna_summary)
    answer = await forge(app, group, BORIS, anna_summary, f"l:{BORIS.id}:en")
    assert answer["show_alert"] is True
    assert snapshot(app, group, anna_summary) == before


@pytest.mark.parametrize("data", [f"b:{BORIS.id}:ffffff:nm", f"s:{BORIS.id}:ffffff:0:create",
                                  "zzz:1", ""])
async def test_stale_or_unknown_data_on_anothers_message_strips_nothing(
    app: BotUnderTest, group: Chat, data: str
) -> None:
    anna_summary = await walk_to_summary(app, group, ANNA)
    before = snapshot(app, group, anna_summary)
    await forge(app, group, BORIS, anna_summary, data)
    assert snapshot(app, group, anna_summary) == before
    assert await app.press(group, ANNA, CREATE, message=anna_summary)  # still works for Anna
    await app.settle()
    assert len(app.api.campaign_requests) == 1


async def test_own_stale_buttons_are_still_taken_off(app: BotUnderTest, group: Chat) -> None:
    old_summary = await walk_to_summary(app, group, ANNA)
    # The draft ends without its messages being touched (it expired, say).
    await app.dp.fsm.get_context(app.bot, chat_id=group.id, user_id=ANNA.id).clear()
    await app.press(group, ANNA, CREATE, message=old_summary)
    assert app.fake.message(group.id, old_summary.message_id).buttons == []
    assert app.api.campaign_requests == []


@pytest.mark.parametrize("field", ["sc", "cl", "zz"])
async def test_forged_edit_of_a_fixed_step_is_refused(app: BotUnderTest, field: str) -> None:
    """One scenario and one caller: neither is asked nor offered in «Edit»."""
    chat = app.fake.add_chat(Chat.private(ANNA))
    await fill_to_summary(app, chat, ANNA)
    summary = app.fake.last_message(chat.id)
    before = snapshot(app, chat, summary)
    dialog = (await draft_of(app, chat, ANNA))["dialog"]
    answer = await forge(app, chat, ANNA, summary, f"e:{ANNA.id}:{dialog}:{field}")
    assert answer["text"] == FIXED
    assert await state_of(app, chat, ANNA) == "CampaignForm:summary"
    assert snapshot(app, chat, summary) == before
    assert await app.press(chat, ANNA, CREATE)
    await app.settle()
    assert len(app.api.campaign_requests) == 1


async def test_forged_edit_of_a_group_default_is_refused(
    make_bot_under_test: Any, tmp_path: Path
) -> None:
    presets = tmp_path / "presets.toml"
    presets.write_text(PRESETS, encoding="utf-8")
    app: BotUnderTest = make_bot_under_test(presets_file=presets)
    group = app.fake.add_chat(Chat.group(77, "Операторы"))  # its default scenario: survey
    assert await app.say(group, ANNA, "/new", reply=False)
    assert await app.press(group, ANNA, "Основной")
    assert await app.say(group, ANNA, "Тест")
    for label in (SKIP, TOMORROW):
        assert await app.press(group, ANNA, label)
    for answer in ("9-18", "1", "+79161234567"):
        assert await app.say(group, ANNA, answer)
    summary = own_summary(app, group, ANNA)
    dialog = (await draft_of(app, group, ANNA))["dialog"]
    answer = await forge(app, group, ANNA, summary, f"e:{ANNA.id}:{dialog}:sc")
    assert answer["text"] == FIXED
    assert await state_of(app, group, ANNA) == "CampaignForm:summary"
    # The caller was asked, so it may be changed.
    await forge(app, group, ANNA, summary, f"e:{ANNA.id}:{dialog}:cl")
    assert await state_of(app, group, ANNA) == "CampaignForm:caller"


async def test_forged_back_to_a_fixed_step_is_refused(app: BotUnderTest) -> None:
    """The name question has no «Back» (scenario and caller are fixed); forged, it does
    not reopen the scenario."""
    chat = app.fake.add_chat(Chat.private(ANNA))
    assert await app.say(chat, ANNA, "/new")
    question = app.fake.last_message(chat.id)
    dialog = (await draft_of(app, chat, ANNA))["dialog"]
    for field in ("sc", "cl", "dt"):
        answer = await forge(app, chat, ANNA, question, f"b:{ANNA.id}:{dialog}:{field}")
        assert answer["text"] == ALREADY
        assert await state_of(app, chat, ANNA) == "CampaignForm:name"
    assert await app.say(chat, ANNA, "Обзвон")
    assert await state_of(app, chat, ANNA) == "CampaignForm:description"


@pytest.mark.parametrize(("step", "value"), [("dt", "garbage"), ("dt", "2026-13-40"),
                                             ("wn", "0900"), ("wn", "ab-cd")])
async def test_forged_answer_value_asks_again(app: BotUnderTest, step: str, value: str) -> None:
    """Answer data with a value no button carries: the question again, no error."""
    chat = app.fake.add_chat(Chat.private(ANNA))
    assert await app.say(chat, ANNA, "/new")
    assert await app.say(chat, ANNA, "Обзвон")
    assert await app.press(chat, ANNA, SKIP)
    if step == "wn":
        assert await app.press(chat, ANNA, TOMORROW)
    expected = {"dt": "CampaignForm:date", "wn": "CampaignForm:window"}[step]
    assert await state_of(app, chat, ANNA) == expected
    question = app.fake.last_message(chat.id)
    dialog = (await draft_of(app, chat, ANNA))["dialog"]
    await forge(app, chat, ANNA, question, f"a:{ANNA.id}:{dialog}:{step}:{value}")
    assert "Нажмите кнопку или введите её номер" in app.last_text(chat)
    assert "Что-то пошло не так" not in "\n".join(app.texts(chat))
    assert await state_of(app, chat, ANNA) == expected


async def test_forged_calendar_page_and_language_change_nothing(app: BotUnderTest) -> None:
    chat = app.fake.add_chat(Chat.private(ANNA))
    assert await app.say(chat, ANNA, "/new")
    assert await app.say(chat, ANNA, "Обзвон")
    assert await app.press(chat, ANNA, SKIP)
    question = app.fake.last_message(chat.id)
    before = snapshot(app, chat, question)
    dialog = (await draft_of(app, chat, ANNA))["dialog"]
    for data in (f"c:{ANNA.id}:{dialog}:2026-99", f"l:{ANNA.id}:xx"):
        await forge(app, chat, ANNA, question, data)
    assert snapshot(app, chat, question) == before
    assert "Что-то пошло не так" not in "\n".join(
        str(a.get("text")) for a in app.fake.callback_answers)
    assert await state_of(app, chat, ANNA) == "CampaignForm:date"
    assert await app.press(chat, ANNA, TOMORROW)  # the dialog goes on
    assert await state_of(app, chat, ANNA) == "CampaignForm:window"
