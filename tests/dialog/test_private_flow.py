"""Whole campaigns in a private chat, through the real Dispatcher and the fakes."""

from __future__ import annotations

import pytest

from tests.dialog.conftest import ANNA, BotUnderTest
from tests.dialog.flows import (
    BACK,
    CREATE,
    CREATED,
    EDIT,
    SKIP,
    SUMMARY,
    TOMORROW,
    contacts_xlsx,
    fill_to_summary,
    fill_until_phones,
)
from tests.fakes.telegram_api import Chat


@pytest.fixture
def chat(app: BotUnderTest) -> Chat:
    return app.fake.add_chat(Chat.private(ANNA))


async def test_full_campaign_with_xlsx(app: BotUnderTest, chat: Chat) -> None:
    await fill_until_phones(app, chat, ANNA)
    assert await app.upload(chat, ANNA, contacts_xlsx(), "Клиенты.xlsx")
    texts = "\n".join(app.texts(chat))
    assert "принято: <b>2</b>" not in texts  # HTML is rendered, not shown
    assert "принято: 2" in texts
    # one row rejected -> a report file was sent
    report = [m for m in app.fake.messages(chat.id) if m.document]
    assert report and report[-1].document["file_name"].endswith(".xlsx")
    summary = app.last_text(chat)
    assert SUMMARY in summary
    assert "Долги ноябрь" in summary
    assert "сб, 28 ноября" in summary
    assert "09:00–18:00" in summary and "Екб, UTC+5" in summary
    assert "Asia/Yekaterinburg" not in summary  # the city, not the zone database name
    assert "Номеров: 2" in summary
    assert "name, time" in summary

    assert await app.press(chat, ANNA, CREATE)
    await app.settle()
    assert len(app.api.campaign_requests) == 1
    body = app.api.campaign_requests[0].json
    assert body["campaign"] == {
        "project_id": 1,
        "name": "Долги ноябрь",
        "description": "",
        "start_block_id": 10,
        "schedule": {
            "date": "2026-11-28",
            "start_time": "09:00",
            "end_time": "18:00",
            "periods": {"id": 1, "title": "Однократно"},
            "attempts": {"id": 3, "title": "3"},
            "interval": "15",
        },
        "state": "Создано",
        "phone_id": 5,
    }
    assert body["phones"] == [
        {"phone": "+79161234567", "add_data": {"name": "Иванов Иван", "time": "10:00"}},
        {"phone": "+79161234568", "add_data": {"name": "Петрова Анна", "time": "15:05"}},
    ]
    result = app.last_text(chat)
    [campaign_id] = app.api.created
    assert f"{CREATED} {campaign_id}" in result
    assert "Долги ноябрь" in result and "номеров: 2" in result
    assert "Автор: Анна" in result  # in a private chat too
    # The card took the summary's place: no summary is left standing above it.
    assert not any(SUMMARY in t for t in app.texts(chat))
    assert await app.backend.storage.get_state(_key(app, chat)) is None


def _key(app: BotUnderTest, chat: Chat):
    from aiogram.fsm.storage.base import StorageKey

    return StorageKey(bot_id=app.bot.id, chat_id=chat.id, user_id=ANNA.id)


async def test_a_private_campaign_leaves_at_most_four_bot_messages(
    app: BotUnderTest, chat: Chat
) -> None:
    """/new to the ID through the real Dispatcher: the live wizard message, the import
    report, the rejected-rows file, the result. Every step edits the one live message,
    typed answers too, and counts «шаг n из m» with the answers folded above."""
    assert await app.say(chat, ANNA, "/new")
    live = app.fake.last_message(chat.id)
    assert live is not None and "шаг 1 из 7" in (live.text or "")
    assert await app.say(chat, ANNA, "Долги ноябрь")
    assert await app.press(chat, ANNA, SKIP)
    assert await app.press(chat, ANNA, TOMORROW)
    assert await app.say(chat, ANNA, "25-30")  # refused: the error on top, same message
    refused = app.fake.last_message(chat.id)
    assert refused is not None and refused.message_id == live.message_id
    text = refused.text or ""
    assert text.index("❗") < text.index("В какие часы звонить")
    assert "✓ Долги ноябрь" in text and "✓ без описания" in text and "шаг 4 из 7" in text
    assert "Екб, UTC+5" in text  # the call centre's zone named in the window question
    assert await app.say(chat, ANNA, "9-18")
    assert await app.say(chat, ANNA, "3")
    assert await app.say(chat, ANNA, "15")
    assert [m.message_id for m in app.fake.messages(chat.id)] == [live.message_id]
    assert "✖️ Отмена" in {b["text"] for b in app.fake.last_message(chat.id).buttons}
    assert await app.upload(chat, ANNA, contacts_xlsx(), "Клиенты.xlsx")
    summary = app.last_text(chat)
    assert SUMMARY in summary and len(summary.split("\n")) <= 8
    assert "project_id" not in summary and "phone_id" not in summary
    assert await app.press(chat, ANNA, CREATE)
    await app.settle()
    left = app.fake.messages(chat.id)
    assert len(left) <= 4, [m.text or m.caption for m in left]
    assert sum(bool(m.document) for m in left) == 1  # the rejected-rows file
    assert CREATED in (left[-1].text or "")


