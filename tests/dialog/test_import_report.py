"""The import report as a supervisor reads it: plain counters, one short example, the
phone column named also without a header, the rejected-rows file also when nothing was
accepted (then most of all), numbers formatted alike in the report and the caption."""

from __future__ import annotations

import pytest

from tests.dialog.conftest import ANNA, BotUnderTest
from tests.dialog.flows import fill_until_phones
from tests.fakes.telegram_api import Chat


@pytest.fixture
def chat(app: BotUnderTest) -> Chat:
    return app.fake.add_chat(Chat.private(ANNA))


async def test_nothing_accepted_is_one_report_with_the_rejected_rows(
    app: BotUnderTest, chat: Chat
) -> None:
    await fill_until_phones(app, chat, ANNA)
    csv = "Телефон;Имя\n12345;Иванов\nабв;Петров\n".encode()
    assert await app.upload(chat, ANNA, csv, "list.csv")
    messages = app.fake.messages(chat.id)
    reports = [m for m in messages if "Список прочитан" in (m.text or "")]
    assert len(reports) == 1
    assert "нет ни одного подходящего номера" in (reports[0].text or "")
    files = [m for m in messages if m.document]
    assert len(files) == 1 and files[0].document["file_name"] == "rejected.xlsx"
    assert "Отклонённые строки: 2" in (files[0].caption or "")
    # The question again, below the report.
    assert "Пришлите список" in app.last_text(chat)


async def test_a_headerless_file_names_its_column_and_what_was_left_out(
    app: BotUnderTest, chat: Chat
) -> None:
    await fill_until_phones(app, chat, ANNA)
    csv = "Иванов;+79161234567;10:00\nПетрова;89161234568;11:00\n".encode()
    assert await app.upload(chat, ANNA, csv, "list.csv")
    report = next(m.text or "" for m in app.fake.messages(chat.id)
                  if "Список прочитан" in (m.text or ""))
    assert "Номера из 2-й колонки; колонки без заголовка в сценарий не попали" in report
    assert "Строк: 2 · принято: 2" in report


async def test_counters_are_plain_and_the_example_is_one_short_row(
    app: BotUnderTest, chat: Chat
) -> None:
    await fill_until_phones(app, chat, ANNA)
    rows = ["Телефон;Имя;Город;Долг", "8 916 123-45-67;Иванов;Москва;100",
            "+7 916 123-45-67;Иванов;Москва;100", "+375 29 123-45-67;Петров;Минск;200"]
    assert await app.upload(chat, ANNA, "\n".join(rows).encode(), "list.csv")
    report = next(m.text or "" for m in app.fake.messages(chat.id)
                  if "Список прочитан" in (m.text or ""))
    assert "Повторы убраны: 1" in report
    assert "Иностранные (будут в обзвоне): 1 — BY" in report
    assert "Номера из колонки «Телефон»" in report
    [example] = [line for line in report.split("\n") if line.startswith("Пример")]
    assert example.count("·") <= 2  # at most three fields
