"""The summary: create, edit one field, cancel; and the one POST that creates the campaign."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import time
from typing import Any

from aiogram import Bot, Dispatcher, F, Router, html
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.campaigns.errors import (
    CampaignOutcomeUnknown,
    CampaignRejected,
    CampaignUnreachable,
)
from bot.campaigns.model import CampaignRequest, PhoneColumns, build_request
from bot.deps import AppDeps
from bot.dialog.callbacks import DraftChoice, EditField, SummaryAction
from bot.dialog.flow import Dialog, first_missing, mention
from bot.dialog.guards import AddressedToBot
from bot.dialog.inflight import start_sweeper, stop_sweeper
from bot.dialog.parsing import AnswerError, check_date, check_window_for_date, make_window
from bot.dialog.render import answer_error_text
from bot.dialog.states import STEP_ORDER, CampaignForm
from bot.drafts import HEARTBEAT_EVERY_SECONDS
from bot.i18n import create_i18n
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
    status = await dialog.submission_status(draft)
    if status == "dead":
        await callback.answer()
        await report_interrupted(dialog, draft)
        return
    if status == "live":
        await callback.answer(_("The campaign is being created right now."), show_alert=True)
        return
    await callback.answer()
    await dialog.discard(draft)
    await dialog.send(_("Cancelled. /new — new campaign"))


async def process_create(
    callback: CallbackQuery, callback_data: SummaryAction, dialog: Dialog, draft: dict[str, Any]
) -> None:
    status = await dialog.submission_status(draft)
    if status == "live":
        await callback.answer(_("The campaign is being created right now."))
        return
    if status == "dead":
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
    word = message.text.strip().lower().rstrip("!.")
    word = re.sub(r"^[^\wа-яё]+", "", word)
    status = await dialog.submission_status(data)
    if status == "live":
        if word in NEW_DRAFT_WORDS:
            await start_beside(dialog, data)
        else:
            await offer_beside(dialog, data)
        return
    if status == "dead":
        await report_interrupted(dialog, data)
        return
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
    marks = dialog.deps.inflight
    data["submit"] = "in_flight"
    data["submit_started"] = time.time()
    data["submit_holder"] = marks.holder
    data.pop("outcome_unknown", None)
    data["rev"] = int(data.get("rev", 0)) + 1
    data.pop("submit_key", None)
    key = data["submit_key"] = dialog.inflight_key(data)
    entry = _mark_entry(dialog, data)
    # The mark is held (and beating) before the draft says "in flight": a draft marked in
    # flight always has a mark someone can find once its holder dies.
    await marks.hold(key, entry)
    # Marked in flight before anything else can fail or wait: a second tap sees it.
    await dialog.state.set_data(data)
    try:
        progress = await dialog.present(data, _("⏳ Creating the campaign…"))
    except TelegramAPIError:
        data["submit"] = None  # nothing was sent: the draft must not stay locked
        await dialog.state.set_data(data)
        await marks.release(key)
        raise
    await marks.hold(key, {**entry, "progress": progress})
    await dialog.state.set_data(data)
    dialog.deps.tasks.spawn(
        _post(dialog, dict(data), progress, key), name=f"submit-{data['dialog']}"
    )


def _mark_entry(dialog: Dialog, data: dict[str, Any]) -> dict[str, Any]:
    """What a replica needs to tell the owner about this submission if its sender dies:
    where to write, in which language, and what was being sent (JSON-safe)."""
    return {
        "chat": dialog.chat.id,
        "chat_type": str(getattr(dialog.chat.type, "value", dialog.chat.type)),
        "thread": dialog.thread_id,
        "user": dialog.user.id,
        "user_name": dialog.user.full_name,
        "reply_to": data.get("reply_to") or dialog.reply_to,
        "locale": dialog.i18n.current_locale,
        "dialog": data["dialog"],
        "name": data.get("name") or "",
        "phones": data.get("phones_count"),
        "started": data["submit_started"],
        "phones_ref": data.get("phones_ref"),
    }


UNKNOWN_OUTCOME_ACTIONS = ("resend", "cancel")
NEW_DRAFT_WORDS = {"новый", "новый черновик", "заново", "начать заново", "new", "new draft"}


def unknown_outcome_text() -> str:
    return "⚠️ " + _(
        "No answer from the campaign service: the campaign MAY have been created. "
        "Check it there before sending again."
    )


def interrupted_text(dialog: Dialog, name: str, phones: Any, started: float) -> str:
    sent_at = dt.datetime.fromtimestamp(started, dialog.deps.settings.tz)
    return "⚠️ " + _(
        "The bot restarted while creating the campaign «{name}» (numbers: {count}, sent at "
        "{time}). It MAY have been created: check it on the platform before sending again."
    ).format(name=html.quote(name), count=phones or "?", time=sent_at.strftime("%H:%M"))


async def report_interrupted(
    dialog: Dialog,
    data: dict[str, Any] | None,
    entry: dict[str, Any] | None = None,
) -> None:
    """A dead sender cut a POST short: say the campaign may exist; resend only on request.

    `data` is the draft when it is still the one that was sent (it goes to the summary with
    «Send again»); None when the owner has started another draft since, which is left
    alone. `entry` is the sender's mark, when known (its progress message is corrected)."""
    source = entry or data or {}
    text = interrupted_text(
        dialog,
        str(source.get("name") or ""),
        source.get("phones") or source.get("phones_count"),
        float(source.get("started") or source.get("submit_started") or time.time()),
    )
    if data is not None:
        key = dialog.inflight_key(data)
        data["submit"] = None
        data["outcome_unknown"] = True
        await dialog.state.set_data(data)
        await dialog.deps.inflight.release(key)
        progress = entry.get("progress") if entry else None
        if progress is not None:
            await dialog.replace(progress, text)
            await dialog.show_summary(
                data, note=unknown_outcome_text(), actions=UNKNOWN_OUTCOME_ACTIONS
            )
        else:
            await dialog.show_summary(data, note=text, actions=UNKNOWN_OUTCOME_ACTIONS)
        return
    if entry and entry.get("phones_ref"):
        await dialog.deps.phone_lists.delete(entry["phones_ref"])
    text += "\n" + _("Its draft is gone: to send it again, make it anew with /new.")
    await dialog.replace(entry.get("progress") if entry else None, text)