async def test_full_campaign_with_pasted_numbers_and_one_attempt(
    app: BotUnderTest, chat: Chat
) -> None:
    await fill_until_phones(app, chat, ANNA, attempts="1")
    assert await app.say(chat, ANNA, "+7 916 123-45-67\n89161234568; 9161234569 abc")
    summary = app.last_text(chat)
    assert "Номеров: 3" in summary
    # Interval not asked: one attempt has none to show (the default is sent).
    assert "Попытки: 1" in summary and "через" not in summary
    assert await app.press(chat, ANNA, CREATE)
    await app.settle()
    body = app.api.campaign_requests[0].json
    assert body["campaign"]["schedule"]["attempts"] == {"id": 1, "title": "1"}
    assert body["campaign"]["schedule"]["interval"] == "5"
    assert [p["phone"] for p in body["phones"]] == ["+79161234567", "+79161234568",
                                                    "+79161234569"]
    assert all(p["add_data"] == {} for p in body["phones"])


async def test_html_in_name_is_escaped(app: BotUnderTest, chat: Chat) -> None:
    await fill_to_summary(app, chat, ANNA, name="<b>VIP</b> & co")
    summary = app.fake.last_message(chat.id)
    assert "<b>VIP</b> & co" in summary.text  # shown literally, not parsed
    assert await app.press(chat, ANNA, CREATE)
    await app.settle()
    assert app.api.campaign_requests[0].json["campaign"]["name"] == "<b>VIP</b> & co"


@pytest.mark.parametrize(
    ("step", "answer", "reason"),
    [
        ("date", "26.11.2026", "прошла"),
        ("date", "31.02.2027", "такой даты не существует"),
        ("window", "18-9", "позже начала"),
        ("attempts", "7", "от 1 до 5"),
    ],
)
async def test_validation_refusals_repeat_the_question(
    app: BotUnderTest, chat: Chat, step: str, answer: str, reason: str
) -> None:
    assert await app.say(chat, ANNA, "/new")
    assert await app.say(chat, ANNA, "Тест")
    assert await app.press(chat, ANNA, SKIP)
    if step != "date":
        assert await app.press(chat, ANNA, TOMORROW)
    if step == "attempts":
        assert await app.say(chat, ANNA, "9-18")
    before = await app.backend.storage.get_state(_key(app, chat))
    assert await app.say(chat, ANNA, answer)
    text = app.last_text(chat)
    assert reason in text.lower()
    assert await app.backend.storage.get_state(_key(app, chat)) == before


async def test_window_for_today_must_still_be_ahead(app: BotUnderTest, chat: Chat) -> None:
    assert await app.say(chat, ANNA, "/new")
    assert await app.say(chat, ANNA, "Тест")
    assert await app.press(chat, ANNA, SKIP)
    assert await app.say(chat, ANNA, "сегодня")  # it is 10:00 on the test clock
    assert await app.say(chat, ANNA, "8-9")
    assert "10:00" in app.last_text(chat)
    assert await app.say(chat, ANNA, "8-12")
    assert "попыт" in app.last_text(chat).lower()


async def test_wrong_kind_of_input_gets_a_hint(app: BotUnderTest, chat: Chat) -> None:
    assert await app.say(chat, ANNA, "/new")
    assert await app.deliver(app.fake.send_sticker(chat, ANNA))
    assert "Название" in app.last_text(chat) or "назов" in app.last_text(chat).lower()
    assert await app.say(chat, ANNA, "Тест")
    assert await app.deliver(app.fake.send_photo(chat, ANNA))
    assert "описан" in app.last_text(chat).lower()


