"""The summary: create, edit one field, cancel; and the one POST that creates the campaign."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import time
from typing import Any

from aiogram import F, Router, html
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.campaigns.errors import (
    CampaignOutcomeUnknown,
    CampaignRejected,
    CampaignUnreachable,
)
from bot.campaigns.model import CampaignRequest, build_request
from bot.deps import AppDeps
from bot.dialog.callbacks import EditField, SummaryAction
from bot.dialog.flow import (
    Dialog,
    first_missing,
    mention,
    submission_in_flight,
    submission_interrupted,
)
from bot.dialog.guards import AddressedToBot
from bot.dialog.parsing import AnswerError, check_date, check_window_for_date, make_window
from bot.dialog.render import answer_error_text
from bot.dialog.states import STEP_ORDER, CampaignForm
from bot.phones import PhoneList

log = logging.getLogger("bot.dialog")
audit = logging.getLogger("bot.audit")

RETRY_ACTIONS = ("create", "retry", "resend")


def edit_rows(owner: int, data: dict[str, Any]) -> list[list[InlineKeyboardButton]]:
    labels = field_labels()
    buttons = [
        InlineKeyboardButton(
            text=labels[code],
            callback_data=EditField(owner=owner, dialog=data["dialog"], field=code).pack(),
        )
        for code in STEP_ORDER
        if code not in data.get("fixed", ()) and not (code == "iv" and data.get("attempts") == 1)
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append(
        [
            InlineKeyboardButton(
                text=_("« Back to summary"),
                callback_data=SummaryAction(
                    owner=owner, dialog=data["dialog"], rev=data["rev"], action="show"
                ).pack(),
            )
        ]
    )
    return rows


def field_labels() -> dict[str, str]:
    return {
        "sc": _("Scenario"),
        "cl": _("Caller"),
        "nm": _("Name"),
        "ds": _("Description"),
        "dt": _("Date"),
        "wn": _("Time"),
        "at": _("Attempts"),
        "iv": _("Interval"),
        "ph": _("Phone list"),
    }


async def process_edit_menu(
    callback: CallbackQuery, callback_data: SummaryAction, draft: dict[str, Any]
) -> None:
    if callback_data.rev != draft.get("rev"):
        await callback.answer(_("This summary is out of date."))
        return
    await callback.answer()
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=edit_rows(callback.from_user.id, draft)
            )
        )


async def process_edit_field(
    callback: CallbackQuery, callback_data: EditField, dialog: Dialog, draft: dict[str, Any]
) -> None:
    await callback.answer()
    await start_edit(callback_data.field, dialog, draft)


async def start_edit(code: str, dialog: Dialog, data: dict[str, Any]) -> None:
    data["editing"] = True
    await dialog.ask(code, data)


async def process_edit_back(callback: CallbackQuery, dialog: Dialog, draft: dict[str, Any]) -> None:
    await callback.answer()
    # The menu's message is one of the draft's: shown again as the summary (edited in
    # place in a private chat), or its buttons taken off in a group.
    await dialog.show_summary(draft)


async def process_cancel_button(
    callback: CallbackQuery, dialog: Dialog, draft: dict[str, Any]
) -> None:
    if submission_in_flight(draft):
        await callback.answer(_("The campaign is being created right now."), show_alert=True)
        return
    await callback.answer()
    await dialog.discard(draft)
    await dialog.send(_("Cancelled. /new — new campaign"))


async def process_create(
    callback: CallbackQuery, callback_data: SummaryAction, dialog: Dialog, draft: dict[str, Any]
) -> None:
    if submission_in_flight(draft):
        await callback.answer(_("The campaign is being created right now."))
        return
    if submission_interrupted(draft):
        await callback.answer()
        await report_interrupted(dialog, draft)
        return
    if callback_data.rev != draft.get("rev"):
        await callback.answer(_("This summary is out of date."))
        return
    # Answer at once: the POST may take longer than Telegram waits for an answer.
    await callback.answer(_("Creating…"))
    await submit(dialog, draft)


SUMMARY_WORDS = {
    "create": {"создать", "да", "ок", "ok", "create", "yes", "отправить", "повторить", "retry"},
    "edit": {"изменить", "edit", "исправить"},
    "cancel": {"отменить", "отмена", "cancel", "нет", "no"},
}


async def process_summary(message: Message, dialog: Dialog) -> None:
    assert message.text is not None
    data = await dialog.state.get_data()
    if submission_in_flight(data):
        await message.reply(_("The campaign is being created right now. Wait for the answer."))
        return
    if submission_interrupted(data):
        await report_interrupted(dialog, data)
        return
    word = message.text.strip().lower().rstrip("!.")
    word = re.sub(r"^[^\wа-яё]+", "", word)
    data["reply_to"] = message.message_id
    if word in SUMMARY_WORDS["create"]:
        await submit(dialog, data)
    elif word in SUMMARY_WORDS["cancel"]:
        await dialog.discard(data)
        await message.reply(_("Cancelled. /new — new campaign"))
    elif code := _field_by_name(word, data):
        await start_edit(code, dialog, data)
    elif word in SUMMARY_WORDS["edit"]:
        await dialog.clear_keyboards(data)
        data["kb_msgs"].append(
            await dialog.send(_("What to change?"), edit_rows(dialog.user.id, data))
        )
        await dialog.state.set_data(data)
    else:
        await dialog.show_summary(
            data, note=_("Press a button or type «создать», «изменить» or «отменить».")
        )


def _field_by_name(word: str, data: dict[str, Any]) -> str | None:
    aliases = {
        "sc": {"сценарий"},
        "cl": {"номер звонящего", "звонящий"},
        "nm": {"название", "имя"},
        "ds": {"описание"},
        "dt": {"дата"},
        "wn": {"время", "окно"},
        "at": {"попытки"},
        "iv": {"интервал"},
        "ph": {"список", "номера", "телефоны", "файл"},
    }
    labels = {code: label.lower() for code, label in field_labels().items()}
    for code in STEP_ORDER:
        if code in data.get("fixed", ()):
            continue
        if word == labels[code] or word in aliases[code]:
            return code
    return None


def _recheck(data: dict[str, Any], now: dt.datetime) -> tuple[str, str] | None:
    """Time passes while a draft waits: a date or window now in the past goes back to its step."""
    try:
        date = check_date(dt.date.fromisoformat(data["date"]), now.date())
    except AnswerError as error:
        return "dt", answer_error_text(error)
    window = make_window(dt.time.fromisoformat(data["start"]), dt.time.fromisoformat(data["end"]))
    try:
        check_window_for_date(window, date, now)
    except AnswerError as error:
        return "wn", answer_error_text(error)
    return None


async def submit(dialog: Dialog, data: dict[str, Any]) -> None:
    """Mark the draft in flight, then POST in the background: exactly one request."""
    missing = first_missing(data)
    if missing is not None:
        data["editing"] = True
        await dialog.ask(missing, data)
        return
    if problem := _recheck(data, dialog.deps.now()):
        code, text = problem
        data["editing"] = True
        await dialog.ask(code, data, note="❗ " + text)
        return
    data["submit"] = "in_flight"
    data["submit_started"] = time.time()
    data["rev"] = int(data.get("rev", 0)) + 1
    # Marked in flight before anything else can fail or wait: a second tap sees it.
    await dialog.state.set_data(data)
    try:
        progress = await dialog.present(data, _("⏳ Creating the campaign…"))
    except TelegramAPIError:
        data["submit"] = None  # nothing was sent: the draft must not stay locked
        await dialog.state.set_data(data)
        raise
    await dialog.state.set_data(data)
    dialog.deps.tasks.spawn(_post(dialog, dict(data), progress), name=f"submit-{data['dialog']}")


UNKNOWN_OUTCOME_ACTIONS = ("resend", "cancel")


def unknown_outcome_text() -> str:
    return "⚠️ " + _(
        "No answer from the campaign service: the campaign MAY have been created. "
        "Check it there before sending again."
    )


async def report_interrupted(dialog: Dialog, data: dict[str, Any]) -> None:
    """A restart cut a POST short: say the campaign may exist; resend only on request."""
    data["submit"] = None
    await dialog.show_summary(data, note=unknown_outcome_text(), actions=UNKNOWN_OUTCOME_ACTIONS)


def _build(blob: bytes, data: dict[str, Any], deps: AppDeps) -> CampaignRequest:
    phones = PhoneList.from_bytes(blob)
    scenario = deps.presets.scenario(data["scenario"])
    caller = deps.presets.caller(data["caller"])
    assert scenario is not None and caller is not None
    return build_request(
        project_id=scenario.project_id,
        start_block_id=scenario.start_block_id,
        phone_id=caller.phone_id,
        name=data["name"],
        description=data.get("description") or "",
        date=data["date"],
        start_time=data["start"],
        end_time=data["end"],
        attempts=int(data["attempts"]),
        interval_minutes=int(data.get("interval") or deps.settings.default_interval_minutes),
        phones=phones.records(),
        state=deps.settings.campaign_state,
    )


async def _post(dialog: Dialog, data: dict[str, Any], progress: int) -> None:
    deps = dialog.deps
    data["submit"] = None
    try:
        blob = await deps.phone_lists.get(data["phones_ref"])
        if blob is None:
            data.pop("phones_ref", None)
            data["editing"] = True
            await dialog.state.set_data(data)
            await dialog.replace(progress, "❗ " + _("The list has expired."))
            await dialog.ask("ph", data)
            return
        request = await asyncio.to_thread(_build, blob, data, deps)
        campaign_id = await deps.campaign_client.create_campaign(request)
    except CampaignRejected as error:
        text = "❌ " + _("The campaign service refused: {message}").format(
            message=html.quote(error.message or str(error.status))
        )
        await _failed(dialog, data, progress, text, ("edit", "retry", "cancel"))
    except CampaignUnreachable:
        text = "❌ " + _(
            "The campaign service is unreachable. Nothing was created. Try again later."
        )
        await _failed(dialog, data, progress, text, ("retry", "edit", "cancel"))
    except CampaignOutcomeUnknown:
        await _failed(dialog, data, progress, unknown_outcome_text(), UNKNOWN_OUTCOME_ACTIONS)
    except Exception:
        log.exception("submission failed dialog=%s", data.get("dialog"))
        text = "❌ " + _("Something went wrong on my side. Nothing was sent.")
        await _failed(dialog, data, progress, text, ("retry", "edit", "cancel"))
    else:
        await _created(dialog, data, progress, campaign_id)


async def _failed(
    dialog: Dialog, data: dict[str, Any], progress: int, text: str, actions: tuple[str, ...]
) -> None:
    """The draft leaves "in flight" first, whatever Telegram does next; then the user sees
    what happened and the summary again with what can be done now."""
    await dialog.state.set_data(data)
    await dialog.replace(progress, text)
    await dialog.show_summary(data, actions=actions)


async def _created(dialog: Dialog, data: dict[str, Any], progress: int, campaign_id: int) -> None:
    audit.info(
        "campaign created id=%s user=%s chat=%s phones=%s name=%r",
        campaign_id,
        dialog.user.id,
        dialog.chat.id,
        data.get("phones_count"),
        _mask_digits(data.get("name", "")),
    )
    await dialog.state.clear()
    await dialog.deps.phone_lists.delete(data["phones_ref"])
    lines = [_("✅ Campaign created, ID {id}").format(id=html.bold(str(campaign_id)))]
    if dialog.group:
        lines.append(_("Created by {user}").format(user=mention(dialog.user)))
    lines.append("")
    body = dialog.summary_text(data).split("\n", 2)[-1]  # without the "check" heading
    text = "\n".join(lines) + "\n" + body
    await dialog.replace(progress, text)


def _mask_digits(text: str) -> str:
    return re.sub(r"\d{5,}", lambda m: m[0][:2] + "***", text)


def create_router() -> Router:
    router = Router(name="summary")
    router.callback_query.register(
        process_edit_menu, SummaryAction.filter(F.action == "edit"), CampaignForm.summary
    )
    router.callback_query.register(process_edit_field, EditField.filter(), CampaignForm.summary)
    router.callback_query.register(
        process_edit_back, SummaryAction.filter(F.action == "show"), CampaignForm.summary
    )
    router.callback_query.register(
        process_cancel_button, SummaryAction.filter(F.action == "cancel"), CampaignForm.summary
    )
    router.callback_query.register(
        process_create, SummaryAction.filter(F.action.in_(RETRY_ACTIONS)), CampaignForm.summary
    )
    router.message.register(
        process_summary, CampaignForm.summary, F.text, ~F.text.startswith("/"), AddressedToBot()
    )
    return router
