"""The summary: create, edit one field, cancel (the POST itself: bot/dialog/submission.py)."""

from __future__ import annotations

import asyncio
import logging
import re

from aiogram import Bot, Dispatcher, F, Router, html
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.deps import AppDeps
from bot.dialog.callbacks import DraftChoice, EditField, SummaryAction
from bot.dialog.calling import can_split
from bot.dialog.conversation import Conversation, mention
from bot.dialog.draft import Draft
from bot.dialog.guards import AddressedToBot
from bot.dialog.handlers.steps import cancel_draft, process_quit
from bot.dialog.inflight import start_sweeper, stop_sweeper
from bot.dialog.split import offer_split, split_started, submit_split
from bot.dialog.states import CampaignForm
from bot.dialog.steps import asked_steps, step_by_name
from bot.dialog.submission import guard_busy, submission_status, submit
from bot.i18n import create_i18n

log = logging.getLogger("bot.dialog")

RETRY_ACTIONS = ("create", "retry", "resend")
SUMMARY_WORDS = {
    "create": {"создать", "да", "ок", "ok", "create", "yes", "отправить", "повторить", "retry"},
    "edit": {"изменить", "edit", "исправить"},
    "cancel": {"отменить", "отмена", "cancel", "нет", "no"},
}
SPLIT_WORDS = {"разделить", "по поясам", "разделить по поясам",
               "разделить по часовым поясам", "split"}
NEW_DRAFT_WORDS = {"новый", "новый черновик", "заново", "начать заново", "new", "new draft"}


def edit_rows(owner: int, draft: Draft) -> list[list[InlineKeyboardButton]]:
    """One button per step the draft asks (the table says which), then back."""
    buttons = [
        InlineKeyboardButton(
            text=step.label(),
            callback_data=EditField(owner=owner, dialog=draft.dialog, field=step.code).pack(),
        )
        for step in asked_steps(draft)
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    back = SummaryAction(owner=owner, dialog=draft.dialog, rev=draft.rev, action="show")
    rows.append([InlineKeyboardButton(text=_("« Back to summary"), callback_data=back.pack())])
    return rows


async def process_edit_menu(
    callback: CallbackQuery, callback_data: SummaryAction, dialog: Conversation
) -> None:
    draft = dialog.draft
    assert draft is not None
    if callback_data.rev != draft.rev:
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
    callback: CallbackQuery, callback_data: EditField, dialog: Conversation
) -> None:
    await callback.answer()
    assert dialog.draft is not None
    await start_edit(callback_data.field, dialog, dialog.draft)


async def start_edit(code: str, dialog: Conversation, draft: Draft) -> None:
    if split_started(draft):
        # Campaigns of the set exist: changing the draft now would not change them.
        await offer_split(dialog, draft)
        return
    draft.split = None
    draft.editing = True
    await dialog.ask(code, draft)


async def process_edit_back(callback: CallbackQuery, dialog: Conversation) -> None:
    await callback.answer()
    draft = dialog.draft
    assert draft is not None
    if split_started(draft):
        await offer_split(dialog, draft)  # the set's state, not a summary to edit
        return
    draft.split = None  # back from a split's preview: a plain summary again
    # The menu's message is one of the draft's: shown again as the summary (edited in
    # place in a private chat), or its buttons taken off in a group.
    await dialog.show_summary(draft)


async def press_on_current_summary(
    callback: CallbackQuery, callback_data: SummaryAction, dialog: Conversation
) -> Draft | None:
    """The draft when a summary press may act: no submission running, the summary not
    outdated; otherwise the press is answered with why, and None."""
    draft = dialog.draft
    assert draft is not None
    if await guard_busy(dialog, draft, callback=callback):
        return None
    if callback_data.rev != draft.rev:
        await callback.answer(_("This summary is out of date."))
        return None
    return draft


async def process_create(
    callback: CallbackQuery, callback_data: SummaryAction, dialog: Conversation
) -> None:
    draft = dialog.draft
    assert draft is not None
    if await submission_status(dialog, draft) == "live":
        await callback.answer(_("The campaign is being created right now."))
        return
    if await press_on_current_summary(callback, callback_data, dialog) is None:
        return
    # Answer at once: the POST may take longer than Telegram waits for an answer.
    await callback.answer(_("Creating…"))
    await submit(dialog, draft)


