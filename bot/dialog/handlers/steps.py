"""The wizard's questions from scenario to interval: typed answers and their buttons.

Generic over the step table (bot/dialog/steps.py): one handler for typed answers in any
step state, one for answer buttons; nothing here names a step but the date's calendar.
"""

from __future__ import annotations

import datetime as dt

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.dialog.answers import AnswerContext
from bot.dialog.callbacks import Answer, Back, CalendarPage, Quit
from bot.dialog.conversation import Conversation
from bot.dialog.draft import Draft
from bot.dialog.guards import AddressedToBot, answer_dialog_over
from bot.dialog.parsing import AnswerError
from bot.dialog.render import answer_error_text
from bot.dialog.states import CampaignForm, StepCode
from bot.dialog.steps import BY_CODE, STEPS, SUMMARY, first_missing, step_before, step_of_state
from bot.dialog.submission import guard_busy


def refusal(error: AnswerError) -> str:
    return "❗ " + answer_error_text(error)


async def answer_step(
    code: str, raw: str, dialog: Conversation, draft: Draft, *, from_button: bool
) -> None:
    """Check one answer against its step's applier: stored and on to the next step, or the
    same question again (edited in place) with the refusal on top."""
    step = BY_CODE[code]
    assert step.apply is not None
    if dialog.reply_to and not from_button:
        draft.reply_to = dialog.reply_to
    ctx = AnswerContext(presets=dialog.deps.presets, now=dialog.deps.now(), from_button=from_button)
    try:
        step.apply(draft, raw, ctx)
    except AnswerError as error:
        await dialog.ask(code, draft, note=refusal(error))
        return
    except ValueError:
        if not from_button:
            raise
        # Button data no button of ours carries (forged): asked again, nothing stored.
        await dialog.ask(code, draft, note=refusal(AnswerError("choice_unknown")))
        return
    await dialog.advance(code, draft)


async def process_typed(message: Message, dialog: Conversation, raw_state: str | None) -> None:
    step = step_of_state(raw_state)
    if step is None or step.apply is None or dialog.draft is None:
        return  # pragma: no cover - the filter lets only typed step states through
    await answer_step(step.code, message.text or "", dialog, dialog.draft, from_button=False)


async def process_button(
    callback: CallbackQuery, callback_data: Answer, dialog: Conversation, raw_state: str | None
) -> None:
    step = step_of_state(raw_state)
    if step is None or step.code != callback_data.field or dialog.draft is None:
        await callback.answer(_("This question was already answered."))
        return
    await callback.answer()
    await answer_step(
        callback_data.field, callback_data.value, dialog, dialog.draft, from_button=True
    )


async def process_calendar_page(
    callback: CallbackQuery, callback_data: CalendarPage, dialog: Conversation
) -> None:
    """«Another date» and the calendar's ‹ ›: the same question, that month's days."""
    await callback.answer()
    try:
        month = dt.date.fromisoformat(f"{callback_data.month}-01")
    except ValueError:
        return  # forged data: no page of ours carries it
    draft = dialog.draft
    assert draft is not None  # DraftGuard let it through
    _text, rows, _hint = dialog.question_screen(StepCode.DATE, draft, month=month)
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(
            reply_markup=InlineKeyboardMarkup(inline_keyboard=rows)
        )


async def process_back(callback: CallbackQuery, callback_data: Back, dialog: Conversation) -> None:
    await callback.answer()
    draft = dialog.draft
    assert draft is not None
    if draft.editing:
        await dialog.ask(first_missing(draft) or SUMMARY, draft)
        return
    previous = step_before(callback_data.field, draft)
    await dialog.ask(previous or callback_data.field, draft)


async def process_quit(callback: CallbackQuery, dialog: Conversation) -> None:
    """«Cancel» under a question (or the summary's): as /cancel."""
    draft = dialog.draft
    if draft is None:
        await answer_dialog_over(callback)
        return
    if await guard_busy(dialog, draft, callback=callback):
        return
    await callback.answer()
    await cancel_draft(dialog, draft)


async def cancel_draft(dialog: Conversation, draft: Draft) -> None:
    from bot.dialog.teamdesk import on_cancelled

    await on_cancelled(dialog, draft)
    await dialog.discard(draft)
    await dialog.say_done(draft, _("Cancelled. /new — new campaign"))


def create_router() -> Router:
    router = Router(name="steps")
    router.callback_query.register(process_button, Answer.filter(F.field != StepCode.PHONES))
    router.callback_query.register(process_calendar_page, CalendarPage.filter(), CampaignForm.date)
    router.callback_query.register(process_back, Back.filter(), StateFilter(CampaignForm))
    router.callback_query.register(process_quit, Quit.filter(), StateFilter(CampaignForm))
    typed = [step.state for step in STEPS if step.apply is not None]
    router.message.register(
        process_typed, StateFilter(*typed), F.text, ~F.text.startswith("/"), AddressedToBot()
    )
    return router