async def test_back_and_edit_return_to_the_summary(app: BotUnderTest, chat: Chat) -> None:
    assert await app.say(chat, ANNA, "/new")
    assert await app.say(chat, ANNA, "Тест")
    assert await app.press(chat, ANNA, BACK)
    assert "назов" in app.last_text(chat).lower()
    assert await app.say(chat, ANNA, "Тест 2")
    assert await app.press(chat, ANNA, SKIP)
    assert await app.press(chat, ANNA, TOMORROW)
    assert await app.say(chat, ANNA, "9-18")
    assert await app.say(chat, ANNA, "2")
    assert await app.say(chat, ANNA, "10")
    assert await app.say(chat, ANNA, "+79161234567")
    assert SUMMARY in app.last_text(chat)
    assert await app.press(chat, ANNA, EDIT)
    assert await app.press(chat, ANNA, "« К сводке")
    assert SUMMARY in app.last_text(chat)
    assert await app.press(chat, ANNA, EDIT)
    assert await app.press(chat, ANNA, "Время")
    assert await app.say(chat, ANNA, "с 10 до 19")
    summary = app.last_text(chat)
    assert SUMMARY in summary and "10:00–19:00" in summary and "Тест 2" in summary
    assert await app.press(chat, ANNA, CREATE)
    await app.settle()
    assert app.api.campaign_requests[0].json["campaign"]["schedule"]["start_time"] == "10:00"


async def test_cancel_and_stale_buttons(app: BotUnderTest, chat: Chat) -> None:
    await fill_to_summary(app, chat, ANNA)
    summary = app.fake.last_message(chat.id)
    create = summary.button(CREATE)["callback_data"]
    assert await app.say(chat, ANNA, "/cancel")
    assert "отмен" in app.last_text(chat).lower()
    assert await app.deliver(app.fake.press_button(chat, ANNA, summary.message_id, create))
    answer = app.fake.callback_answers[-1]
    assert "заверш" in (answer.get("text") or "").lower()
    assert app.api.campaign_requests == []


async def test_no_valid_phone_stays_on_the_step(app: BotUnderTest, chat: Chat) -> None:
    await fill_until_phones(app, chat, ANNA)
    assert await app.say(chat, ANNA, "12345, abc")
    assert "нет ни одного" in app.last_text(chat).lower() or "список" in app.last_text(
        chat).lower()
    assert await app.upload(chat, ANNA, b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "list.xlsx")
    assert "не таблица" in "\n".join(app.texts(chat)[-3:]).lower()
    assert await app.say(chat, ANNA, "+79161234567")
    assert SUMMARY in app.last_text(chat)


async def test_attempts_that_do_not_fit_the_window_are_warned_not_refused(
    app: BotUnderTest, chat: Chat
) -> None:
    assert await app.say(chat, ANNA, "/new")
    assert await app.say(chat, ANNA, "Тест")
    assert await app.press(chat, ANNA, SKIP)
    assert await app.press(chat, ANNA, TOMORROW)
    assert await app.say(chat, ANNA, "9-10")
    assert await app.say(chat, ANNA, "5")
    assert await app.say(chat, ANNA, "2 ч")
    assert await app.say(chat, ANNA, "+79161234567")
    summary = app.last_text(chat)
    assert SUMMARY in summary and "⚠️" in summary and "120" in summary
    assert await app.press(chat, ANNA, CREATE)
    await app.settle()
    schedule = app.api.campaign_requests[0].json["campaign"]["schedule"]
    assert schedule["attempts"] == {"id": 5, "title": "5"} and schedule["interval"] == "120"


async def test_a_document_where_text_is_wanted_gets_a_hint(app: BotUnderTest, chat: Chat) -> None:
    assert await app.say(chat, ANNA, "/new")
    assert await app.upload(chat, ANNA, b"+79161234567", "numbers.txt")
    text = app.last_text(chat)
    assert "❗" in text and "Как назовём обзвон" in text
    assert app.api.requests == []


async def test_a_failing_handler_still_answers_and_keeps_the_draft(
    app: BotUnderTest, chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses

    from bot.dialog.steps import BY_CODE

    assert await app.say(chat, ANNA, "/new")

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setitem(BY_CODE, "nm", dataclasses.replace(BY_CODE["nm"], apply=broken))
    assert await app.say(chat, ANNA, "Тест")
    assert "Что-то пошло не так" in app.last_text(chat)
    monkeypatch.undo()
    assert await app.say(chat, ANNA, "Тест")
    # The live question (above the error note) moved on to the description.
    assert "Описание" in (app.message_with_button(chat, SKIP).text or "")


async def test_a_shared_contact_card_is_a_phone_list(app: BotUnderTest, chat: Chat) -> None:
    await fill_until_phones(app, chat, ANNA, attempts="1")
    contact = {"contact": {"phone_number": "79161234567", "first_name": "Иван"}}
    assert await app.deliver(app.fake.send_message(chat, ANNA, contact))
    assert "Номеров: 1" in app.last_text(chat)
    assert await app.press(chat, ANNA, CREATE)
    await app.settle()
    assert app.api.campaign_requests[0].json["phones"] == [
        {"phone": "+79161234567", "add_data": {}}
    ]
