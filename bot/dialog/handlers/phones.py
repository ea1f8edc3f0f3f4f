"""The contact-list step: a file in any accepted format, or numbers pasted as text."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
)
from aiogram.utils.chat_action import ChatActionSender
from aiogram.utils.i18n import gettext as _

from bot.calling import ListZones
from bot.dialog.callbacks import ListChoice
from bot.dialog.calling import attach_zones, zone_assigner, zones_report
from bot.dialog.conversation import Conversation
from bot.dialog.draft import Draft, ListFile
from bot.dialog.guards import AddressedToBot
from bot.dialog.render import (
    clip,
    ingest_error_text,
    ingest_report,
    join_keys,
    missing_params,
    number,
    reject_reason_text,
)
from bot.dialog.states import CampaignForm, StepCode
from bot.phones import (
    NO_HEADER,
    REJECT_REASONS,
    IngestError,
    IngestResult,
    ReportTexts,
    build_report,
    ingest_text,
)

log = logging.getLogger("bot.dialog")
_MAX_ALTERNATIVES = 6  # a phone screen's worth of buttons


async def process_phones_file(message: Message, dialog: Conversation, bot: Bot) -> None:
    document = message.document
    assert document is not None and dialog.draft is not None
    deps = dialog.deps
    draft = dialog.draft
    draft.reply_to = message.message_id
    limits = deps.ingest_limits
    if document.file_size and document.file_size > limits.max_bytes:
        error = IngestError("too_large", limit=limits.max_bytes)
        await dialog.ask(StepCode.PHONES, draft, note="❗ " + ingest_error_text(error))
        return
    status = await message.reply(_("⏳ Reading the file…"))
    filename = document.file_name or "list"
    result = await read_list(dialog, bot, document.file_id, filename, None)
    if isinstance(result, str):
        # The progress message goes; the question, edited in place, says why on top.
        with contextlib.suppress(TelegramAPIError):
            await bot.delete_message(dialog.chat.id, status.message_id)
        await dialog.ask(StepCode.PHONES, draft, note=result)
        return
    # The file_id, not the bytes: a choice among the report's alternatives downloads it
    # again, so the draft stays small (and JSON-safe).
    uploads = draft.list_file.n if draft.list_file else 0
    draft.list_file = ListFile(id=document.file_id, name=filename, n=uploads + 1)
    await accept_list(result, dialog, draft, status.message_id)


async def read_list(
    dialog: Conversation,
    bot: Bot,
    file_id: str,
    filename: str,
    choice: tuple[str, int] | None,
) -> IngestResult | str:
    """Download and read a list file: the result, or why it cannot be used (a text)."""
    deps = dialog.deps
    limits = deps.ingest_limits
    try:
        async with ChatActionSender.upload_document(bot=bot, chat_id=dialog.chat.id):
            # The rejected-rows report is built by the worker, in the user's language.
            # The zones too: computed there from the columnar list, so this process
            # never expands a million numbers into Python objects.
            extra: dict[str, Any] = {
                "report": report_texts(),
                "annotate": zone_assigner(deps.settings),
            }
            if choice is not None:
                extra["choice"] = choice
            # Downloaded to a file the worker reads: a 20 MB list never sits in the
            # bot's memory (nor crosses to the worker as a pickled copy).
            with tempfile.TemporaryDirectory(prefix="campaign-bot-list-") as folder:
                path = Path(folder) / "list"
                started = time.perf_counter()
                # 1 MB chunks: each chunk is a thread hop of the async file write.
                await bot.download(file_id, destination=path, chunk_size=1 << 20)
                downloaded = time.perf_counter()
                submitted_at = time.time()
                result = await deps.ingest(path, filename, limits, **extra)
                now = time.time()
                took = {k: round(v) for k, v in result.timings.items() if not k.endswith("_at")}
                if "sent_at" in result.timings:
                    took["queue_ms"] = round((result.timings["began_at"] - submitted_at) * 1000)
                    took["return_ms"] = round((now - result.timings["sent_at"]) * 1000)
                log.info(
                    "list read download_ms=%.0f ingest_ms=%.0f worker=%s",
                    (downloaded - started) * 1000,
                    (time.perf_counter() - downloaded) * 1000,
                    took,
                )
                return result
    except IngestError as error:
        return "❗ " + ingest_error_text(error)
    except TelegramBadRequest as error:
        log.info("list download refused: %s", error.message)
        too_big = "too big" in error.message.lower()
        text = (
            ingest_error_text(IngestError("too_large", limit=limits.max_bytes))
            if too_big
            else _("Telegram did not give me the file. Send it again.")
        )
        return "❗ " + text
    except (TimeoutError, TelegramAPIError, OSError) as error:
        log.warning("list download failed: %s", type(error).__name__)
        return "❗ " + _("Telegram did not give me the file. Send it again.")


async def process_list_choice(
    callback: CallbackQuery, callback_data: ListChoice, dialog: Conversation
) -> None:
    """A report's alternative: the same file read again that way, without a new upload."""
    draft = dialog.draft
    assert draft is not None
    file = draft.list_file
    if (
        file is None
        or file.n != callback_data.file
        or callback_data.kind not in ("col", "sheet", "hdr")
        or callback_data.index < 0
    ):
        await callback.answer(_("This list has been replaced by another one."))
        return
    await callback.answer()
    if isinstance(callback.message, Message):  # the guard has checked it is the presser's
        with contextlib.suppress(TelegramAPIError):
            await callback.message.edit_reply_markup(reply_markup=None)
    status_id = await dialog.send(_("⏳ Reading the file…"))
    choice = (callback_data.kind, callback_data.index)
    result = await read_list(dialog, dialog.bot, file.id, file.name, choice)
    if isinstance(result, str):
        await dialog.replace(status_id, result)
        return  # the draft keeps the list it had; its summary is still the last question
    await accept_list(result, dialog, draft, status_id)


