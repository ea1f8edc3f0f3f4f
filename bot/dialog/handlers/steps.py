"""The wizard's questions from scenario to interval: typed answers and their buttons."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.dialog.callbacks import Answer, Back, CalendarPage
from bot.dialog.flow import SUMMARY, Dialog, first_missing, step_before
from bot.dialog.guards import AddressedToBot
from bot.dialog.parsing import (
    AnswerError,
    check_date,
    check_window_for_date,
    make_window,
    parse_attempts,
    parse_date,
    parse_description,
    parse_interval,
    parse_name,
    parse_window,
)
from bot.dialog.questions import build_question
from bot.dialog.render import answer_error_text
from bot.dialog.states import STATE_FIELDS, CampaignForm
from bot.presets import Presets

SKIP_WORDS = {"-", "—", "пропустить", "skip", "нет", "no", "без описания"}


def _pick(options: list[tuple[str, str]], raw: str) -> str:
    """A choice by button key, by its number in the list, or by its title."""
    value = raw.strip().lower().rstrip(".")
    for index, (key, title) in enumerate(options, 1):
        if value in (key.lower(), str(index), title.lower()):
            return key
    raise AnswerError("choice_unknown")


def apply_answer(
    code: str,
    raw: str,
    data: dict[str, Any],
    *,
    presets: Presets,
    now: dt.datetime,
    from_button: bool,
) -> None:
    """Validate one answer and store it in the draft; raises AnswerError."""
    today = now.date()
    if code == "sc":
        data["scenario"] = _pick([(s.key, s.title) for s in presets.scenarios], raw)
    elif code == "cl":
        data["caller"] = _pick([(c.key, c.title) for c in presets.callers], raw)
    elif code == "nm":
        data["name"] = parse_name(raw)
    elif code == "ds":
        data["description"] = "" if raw.strip().lower() in SKIP_WORDS else parse_description(raw)
    elif code == "dt":
        date = (
            check_date(dt.date.fromisoformat(raw), today) if from_button else parse_date(raw, today)
        )
        data["date"] = date.isoformat()
        if data.get("start"):
            window = make_window(
                dt.time.fromisoformat(data["start"]), dt.time.fromisoformat(data["end"])
            )
            try:
                check_window_for_date(window, date, now)
            except AnswerError:
                # The window no longer fits the new date: ask it again.
                data.pop("start", None)
                data.pop("end", None)
    elif code == "wn":
        if from_button:
            start, end = raw.split("-")
            window = make_window(
                dt.time(int(start[:2]), int(start[2:])), dt.time(int(end[:2]), int(end[2:]))
            )
        else:
            window = parse_window(raw)
        if data.get("date"):
            check_window_for_date(window, dt.date.fromisoformat(data["date"]), now)
        data["start"] = f"{window.start:%H:%M}"
        data["end"] = f"{window.end:%H:%M}"
    elif code == "at":
        data["attempts"] = parse_attempts(raw)
    elif code == "iv":
        data["interval"] = parse_interval(raw)
    else:  # pragma: no cover - the codes are a closed set
        raise KeyError(code)


async def answer_step(
    code: str, raw: str, dialog: Dialog, *, from_button: bool, data: dict[str, Any] | None = None
) -> None:
    data = data if data is not None else await dialog.state.get_data()
    if dialog.reply_to and not from_button:
        data["reply_to"] = dialog.reply_to
    try:
        apply_answer(
            code,
            raw,
            data,
            presets=dialog.deps.presets,
            now=dialog.deps.now(),
            from_button=from_button,
        )
    except AnswerError as error:
        await dialog.ask(code, data, note="❗ " + answer_error_text(error))
        return
    except ValueError:
        if not from_button:
            raise
        # Button data no button of ours carries (forged): asked again, nothing stored.
        await dialog.ask(code, data, note="❗ " + answer_error_text(AnswerError("choice_unknown")))
        return
    await dialog.advance(code, data)


async def process_scenario(message: Message, dialog: Dialog) -> None:
    await answer_step("sc", message.text or "", dialog, from_button=False)


async def process_caller(message: Message, dialog: Dialog) -> None:
    await answer_step("cl", message.text or "", dialog, from_button=False)


async def process_name(message: Message, dialog: Dialog) -> None:
    await answer_step("nm", message.text or "", dialog, from_button=False)


async def process_description(message: Message, dialog: Dialog) -> None:
    await answer_step("ds", message.text or "", dialog, from_button=False)


async def process_date(message: Message, dialog: Dialog) -> None:
    await answer_step("dt", message.text or "", dialog, from_button=False)


async def process_window(message: Message, dialog: Dialog) -> None:
    await answer_step("wn", message.text or "", dialog, from_button=False)


async def process_attempts(message: Message, dialog: Dialog) -> None:
    await answer_step("at", message.text or "", dialog, from_button=False)


async def process_interval(message: Message, dialog: Dialog) -> None:
    await answer_step("iv", message.text or "", dialog, from_button=False)


TYPED_ANSWERS = {
    CampaignForm.scenario: process_scenario,
    CampaignForm.caller: process_caller,
    CampaignForm.name: process_name,
    CampaignForm.description: process_description,
    CampaignForm.date: process_date,
    CampaignForm.window: process_window,
    CampaignForm.attempts: process_attempts,
    CampaignForm.interval: process_interval,
}


async def process_button(
    callback: CallbackQuery,
    callback_data: Answer,
    dialog: Dialog,
    draft: dict[str, Any],
    raw_state: str | None,
) -> None:
    if STATE_FIELDS.get(raw_state or "") != callback_data.field:
        await callback.answer(_("This question was already answered."))
        return
    await callback.answer()
    await answer_step(
        callback_data.field, callback_data.value, dialog, from_button=True, data=draft
    )


async def process_calendar_page(
    callback: CallbackQuery, callback_data: CalendarPage, dialog: Dialog, draft: dict[str, Any]
) -> None:
    await callback.answer()
    try:
        month = dt.date.fromisoformat(f"{callback_data.month}-01")
    except ValueError:
        return  # forged data: no page of ours carries it
    question = build_question(
        "dt",
        {**draft, "date": month.isoformat()},
        owner=callback.from_user.id,
        presets=dialog.deps.presets,
        today=dialog.deps.now().date(),
        locale=dialog.i18n.current_locale,
        can_go_back=step_before("dt", draft) is not None,
    )
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(
            reply_markup=InlineKeyboardMarkup(inline_keyboard=question.rows)
        )


async def process_back(
    callback: CallbackQuery, callback_data: Back, dialog: Dialog, draft: dict[str, Any]
) -> None:
    await callback.answer()
    if draft.get("editing"):
        await dialog.ask(first_missing(draft) or SUMMARY, draft)
        return
    previous = step_before(callback_data.field, draft)
    await dialog.ask(previous or callback_data.field, draft)


def create_router() -> Router:
    router = Router(name="steps")
    router.callback_query.register(process_button, Answer.filter(F.field != "ph"))
    router.callback_query.register(process_calendar_page, CalendarPage.filter(), CampaignForm.date)
    router.callback_query.register(process_back, Back.filter(), StateFilter(CampaignForm))
    for step, handler in TYPED_ANSWERS.items():
        router.message.register(handler, step, F.text, ~F.text.startswith("/"), AddressedToBot())
    return router
