"""Group chats under privacy mode, strangers, double taps and every API outcome."""

from __future__ import annotations

import asyncio

import pytest

from tests.dialog.conftest import ANNA, BORIS, STRANGER, BotUnderTest
from tests.dialog.flows import (
    CANCEL,
    CREATE,
    CREATED,
    EDIT,
    RESEND,
    RETRY,
    SKIP,
    SUMMARY,
    TOMORROW,
    fill_to_summary,
)
from tests.fakes.telegram_api import Chat


@pytest.fixture
def group(app: BotUnderTest) -> Chat:
    return app.fake.add_chat(Chat.group(77, "Операторы"))


@pytest.fixture
def private(app: BotUnderTest) -> Chat:
    return app.fake.add_chat(Chat.private(ANNA))


async def test_two_supervisors_in_one_group_do_not_mix(app: BotUnderTest, group: Chat) -> None:
    fake = app.fake
    assert await app.say(group, ANNA, "/new@campaign_test_bot", reply=False)
    question = fake.last_message(group.id)
    assert question.reply_markup.get("force_reply") is True
    assert question.reply_markup.get("selective") is True
    assert question.reply_to is not None
    assert await app.say(group, BORIS, "/new", reply=False)
    # A plain message (not a reply) never reaches the bot under privacy mode.
    assert not await app.say(group, ANNA, "Обзвон Анны", reply=False)
    anna_q = [m for m in fake.messages(group.id) if "Анна" in (m.text or "")][-1]
    boris_q = [m for m in fake.messages(group.id) if "Борис" in (m.text or "")][-1]
    assert await app.deliver(fake.send_text(group, ANNA, "Обзвон Анны", reply_to=anna_q.message_id))
    assert await app.deliver(
        fake.send_text(group, BORIS, "Обзвон Бориса", reply_to=boris_q.message_id)
    )
    # Interleaved answers; each presses only their own buttons.
    assert await app.press(group, ANNA, SKIP, message=_own(app, group, ANNA.first_name, SKIP))
    assert await app.press(group, BORIS, SKIP, message=_own(app, group, BORIS.first_name, SKIP))
    for user in (ANNA, BORIS):
        assert await app.press(
            group, user, TOMORROW, message=_own(app, group, user.first_name, TOMORROW)
        )
    for user, window in ((ANNA, "9-18"), (BORIS, "10-19")):
        assert await app.say(group, user, window, reply=False) is False  # must be a reply
        assert await app.deliver(
            fake.send_text(group, user, window, reply_to=fake.last_message(group.id).message_id)
        )
    for user in (ANNA, BORIS):
        assert await app.deliver(
            fake.send_text(group, user, "1", reply_to=fake.last_message(group.id).message_id)
        )
    for user, numbers in ((ANNA, "+79161234567"), (BORIS, "+79161234568, +79161234569")):
        assert await app.deliver(
            fake.send_text(group, user, numbers, reply_to=fake.last_message(group.id).message_id)
        )
    # Numbers are masked in a group.
    group_texts = "\n".join(app.texts(group))
    assert "+79161234567" not in group_texts
    assert "+7916***4567" in group_texts
    for user in (BORIS, ANNA):
        summary = _own(app, group, user.first_name, CREATE)
        assert await app.press(group, user, CREATE, message=summary)
    await app.settle()
    bodies = {r.json["campaign"]["name"]: r.json for r in app.api.campaign_requests}
    assert set(bodies) == {"Обзвон Анны", "Обзвон Бориса"}
    assert bodies["Обзвон Анны"]["campaign"]["schedule"]["start_time"] == "09:00"
    assert bodies["Обзвон Бориса"]["campaign"]["schedule"]["start_time"] == "10:00"
    assert len(bodies["Обзвон Бориса"]["phones"]) == 2
    created = [t for t in app.texts(group) if CREATED in t]
    assert len(created) == 2
    assert any("Анна" in t and "Обзвон Анны" in t for t in created)


def _own(app: BotUnderTest, chat: Chat, first_name: str, button: str):
    """The newest message with `button` addressed to the user named `first_name`."""
    for message in reversed(app.fake.messages(chat.id)):
        if first_name in (message.text or "") and any(
            button in b.get("text", "") for b in message.buttons
        ):
            return message
    raise LookupError(button)


