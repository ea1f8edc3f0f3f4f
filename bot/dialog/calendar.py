"""An inline month calendar: names from Babel, past days not offered, months paged."""

from __future__ import annotations

import calendar
import datetime as dt

from aiogram.types import InlineKeyboardButton
from babel.dates import get_day_names, get_month_names

from bot.dialog.callbacks import Answer, CalendarPage, Ignore

MONTHS_AHEAD = 12


def month_start(date: dt.date) -> dt.date:
    return date.replace(day=1)


def shift_month(month: dt.date, delta: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + delta
    return dt.date(index // 12, index % 12 + 1, 1)


def calendar_rows(
    *, owner: int, dialog: str, month: dt.date, today: dt.date, locale: str
) -> list[list[InlineKeyboardButton]]:
    month = month_start(month)
    first = month_start(today)
    last = shift_month(first, MONTHS_AHEAD)
    month = min(max(month, first), last)
    inert = Ignore().pack()

    def page(target: dt.date) -> str:
        return CalendarPage(owner=owner, dialog=dialog, month=f"{target:%Y-%m}").pack()

    title = get_month_names("wide", context="stand-alone", locale=locale)[month.month]
    prev_button = (
        InlineKeyboardButton(text="‹", callback_data=page(shift_month(month, -1)))
        if month > first
        else InlineKeyboardButton(text=" ", callback_data=inert)
    )
    next_button = (
        InlineKeyboardButton(text="›", callback_data=page(shift_month(month, 1)))
        if month < last
        else InlineKeyboardButton(text=" ", callback_data=inert)
    )
    rows = [
        [
            prev_button,
            InlineKeyboardButton(text=f"{title.capitalize()} {month.year}", callback_data=inert),
            next_button,
        ]
    ]
    day_names = get_day_names("abbreviated", context="stand-alone", locale=locale)
    rows.append(
        [
            InlineKeyboardButton(text=day_names[i].capitalize(), callback_data=inert)
            for i in range(7)
        ]
    )
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(month.year, month.month):
        row = []
        for day in week:
            if day.month != month.month or day < today:
                row.append(InlineKeyboardButton(text=" ", callback_data=inert))
            else:
                label = f"•{day.day}•" if day == today else str(day.day)
                row.append(
                    InlineKeyboardButton(
                        text=label,
                        callback_data=Answer(
                            owner=owner, dialog=dialog, field="dt", value=day.isoformat()
                        ).pack(),
                    )
                )
        # Weeks already past would only be blank rows on a narrow screen.
        if any(button.callback_data != inert for button in row):
            rows.append(row)
    return rows
