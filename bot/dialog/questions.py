"""Each step's question: its text, its buttons, and the hint shown in the reply field.

A builder gets an `AskContext` and returns a `Question`; the table (bot/dialog/steps.py)
names the builder of each step. «Back» and «Cancel» are added by the screen, for all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from aiogram import html
from aiogram.types import InlineKeyboardButton
from aiogram.utils.i18n import gettext as _
from babel.dates import format_date

from bot.campaigns.model import MAX_ATTEMPTS, MIN_ATTEMPTS
from bot.dialog.calendar import calendar_rows
from bot.dialog.callbacks import Answer, CalendarPage
from bot.dialog.draft import Draft
from bot.dialog.render import zone_label
from bot.dialog.states import StepCode
from bot.presets import Presets

WINDOW_PRESETS = ("09:00-18:00", "09:00-21:00", "10:00-19:00", "12:00-20:00")
INTERVAL_PRESETS = (5, 10, 15, 30, 60, 120)
WORKING_DAYS_OFFERED = 2  # after «Today» and «Tomorrow»: a phone screen's row
EXAMPLE_DAYS_AHEAD = 7


@dataclass
class Question:
    text: str
    placeholder: str
    rows: list[list[InlineKeyboardButton]] = field(default_factory=list)


@dataclass(frozen=True)
class AskContext:
    draft: Draft
    owner: int
    presets: Presets
    now: dt.datetime  # in the call centre's zone
    tz_name: str
    locale: str
    month: dt.date | None = None  # the date step shows this month's calendar

    @property
    def today(self) -> dt.date:
        return self.now.date()

    def answer(self, code: StepCode, value: str, text: str) -> InlineKeyboardButton:
        data = Answer(owner=self.owner, dialog=self.draft.dialog, field=code, value=value)
        return InlineKeyboardButton(text=text, callback_data=data.pack())


def ask_scenario(ctx: AskContext) -> Question:
    q = Question(_("Which scenario?"), _("Scenario name or number"))
    q.rows = [
        [ctx.answer(StepCode.SCENARIO, s.key, f"{i}. {s.title}")]
        for i, s in enumerate(ctx.presets.scenarios, 1)
    ]
    return q


def ask_caller(ctx: AskContext) -> Question:
    q = Question(_("Which number do we call from?"), _("Caller name or number"))
    q.rows = [
        [ctx.answer(StepCode.CALLER, c.key, f"{i}. {c.title}")]
        for i, c in enumerate(ctx.presets.callers, 1)
    ]
    return q


def ask_name(ctx: AskContext) -> Question:
    q = Question(_("What shall we call the campaign?"), _("E.g. Debt reminder"))
    if ctx.draft.name:
        q.text += "\n" + _("Now: {value}").format(value=html.quote(ctx.draft.name))
    return q


def ask_description(ctx: AskContext) -> Question:
    q = Question(_("Description (optional): type it or press «Skip»."), _("Description"))
    q.rows = [[ctx.answer(StepCode.DESCRIPTION, "-", _("Skip"))]]
    return q


def next_working_days(after: dt.date, count: int) -> list[dt.date]:
    days: list[dt.date] = []
    day = after
    while len(days) < count:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            days.append(day)
    return days


def ask_date(ctx: AskContext) -> Question:
    example = ctx.today + dt.timedelta(days=EXAMPLE_DAYS_AHEAD)
    q = Question(
        _("When do we start? Pick a day or type a date, e.g. {example}.").format(
            example=f"{example:%d.%m}"
        ),
        _("DD.MM"),
    )
    if ctx.month is not None:  # «Another date»: the month calendar
        q.rows = calendar_rows(
            owner=ctx.owner,
            dialog=ctx.draft.dialog,
            month=ctx.month,
            today=ctx.today,
            locale=ctx.locale,
        )
        return q
    tomorrow = ctx.today + dt.timedelta(days=1)
    q.rows = [
        [
            ctx.answer(StepCode.DATE, ctx.today.isoformat(), _("Today")),
            ctx.answer(StepCode.DATE, tomorrow.isoformat(), _("Tomorrow")),
        ],
        [
            ctx.answer(
                StepCode.DATE,
                day.isoformat(),
                format_date(day, "EEE, d MMM", locale=ctx.locale),
            )
            for day in next_working_days(tomorrow, WORKING_DAYS_OFFERED)
        ],
        [
            InlineKeyboardButton(
                text=_("📅 Another date"),
                callback_data=CalendarPage(
                    owner=ctx.owner, dialog=ctx.draft.dialog, month=f"{ctx.today:%Y-%m}"
                ).pack(),
            )
        ],
    ]
    return q


def ask_window(ctx: AskContext) -> Question:
    q = Question(
        _("Calling hours? Time zone: {zone}. E.g. 9-18").format(
            zone=zone_label(ctx.tz_name, ctx.now)
        ),
        _("9-18"),
    )
    q.rows = [
        [
            ctx.answer(StepCode.WINDOW, p.replace(":", ""), p.replace("-", "–"))
            for p in WINDOW_PRESETS[i : i + 2]
        ]
        for i in range(0, len(WINDOW_PRESETS), 2)
    ]
    return q


def ask_attempts(ctx: AskContext) -> Question:
    q = Question(_("How many dial attempts per number?"), f"{MIN_ATTEMPTS}-{MAX_ATTEMPTS}")
    q.rows = [
        [
            ctx.answer(StepCode.ATTEMPTS, str(n), str(n))
            for n in range(MIN_ATTEMPTS, MAX_ATTEMPTS + 1)
        ]
    ]
    return q


def interval_label(minutes: int) -> str:
    if minutes % 60 == 0:
        return _("{hours} h").format(hours=minutes // 60)
    return _("{minutes} min").format(minutes=minutes)


def ask_interval(ctx: AskContext) -> Question:
    q = Question(_("Minutes between attempts?"), _("Minutes"))
    q.rows = [
        [
            ctx.answer(StepCode.INTERVAL, str(m), interval_label(m))
            for m in INTERVAL_PRESETS[i : i + 3]
        ]
        for i in range(0, len(INTERVAL_PRESETS), 3)
    ]
    return q


def ask_phones(ctx: AskContext) -> Question:
    q = Question(
        _(
            "Send the list: Excel, CSV, TXT or numbers as text. I find the phone column "
            "myself; the other columns go to the scenario."
        ),
        _("+79161234567, 89161234568"),
    )
    if ctx.draft.same_list:
        # A repeat: the campaign's own list, while it is still stored.
        q.rows = [[ctx.answer(StepCode.PHONES, "same", _("📎 The same list"))]]
    return q