async def test_command_for_another_bot_is_ignored(app: BotUnderTest, group: Chat) -> None:
    assert not await app.say(group, ANNA, "/new@other_bot", reply=False)
    assert app.fake.messages(group.id) == []


async def test_stranger_pressing_a_button_changes_nothing(app: BotUnderTest, group: Chat) -> None:
    await _summary_in_group(app, group)
    summary = _own(app, group, ANNA.first_name, CREATE)
    for intruder in (BORIS, STRANGER):
        assert await app.deliver(
            app.fake.press_button(
                group, intruder, summary.message_id, summary.button(CREATE)["callback_data"]
            )
        )
        answer = app.fake.callback_answers[-1]
        assert answer.get("show_alert") is True
    assert app.api.campaign_requests == []
    assert app.fake.message(group.id, summary.message_id).buttons  # still there for Anna


async def _summary_in_group(app: BotUnderTest, group: Chat) -> None:
    fake = app.fake
    assert await app.say(group, ANNA, "/new", reply=False)
    for answer in ("Тест", None, None, "9-18", "1", "+79161234567"):
        if answer is None:
            label = SKIP if SKIP in str(fake.messages(group.id)[-2].keyboard) else TOMORROW
            assert await app.press(group, ANNA, label)
        else:
            assert await app.say(group, ANNA, answer)
    assert SUMMARY in app.last_text(group)


async def test_stranger_gets_their_id_and_nothing_reaches_the_api(app: BotUnderTest) -> None:
    chat = app.fake.add_chat(Chat.private(STRANGER))
    assert await app.say(chat, STRANGER, "/new")
    text = app.last_text(chat)
    assert str(STRANGER.id) in text
    assert app.api.requests == []


async def test_double_tap_creates_one_campaign(app: BotUnderTest, private: Chat) -> None:
    await fill_to_summary(app, private, ANNA)
    summary = app.fake.last_message(private.id)
    data = summary.button(CREATE)["callback_data"]
    taps = [app.fake.press_button(private, ANNA, summary.message_id, data) for _ in range(3)]
    await asyncio.gather(*(app.deliver(t) for t in taps))
    await app.deliver(taps[0])  # a redelivered update
    await app.settle()
    assert len(app.api.campaign_requests) == 1
    assert sum(CREATED in t for t in app.texts(private)) == 1


async def test_rejected_keeps_the_draft_and_retry_works(app: BotUnderTest, private: Chat) -> None:
    app.api.fail_next(status=422, json={"message": "Неверный project_id <x>"})
    await fill_to_summary(app, private, ANNA)
    assert await app.press(private, ANNA, CREATE)
    await app.settle()
    texts = "\n".join(app.texts(private)[-2:])
    assert "Неверный project_id &lt;x&gt;" not in texts and "Неверный project_id <x>" in texts
    last = app.fake.last_message(private.id)
    # A 4xx is a setting retrying cannot fix: no «Retry», the administrator is named; the
    # note is on top of the one summary (no second copy of it).
    assert EDIT in {b["text"] for b in last.buttons}
    assert RETRY not in {b["text"] for b in last.buttons}
    assert "Обзвон не создан" in (last.text or "") and "администратор" in (last.text or "")
    assert sum(SUMMARY in t for t in app.texts(private)) == 1
    # Sending again is still possible, typed.
    assert await app.say(private, ANNA, "создать")
    await app.settle()
    assert len(app.api.campaign_requests) == 2
    assert CREATED in app.last_text(private)


async def test_unavailable_service_offers_retry_first(app: BotUnderTest, private: Chat) -> None:
    app.api.fail_next(status=503, json={"message": "Service Temporarily Unavailable"})
    await fill_to_summary(app, private, ANNA)
    assert await app.press(private, ANNA, CREATE)
    await app.settle()
    last = app.fake.last_message(private.id)
    text = last.text or ""
    assert text.startswith("⏳ Сервис обзвонов временно недоступен. Обзвон не создан")
    assert text.index("Service Temporarily Unavailable") > text.index("Обзвон не создан")
    assert last.buttons[0]["text"] == RETRY
    assert await app.press(private, ANNA, RETRY)
    await app.settle()
    assert CREATED in app.last_text(private)


