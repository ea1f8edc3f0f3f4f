"""Each step's question: its text, its buttons, and the hint shown in the reply field."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from aiogram import html
from aiogram.types import InlineKeyboardButton
from aiogram.utils.i18n import gettext as _

from bot.dialog.calendar import calendar_rows
from bot.dialog.callbacks import Answer, Back
from bot.presets import Presets

WINDOW_PRESETS = ("09:00-18:00", "09:00-21:00", "10:00-19:00", "12:00-20:00")
INTERVAL_PRESETS = (5, 10, 15, 30, 60, 120)


@dataclass
class Question:
    text: str
    placeholder: str
    rows: list[list[InlineKeyboardButton]] = field(default_factory=list)


def _answer(owner: int, dialog: str, code: str, value: str, text: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=text,
        callback_data=Answer(owner=owner, dialog=dialog, field=code, value=value).pack(),
    )


def back_row(owner: int, dialog: str, code: str, *, editing: bool) -> list[InlineKeyboardButton]:
    text = _("« Back to summary") if editing else _("« Back")
    return [
        InlineKeyboardButton(
            text=text, callback_data=Back(owner=owner, dialog=dialog, field=code).pack()
        )
    ]


def build_question(
    code: str,
    data: dict[str, Any],
    *,
    owner: int,
    presets: Presets,
    today: dt.date,
    locale: str,
    can_go_back: bool,
) -> Question:
    dialog = data["dialog"]
    editing = bool(data.get("editing"))
    q: Question
    if code == "sc":
        q = Question(_("Which scenario?"), _("Scenario name or number"))
        q.rows = [
            [_answer(owner, dialog, code, s.key, f"{i}. {s.title}")]
            for i, s in enumerate(presets.scenarios, 1)
        ]
    elif code == "cl":
        q = Question(_("Which number do we call from?"), _("Caller name or number"))
        q.rows = [
            [_answer(owner, dialog, code, c.key, f"{i}. {c.title}")]
            for i, c in enumerate(presets.callers, 1)
        ]
    elif code == "nm":
        q = Question(_("Campaign name? (up to 100 characters)"), _("E.g. Debt reminder"))
        if data.get("name"):
            q.text += "\n" + _("Now: {value}").format(value=html.quote(data["name"]))
    elif code == "ds":
        q = Question(_("Description? Type it or skip."), _("Description"))
        q.rows = [[_answer(owner, dialog, code, "-", _("Skip"))]]
    elif code == "dt":
        q = Question(_("Start date? Pick a day or type 28.11, 2026-11-28 or «today»."), _("DD.MM"))
        tomorrow = today + dt.timedelta(days=1)
        q.rows = [
            [
                _answer(owner, dialog, code, today.isoformat(), _("Today")),
                _answer(owner, dialog, code, tomorrow.isoformat(), _("Tomorrow")),
            ],
            *calendar_rows(
                owner=owner,
                dialog=dialog,
                month=dt.date.fromisoformat(data.get("date") or today.isoformat()),
                today=today,
                locale=locale,
            ),
        ]
    elif code == "wn":
        q = Question(
            _("Daily calling window? Pick one or type 9-18, 09:00-17:00."),
            _("9-18"),
        )
        q.rows = [
            [
                _answer(owner, dialog, code, p.replace(":", ""), p.replace("-", "–"))
                for p in WINDOW_PRESETS[i : i + 2]
            ]
            for i in range(0, len(WINDOW_PRESETS), 2)
        ]
    elif code == "at":
        q = Question(_("How many dial attempts per number? (1-5)"), _("1-5"))
        q.rows = [[_answer(owner, dialog, code, str(n), str(n)) for n in range(1, 6)]]
    elif code == "iv":
        q = Question(_("Minutes between attempts?"), _("Minutes"))
        q.rows = [
            [
                _answer(owner, dialog, code, str(m), _("{minutes} min").format(minutes=m))
                for m in INTERVAL_PRESETS[i : i + 3]
            ]
            for i in range(0, len(INTERVAL_PRESETS), 3)
        ]
    elif code == "ph":
        q = Question(
            _(
                "Send the contact list: an Excel, CSV or text file, "
                "or paste the numbers in a message."
            ),
            _("+79161234567, 89161234568"),
        )
    else:  # pragma: no cover - the codes are a closed set
        raise KeyError(code)
    if can_go_back or editing:
        q.rows.append(back_row(owner, dialog, code, editing=editing))
    return q