def report_texts() -> ReportTexts:
    return ReportTexts(
        reasons={
            code: reject_reason_text(code)
            for code in (*REJECT_REASONS, "cell_too_long", "left_out")
        },
        fallback=reject_reason_text(""),
        left_out_title=_("Other numbers"),
    )


def alternative_rows(
    result: IngestResult, owner: int, draft: Draft
) -> list[list[InlineKeyboardButton]]:
    file = draft.list_file
    if not file or not result.alternatives:
        return []
    rows = []
    for kind, index, name in result.alternatives[:_MAX_ALTERNATIVES]:
        text = alternative_label(kind, index, clip(name, 40))
        button = ListChoice(owner=owner, dialog=draft.dialog, file=file.n, kind=kind, index=index)
        rows.append([InlineKeyboardButton(text=text, callback_data=button.pack())])
    return rows


def alternative_label(kind: str, index: int, name: str) -> str:
    if kind == "col":
        return _("Take numbers from «{name}»").format(name=name)
    if kind == "sheet":
        return _("Another sheet: «{name}»").format(name=name)
    if index == NO_HEADER:
        return _("The first row is data too")
    return _("The first row is the header")


async def process_phones_text(message: Message, dialog: Conversation) -> None:
    """Numbers pasted as a message, or a contact card shared from the phone book."""
    text = message.contact.phone_number if message.contact else message.text
    assert text is not None and dialog.draft is not None
    draft = dialog.draft
    draft.reply_to = message.message_id
    try:
        result = ingest_text(text, dialog.deps.ingest_limits)
    except IngestError as error:
        await dialog.ask(StepCode.PHONES, draft, note="❗ " + ingest_error_text(error))
        return
    # Pasted text is read at once: no progress message to show.
    draft.list_file = None  # the report's alternatives were the file's
    await accept_list(result, dialog, draft, None)