async def process_split(
    callback: CallbackQuery, callback_data: SummaryAction, dialog: Conversation
) -> None:
    """«Split by time zones»: the confirmation of the set (or, once some exist, which)."""
    draft = await press_on_current_summary(callback, callback_data, dialog)
    if draft is None:
        return
    await callback.answer()
    await offer_split(dialog, draft)


async def process_split_go(
    callback: CallbackQuery, callback_data: SummaryAction, dialog: Conversation
) -> None:
    """Create the set's campaigns still missing: exactly once each, whatever is tapped."""
    draft = await press_on_current_summary(callback, callback_data, dialog)
    if draft is None:
        return
    await callback.answer(_("Creating…"))
    await submit_split(dialog, draft)


async def process_summary(message: Message, dialog: Conversation) -> None:
    assert message.text is not None
    draft = dialog.draft
    assert draft is not None
    word = message.text.strip().lower().rstrip("!.")
    word = re.sub(r"^[^\wа-яё]+", "", word)

    async def beside() -> None:
        if word in NEW_DRAFT_WORDS:
            await start_beside(dialog, draft)
        else:
            await offer_beside(dialog, draft)

    if await guard_busy(dialog, draft, on_live=beside):
        return
    draft.reply_to = message.message_id
    if word in SUMMARY_WORDS["create"] and draft.split:
        await submit_split(dialog, draft)  # the preview (or the set) is what is confirmed
    elif word in SUMMARY_WORDS["create"]:
        await submit(dialog, draft)
    elif word in SPLIT_WORDS and can_split(draft):
        await offer_split(dialog, draft)
    elif split_started(draft) and word not in SUMMARY_WORDS["cancel"]:
        await offer_split(
            dialog, draft, note=_("Press a button or type «создать» or «отменить».")
        )
    elif word in SUMMARY_WORDS["cancel"]:
        await cancel_draft(dialog, draft)
    elif code := step_by_name(word, draft):
        await start_edit(code, dialog, draft)
    elif word in SUMMARY_WORDS["edit"]:
        await dialog.clear_keyboards(draft)
        draft.kb_msgs.append(
            await dialog.send(_("What to change?"), edit_rows(dialog.user.id, draft))
        )
        await dialog.save(draft)
    else:
        await dialog.show_summary(
            draft, note=_("Press a button or type «создать», «изменить» or «отменить».")
        )


async def offer_beside(dialog: Conversation, draft: Draft) -> None:
    """A submission is in flight: no dead end, a new draft may be started beside it."""
    text = _(
        "The campaign «{name}» is being created right now; its result will come here. "
        "Start a new draft meanwhile?"
    ).format(name=html.quote(draft.name or ""))
    if dialog.group:
        text = f"{mention(dialog.user)}, {text}"
    button = InlineKeyboardButton(
        text=_("🆕 New draft"),
        callback_data=DraftChoice(
            owner=dialog.user.id, dialog=draft.dialog, action="beside"
        ).pack(),
    )
    await dialog.send(text, [[button]])


async def start_beside(dialog: Conversation, draft: Draft) -> None:
    """A new draft while the old one's POST runs: the POST keeps its own copy of the old
    draft and its list, and will not touch the new draft (submission._finish)."""
    from bot.dialog.handlers.common import start_draft

    log.info("draft started beside a submission dialog=%s", draft.dialog)
    await start_draft(dialog)


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
    summary = CampaignForm.summary
    router.callback_query.register(
        process_edit_menu, SummaryAction.filter(F.action == "edit"), summary
    )
    router.callback_query.register(process_edit_field, EditField.filter(), summary)
    router.callback_query.register(
        process_edit_back, SummaryAction.filter(F.action == "show"), summary
    )
    router.callback_query.register(
        process_quit, SummaryAction.filter(F.action == "cancel"), summary
    )
    router.callback_query.register(
        process_create, SummaryAction.filter(F.action.in_(RETRY_ACTIONS)), summary
    )
    router.callback_query.register(
        process_split, SummaryAction.filter(F.action == "split"), summary
    )
    router.callback_query.register(
        process_split_go, SummaryAction.filter(F.action == "split_go"), summary
    )
    router.message.register(
        process_summary, summary, F.text, ~F.text.startswith("/"), AddressedToBot()
    )
    return router
