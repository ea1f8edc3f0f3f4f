"""Reusable walks through the wizard, as a supervisor would do them."""

from __future__ import annotations

import io

import openpyxl

from tests.dialog.conftest import BotUnderTest
from tests.fakes.telegram_api import Chat, User

CREATE = "✅ Создать"
EDIT = "✏️ Изменить"
CANCEL = "✖️ Отменить"
RETRY = "🔁 Повторить"
RESEND = "⚠️ Отправить ещё раз"
SKIP = "Пропустить"
TOMORROW = "Завтра"
TODAY = "Сегодня"
BACK = "« Назад"
CREATED = "Обзвон №"
SUMMARY = "Проверьте обзвон"


def contacts_xlsx() -> bytes:
    """A workbook as supervisors export it: numbers stored as numbers, a time column."""
    import datetime as dt

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Телефон", "name", "time"])
    sheet.append([79161234567, "Иванов Иван", dt.time(10, 0)])
    sheet.append(["8 (916) 123-45-68", "Петрова Анна", dt.time(15, 5)])
    sheet.append([79161234567, "Дубль", dt.time(11, 0)])
    sheet.append(["12345", "Плохой", dt.time(12, 0)])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def fill_until_phones(
    app: BotUnderTest, chat: Chat, user: User, *, name: str = "Долги ноябрь",
    attempts: str = "3",
) -> None:
    """/new, then name, skip description, tomorrow, 9-18, attempts, 15 minutes."""
    assert await app.say(chat, user, "/new", reply=False)
    assert await app.say(chat, user, name)
    assert await app.press(chat, user, SKIP)
    assert await app.press(chat, user, TOMORROW)
    assert await app.say(chat, user, "9-18")
    assert await app.say(chat, user, attempts)
    if attempts != "1":
        assert await app.say(chat, user, "15")


async def fill_to_summary(app: BotUnderTest, chat: Chat, user: User, **kwargs: str) -> None:
    await fill_until_phones(app, chat, user, **kwargs)
    assert await app.say(chat, user, "+79161234567, 8 916 123-45-68")
    assert SUMMARY in app.last_text(chat)