async def accept_list(
    result: IngestResult, dialog: Conversation, draft: Draft, status_id: int | None
) -> None:
    """Show what became of the rows, with the rejected-rows file; keep the list and go on,
    or ask again when none fit. The wizard then goes on below the report."""
    deps = dialog.deps
    report = ingest_report(
        result, locale=dialog.locale, mask=dialog.group, describe=reject_reason_text
    )
    if result.accepted:
        # Zones of the accepted phones (the registry, the file's zone columns): the
        # worker's when it computed them, else (pasted text) computed now.
        computed = result.annotation if isinstance(result.annotation, ListZones) else None
        await attach_zones(deps, draft, result.phones, computed)
        zones = zones_report(draft, today=deps.now().date(), locale=dialog.locale)
        if zones:
            report += "\n\n" + zones
    if result.accepted == 0:
        report += "\n\n❗ " + _("No valid number in the list. Send another one.")
    else:
        missing = missing_params(draft.scenario, result.phones.keys, deps.presets)
        if missing:
            report += "\n\n" + _("⚠️ The file lacks the scenario's parameters: {keys}").format(
                keys=join_keys(missing)
            )
    # The report takes the progress message's place, or comes anew after pasted numbers.
    report_id = await dialog.replace(status_id, report)
    rows = alternative_rows(result, dialog.user.id, draft)
    if rows:
        with contextlib.suppress(TelegramAPIError):
            await dialog.bot.edit_message_reply_markup(
                chat_id=dialog.chat.id,
                message_id=report_id,
                reply_markup=InlineKeyboardMarkup(inline_keyboard=rows),
            )
    if result.rejected_total or result.left_out:
        # Also when nothing was accepted: that is when it is needed most.
        await send_rejected(result, dialog, report_id)
    # The wizard's live message moves below the report (it is folded into the next one).
    await dialog.retire_live(draft)
    if result.accepted == 0:
        await dialog.ask(StepCode.PHONES, draft)
        return
    blob = await asyncio.to_thread(result.phones.to_bytes)
    old_ref = draft.phones_ref
    draft.phones_ref = await deps.phone_lists.put(blob)
    if old_ref:
        await deps.phone_lists.delete(old_ref)
    draft.phones_count = result.accepted
    draft.add_data_keys = list(result.phones.keys)
    draft.phone_column = result.phone_column
    log.info(
        "list accepted dialog=%s rows=%d accepted=%d rejected=%d bytes=%d",
        draft.dialog,
        result.rows_read,
        result.accepted,
        result.rejected_total,
        len(blob),
    )
    await dialog.advance(StepCode.PHONES, draft)


async def send_rejected(result: IngestResult, dialog: Conversation, report_id: int) -> None:
    # The worker built it already; a list read in process (pasted text) builds it here.
    content = result.report or await asyncio.to_thread(
        build_report, result, reject_reason_text, left_out_title=_("Other numbers")
    )
    locale = dialog.locale
    caption = []
    if result.rejected_total:
        caption.append(
            _("Rejected rows: {count}").format(count=number(result.rejected_total, locale))
        )
    if result.left_out:
        caption.append(
            _("Other numbers from cells, not used: {count}").format(
                count=number(len(result.left_out), locale)
            )
        )
    await dialog.bot.send_document(
        dialog.chat.id,
        BufferedInputFile(content, filename="rejected.xlsx"),
        message_thread_id=dialog.thread_id,
        caption="\n".join(caption),
        reply_parameters=ReplyParameters(message_id=report_id, allow_sending_without_reply=True),
    )


def create_router() -> Router:
    router = Router(name="phones")
    router.message.register(process_phones_file, CampaignForm.phones, F.document, AddressedToBot())
    router.message.register(
        process_phones_text, CampaignForm.phones, F.text, ~F.text.startswith("/"), AddressedToBot()
    )
    router.message.register(process_phones_text, CampaignForm.phones, F.contact, AddressedToBot())
    router.callback_query.register(process_list_choice, ListChoice.filter(), CampaignForm.summary)
    return router
