"""Presets (scenarios, callers, group defaults), access rules, language and help."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dialog.conftest import ANNA, BORIS, STRANGER, BotUnderTest
from tests.dialog.flows import CREATE, SKIP, SUMMARY, TOMORROW
from tests.fakes.telegram_api import Chat

PRESETS = """
[[scenarios]]
key = "debt"
title = "Долги"
project_id = 7
start_block_id = 70
params = ["name", "amount"]

[[scenarios]]
key = "survey"
title = "Опрос"
project_id = 8
start_block_id = 80

[[callers]]
key = "main"
title = "Основной"
phone_id = 11

[[callers]]
key = "spare"
title = "Запасной"
phone_id = 12

[chats."-1000000000077"]
scenario = "survey"
"""


@pytest.fixture
def presets_file(tmp_path: Path) -> Path:
    path = tmp_path / "presets.toml"
    path.write_text(PRESETS, encoding="utf-8")
    return path


async def test_scenario_and_caller_are_asked_and_sent(make_bot_under_test, presets_file) -> None:
    app: BotUnderTest = make_bot_under_test(presets_file=presets_file)
    chat = app.fake.add_chat(Chat.private(ANNA))
    assert await app.say(chat, ANNA, "/new")
    assert "сценарий" in app.last_text(chat).lower()
    assert await app.press(chat, ANNA, "1. Долги")
    assert await app.say(chat, ANNA, "запасной")  # typed, by title
    assert await app.say(chat, ANNA, "Тест")
    assert await app.press(chat, ANNA, SKIP)
    assert await app.press(chat, ANNA, TOMORROW)
    assert await app.say(chat, ANNA, "9-18")
    assert await app.say(chat, ANNA, "1")
    csv = "Телефон;name\r\n89161234567;Иван\r\n".encode("cp1251")
    assert await app.upload(chat, ANNA, csv, "list.csv")
    texts = "\n".join(app.texts(chat)[-3:])
    assert "amount" in texts  # the scenario's parameter the file lacks, said before sending
    summary = app.last_text(chat)
    assert SUMMARY in summary and "Долги" in summary and "Запасной" in summary
    assert await app.press(chat, ANNA, CREATE)
    await app.settle()
    campaign = app.api.campaign_requests[0].json["campaign"]
    assert (campaign["project_id"], campaign["start_block_id"], campaign["phone_id"]) == (
        7, 70, 12)


async def test_group_default_scenario_skips_the_question(make_bot_under_test,
                                                         presets_file) -> None:
    app: BotUnderTest = make_bot_under_test(presets_file=presets_file)
    group = app.fake.add_chat(Chat.group(77, "Операторы"))
    assert await app.say(group, ANNA, "/new", reply=False)
    assert "номер" in app.texts(group)[-2].lower()  # straight to the caller question
    assert "сценарий" not in app.texts(group)[-2].lower()


async def test_member_of_an_allowed_chat_may_use_the_bot(make_bot_under_test) -> None:
    group = Chat.group(55, "Команда")
    app: BotUnderTest = make_bot_under_test(allowed_user_ids=[], allowed_chat_ids=[group.id])
    app.fake.set_member(group, BORIS)
    boris = app.fake.add_chat(Chat.private(BORIS))
    assert await app.say(boris, BORIS, "/new")
    assert "назов" in app.last_text(boris).lower()
    stranger = app.fake.add_chat(Chat.private(STRANGER))
    assert await app.say(stranger, STRANGER, "/new")
    assert str(STRANGER.id) in app.last_text(stranger)
    # In the allowed group itself anyone who writes there is a member.
    app.fake.add_chat(group)
    assert await app.say(group, STRANGER, "/new", reply=False)
    assert "назов" in app.texts(group)[-1].lower()


async def test_nobody_allowed_when_both_lists_are_empty(make_bot_under_test, caplog) -> None:
    app: BotUnderTest = make_bot_under_test(allowed_user_ids=[], allowed_chat_ids=[])
    assert "nobody may use the bot" in caplog.text
    chat = app.fake.add_chat(Chat.private(ANNA))
    assert await app.say(chat, ANNA, "/new")
    assert str(ANNA.id) in app.last_text(chat)


async def test_language_switch_to_english_and_back(app: BotUnderTest) -> None:
    chat = app.fake.add_chat(Chat.private(ANNA))
    assert await app.say(chat, ANNA, "/language")
    assert await app.press(chat, ANNA, "English")
    assert await app.say(chat, ANNA, "/new")
    assert "What shall we call the campaign?" in app.last_text(chat)
    assert await app.say(chat, ANNA, "/cancel")
    assert "Cancelled" in app.last_text(chat)
    assert await app.say(chat, ANNA, "/language")
    assert await app.say(chat, ANNA, "русский")
    assert await app.say(chat, ANNA, "/new")
    assert "Как назовём обзвон" in app.last_text(chat)


async def test_telegram_language_code_does_not_matter(app: BotUnderTest) -> None:
    from tests.fakes.telegram_api import User

    english_phone = User(id=ANNA.id, first_name="Anna", language_code="en")
    chat = app.fake.add_chat(Chat.private(english_phone))
    assert await app.say(chat, english_phone, "/new")
    assert "Как назовём обзвон" in app.last_text(chat)


async def test_start_and_help_with_an_example_file(app: BotUnderTest) -> None:
    chat = app.fake.add_chat(Chat.private(ANNA))
    assert await app.say(chat, ANNA, "/start")
    assert "/new" in app.last_text(chat)
    assert await app.say(chat, ANNA, "/help")
    example = app.fake.last_message(chat.id)
    assert example.document is not None
    assert example.file is not None
    from bot.phones import ingest_bytes

    result = ingest_bytes(example.file.data, example.document["file_name"])
    assert result.accepted == 2 and result.phones.keys == ["name", "time"]


async def test_calendar_pages_months_and_hides_past_days(app: BotUnderTest) -> None:
    chat = app.fake.add_chat(Chat.private(ANNA))
    assert await app.say(chat, ANNA, "/new")
    assert await app.say(chat, ANNA, "Тест")
    assert await app.press(chat, ANNA, SKIP)
    # Quick picks first; «Another date» opens the month in the same message.
    assert await app.press(chat, ANNA, "📅 Другая дата")
    calendar = app.fake.last_message(chat.id)
    labels = [b["text"] for b in calendar.buttons]
    assert "Ноябрь 2026" in labels
    assert "26" not in labels and "•27•" in labels and "28" in labels
    assert "‹" not in labels  # no paging into the past
    assert await app.press(chat, ANNA, "›", message=calendar)
    december = app.fake.message(chat.id, calendar.message_id)
    assert "Декабрь 2026" in [b["text"] for b in december.buttons]
    assert await app.press(chat, ANNA, "31", message=december)
    assert await app.say(chat, ANNA, "9-18")
    assert await app.say(chat, ANNA, "1")
    assert await app.say(chat, ANNA, "+79161234567")
    assert "чт, 31 декабря" in app.last_text(chat)


async def test_long_column_names_keep_messages_within_limits(app: BotUnderTest) -> None:
    chat = app.fake.add_chat(Chat.private(ANNA))
    assert await app.say(chat, ANNA, "/new")
    assert await app.say(chat, ANNA, "<i>" * 30)
    assert await app.press(chat, ANNA, SKIP)
    assert await app.press(chat, ANNA, TOMORROW)
    assert await app.say(chat, ANNA, "9-18")
    assert await app.say(chat, ANNA, "1")
    header = ";".join(["Телефон", *(f"<колонка {i}> " + "x" * 900 for i in range(150))])
    row = ";".join(["89161234567", *("v" for _ in range(150))])
    assert await app.upload(chat, ANNA, f"{header}\r\n{row}\r\n".encode(), "wide.csv")
    summary = app.fake.last_message(chat.id)
    assert SUMMARY in summary.text
    assert len(summary.text) <= 4096
    assert all(len(m.text or "") <= 4096 for m in app.fake.messages(chat.id))
    assert all(
        len(b["callback_data"].encode()) <= 64
        for m in app.fake.messages(chat.id) for b in m.buttons if "callback_data" in b
    )


async def test_a_file_over_the_size_limit_is_refused_before_download(make_bot_under_test) -> None:
    app: BotUnderTest = make_bot_under_test(max_file_mb=0.001)  # about 1 KB
    chat = app.fake.add_chat(Chat.private(ANNA))
    assert await app.say(chat, ANNA, "/new")
    assert await app.say(chat, ANNA, "Тест")
    assert await app.press(chat, ANNA, SKIP)
    assert await app.press(chat, ANNA, TOMORROW)
    assert await app.say(chat, ANNA, "9-18")
    assert await app.say(chat, ANNA, "1")
    big = ("Телефон\n" + "+79161234567\n" * 200).encode()
    assert await app.upload(chat, ANNA, big, "big.csv")
    text = app.last_text(chat)
    assert "слишком большой" in text.lower() and "Пришлите список" in text
    assert app.fake.calls("getFile") == []