async def offer_beside(dialog: Dialog, data: dict[str, Any]) -> None:
    """A submission is in flight: no dead end, a new draft may be started beside it."""
    text = _(
        "The campaign «{name}» is being created right now; its result will come here. "
        "Start a new draft meanwhile?"
    ).format(name=html.quote(data.get("name") or ""))
    if dialog.group:
        text = f"{mention(dialog.user)}, {text}"
    button = InlineKeyboardButton(
        text=_("🆕 New draft"),
        callback_data=DraftChoice(
            owner=dialog.user.id, dialog=data["dialog"], action="beside"
        ).pack(),
    )
    await dialog.send(text, [[button]])


async def start_beside(dialog: Dialog, data: dict[str, Any]) -> None:
    """A new draft while the old one's POST runs: the POST keeps its own copy of the old
    draft and its list, and will not touch the new draft (see _finish)."""
    from bot.dialog.handlers.common import start_draft

    log.info("draft started beside a submission dialog=%s", data.get("dialog"))
    await start_draft(dialog)


async def _heartbeat(dialog: Dialog, key: str) -> None:
    """Keep the mark alive while this process works on the submission."""
    marks = dialog.deps.inflight
    while True:
        await asyncio.sleep(HEARTBEAT_EVERY_SECONDS)
        try:
            await marks.beat(key)
        except Exception:  # a Redis hiccup must not end the POST; the next beat retries
            log.warning("heartbeat failed dialog=%s", key.rsplit(":", 1)[-1])


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
        # Written from the stored columns a chunk at a time, not as a list of dicts.
        phones=PhoneColumns(phones.keys, phones.chunks(frames=True)),
        state=deps.settings.campaign_state,
    )