async def test_unreachable_says_so_and_offers_retry(app: BotUnderTest, private: Chat) -> None:
    await fill_to_summary(app, private, ANNA)
    await app.api.stop()
    assert await app.press(private, ANNA, CREATE)
    await app.settle()
    assert "недоступ" in "\n".join(app.texts(private)[-2:]).lower()
    assert RETRY in {b["text"] for b in app.fake.last_message(private.id).buttons}


async def test_unknown_outcome_is_never_resent_by_itself(app: BotUnderTest, private: Chat) -> None:
    app.api.fail_next(delay=5.0)  # longer than the client's read timeout
    await fill_to_summary(app, private, ANNA)
    assert await app.press(private, ANNA, CREATE)
    await app.settle()
    assert len(app.api.campaign_requests) == 1
    assert "возможно, уже создан" in "\n".join(app.texts(private)[-2:]).lower()
    buttons = {b["text"] for b in app.fake.last_message(private.id).buttons}
    assert RESEND in buttons and CREATE not in buttons
    assert await app.press(private, ANNA, RESEND)
    await app.settle()
    assert len(app.api.campaign_requests) == 2
    assert CREATED in app.last_text(private)


async def test_cancel_button_forgets_the_draft(app: BotUnderTest, private: Chat) -> None:
    await fill_to_summary(app, private, ANNA)
    assert await app.press(private, ANNA, CANCEL)
    assert await app.say(private, ANNA, "создать")
    assert app.api.requests == []


async def test_submission_cut_short_by_a_restart_is_not_resent_by_itself(
    app: BotUnderTest, private: Chat
) -> None:
    """A mark left by a process that died mid-POST: say the campaign may exist."""
    from aiogram.fsm.storage.base import StorageKey

    await fill_to_summary(app, private, ANNA)
    key = StorageKey(bot_id=app.bot.id, chat_id=private.id, user_id=ANNA.id)
    await app.backend.storage.update_data(key, {"submit": "in_flight", "submit_started": 1.0})
    assert await app.say(private, ANNA, "создать")
    assert app.api.campaign_requests == []
    assert "возможно, уже создан" in app.last_text(private).lower()
    assert await app.press(private, ANNA, RESEND)
    await app.settle()
    assert len(app.api.campaign_requests) == 1
    assert CREATED in app.last_text(private)


async def test_a_dialog_in_a_forum_topic_stays_in_that_topic(
    app: BotUnderTest, group: Chat
) -> None:
    fake = app.fake
    command = {
        "text": "/new",
        "entities": [{"type": "bot_command", "offset": 0, "length": 4}],
        "is_topic_message": True,
        "message_thread_id": 42,
    }
    assert await app.deliver(fake.send_message(group, ANNA, command))
    question = fake.last_message(group.id)
    topic = {"is_topic_message": True, "message_thread_id": 42}
    assert await app.deliver(
        fake.send_message(group, ANNA, {"text": "Тест", **topic}, reply_to=question.message_id)
    )
    assert await app.press(group, ANNA, SKIP)
    sent = [r.params for r in fake.calls("sendMessage")]
    assert len(sent) >= 4
    assert all(str(p.get("message_thread_id")) == "42" for p in sent), sent


async def test_telegram_failing_at_submit_leaves_the_draft_usable(
    app: BotUnderTest, private: Chat
) -> None:
    await fill_to_summary(app, private, ANNA)
    # Both ways the progress could be shown fail: nothing may be sent, nothing locked.
    app.fake.fail_next("editMessageText", error_code=400, description="Bad Request: boom")
    app.fake.fail_next("editMessageReplyMarkup", error_code=400, description="Bad Request: boom")
    app.fake.fail_next("sendMessage", error_code=500, description="Internal Server Error")
    assert await app.press(private, ANNA, CREATE)
    await app.settle()
    assert app.api.campaign_requests == []
    assert await app.say(private, ANNA, "создать")
    await app.settle()
    assert len(app.api.campaign_requests) == 1
    assert CREATED in app.last_text(private)