async def _post(dialog: Dialog, data: dict[str, Any], progress: int, key: str) -> None:
    """The POST, beating the mark; then, under the owner's update lock, its result."""
    marks = dialog.deps.inflight
    data["submit"] = None
    data.pop("submit_holder", None)
    beating = asyncio.create_task(_heartbeat(dialog, key), name=f"heartbeat-{data['dialog']}")
    try:
        outcome = await _send(dialog, data)
        async with marks.isolation.lock(dialog.state.key):
            current = await dialog.state.get_data()
            # The owner may have started a new draft meanwhile: it is not touched.
            same = current.get("dialog") == data["dialog"]
            await _finish(dialog, data, progress, outcome, same=same)
    finally:
        beating.cancel()
        try:
            await marks.release(key)
        except Exception:
            log.exception("in-flight mark not released dialog=%s", data.get("dialog"))


async def _send(dialog: Dialog, data: dict[str, Any]) -> tuple[str, Any]:
    deps = dialog.deps
    try:
        blob = await deps.phone_lists.get(data["phones_ref"])
        if blob is None:
            return "expired", None
        request = await asyncio.to_thread(_build, blob, data, deps)
        campaign_id = await deps.campaign_client.create_campaign(request)
    except CampaignRejected as error:
        text = "❌ " + _("The campaign service refused: {message}").format(
            message=html.quote(error.message or str(error.status))
        )
        return "failed", (text, ("edit", "retry", "cancel"))
    except CampaignUnreachable:
        text = "❌ " + _(
            "The campaign service is unreachable. Nothing was created. Try again later."
        )
        return "failed", (text, ("retry", "edit", "cancel"))
    except CampaignOutcomeUnknown:
        data["outcome_unknown"] = True
        return "failed", (unknown_outcome_text(), UNKNOWN_OUTCOME_ACTIONS)
    except Exception:
        log.exception("submission failed dialog=%s", data.get("dialog"))
        text = "❌ " + _("Something went wrong on my side. Nothing was sent.")
        return "failed", (text, ("retry", "edit", "cancel"))
    return "created", campaign_id


async def _finish(
    dialog: Dialog, data: dict[str, Any], progress: int, outcome: tuple[str, Any], *, same: bool
) -> None:
    kind, value = outcome
    if kind == "created":
        await _created(dialog, data, progress, value, same=same)
        return
    if not same:
        # Its draft was replaced: only the result is shown; nothing is left to retry with.
        if data.get("phones_ref"):
            await dialog.deps.phone_lists.delete(data["phones_ref"])
        text = "❗ " + _("The list has expired.") if kind == "expired" else value[0]
        name = html.quote(data.get("name") or "")
        await dialog.replace(progress, f"«{name}»: {text}")
        return
    if kind == "expired":
        data.pop("phones_ref", None)
        data["editing"] = True
        await dialog.state.set_data(data)
        await dialog.replace(progress, "❗ " + _("The list has expired."))
        await dialog.ask("ph", data)
        return
    text, actions = value
    await _failed(dialog, data, progress, text, actions)


async def _failed(
    dialog: Dialog, data: dict[str, Any], progress: int, text: str, actions: tuple[str, ...]
) -> None:
    """The draft leaves "in flight" first, whatever Telegram does next; then the user sees
    what happened and the summary again with what can be done now."""
    await dialog.state.set_data(data)
    await dialog.replace(progress, text)
    await dialog.show_summary(data, actions=actions)


async def _created(
    dialog: Dialog, data: dict[str, Any], progress: int, campaign_id: int, *, same: bool = True
) -> None:
    audit.info(
        "campaign created id=%s user=%s chat=%s phones=%s name=%r",
        campaign_id,
        dialog.user.id,
        dialog.chat.id,
        data.get("phones_count"),
        _mask_digits(data.get("name", "")),
    )
    if same:
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
    sweepers: list[asyncio.Task[None]] = []

    async def on_startup(bot: Bot, dispatcher: Dispatcher, deps: AppDeps) -> None:
        # A process started after a crash reports its own interrupted submissions at once,
        # and every replica keeps reporting those of replicas that die.
        i18n = create_i18n(deps.settings.default_locale)
        sweepers.append(start_sweeper(bot, deps, dispatcher.storage, i18n))

    async def on_shutdown() -> None:
        while sweepers:
            await stop_sweeper(sweepers.pop())

    router.startup.register(on_startup)
    router.shutdown.register(on_shutdown)
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
