"""The contact-list step: a file in any accepted format, or numbers pasted as text."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import BufferedInputFile, Message, ReplyParameters
from aiogram.utils.chat_action import ChatActionSender
from aiogram.utils.i18n import gettext as _

from bot.dialog.flow import Dialog
from bot.dialog.guards import AddressedToBot
from bot.dialog.render import (
    ingest_error_text,
    ingest_report,
    join_keys,
    missing_params,
    reject_reason_text,
)
from bot.dialog.states import CampaignForm
from bot.phones import IngestError, IngestResult, build_report, ingest_text

log = logging.getLogger("bot.dialog")


async def process_phones_file(message: Message, dialog: Dialog, bot: Bot) -> None:
    document = message.document
    assert document is not None
    deps = dialog.deps
    data = await dialog.state.get_data()
    data["reply_to"] = message.message_id
    limits = deps.ingest_limits
    if document.file_size and document.file_size > limits.max_bytes:
        error = IngestError("too_large", limit=limits.max_bytes)
        await dialog.ask("ph", data, note="❗ " + ingest_error_text(error))
        return
    status = await message.reply(_("⏳ Reading the file…"))
    filename = document.file_name or "list"
    try:
        async with ChatActionSender.upload_document(bot=bot, chat_id=message.chat.id):
            buffer = await bot.download(document)
            assert buffer is not None
            result = await deps.ingest(buffer.getvalue(), filename, limits)
    except IngestError as error:
        await dialog.replace(status.message_id, "❗ " + ingest_error_text(error))
        await dialog.ask("ph", data)
        return
    except TelegramBadRequest as error:
        log.info("list download refused: %s", error.message)
        too_big = "too big" in error.message.lower()
        text = (
            ingest_error_text(IngestError("too_large", limit=limits.max_bytes))
            if too_big
            else _("Telegram did not give me the file. Send it again.")
        )
        await dialog.replace(status.message_id, "❗ " + text)
        await dialog.ask("ph", data)
        return
    except (TimeoutError, TelegramAPIError, OSError) as error:
        log.warning("list download failed: %s", type(error).__name__)
        await dialog.replace(
            status.message_id, "❗ " + _("Telegram did not give me the file. Send it again.")
        )
        await dialog.ask("ph", data)
        return
    await accept_list(result, dialog, data, status)


async def process_phones_text(message: Message, dialog: Dialog) -> None:
    """Numbers pasted as a message, or a contact card shared from the phone book."""
    text = message.contact.phone_number if message.contact else message.text
    assert text is not None
    data = await dialog.state.get_data()
    data["reply_to"] = message.message_id
    try:
        result = ingest_text(text, dialog.deps.ingest_limits)
    except IngestError as error:
        await dialog.ask("ph", data, note="❗ " + ingest_error_text(error))
        return
    # Pasted text is read at once: no progress message to show.
    await accept_list(result, dialog, data, None)


async def accept_list(
    result: IngestResult, dialog: Dialog, data: dict[str, Any], status: Message | None
) -> None:
    """Show what became of the rows; keep the list and go on, or ask again when none fit."""
    deps = dialog.deps
    report = ingest_report(
        result, locale=dialog.i18n.current_locale, mask=dialog.group, describe=reject_reason_text
    )
    if result.accepted == 0:
        await dialog.replace(status.message_id if status else None, report)
        await dialog.ask("ph", data, note="❗ " + _("No valid number in the list."))
        return
    missing = missing_params({**data, "add_data_keys": result.phones.keys}, deps.presets)
    if missing:
        report += "\n\n" + _("⚠️ The file lacks the scenario's parameters: {keys}").format(
            keys=join_keys(missing)
        )
    # The report takes the progress message's place, or comes anew after pasted numbers.
    report_id = await dialog.replace(status.message_id if status else None, report)
    if result.rejected_total or result.left_out:
        content = await asyncio.to_thread(
            build_report, result, reject_reason_text, left_out_title=_("Other numbers")
        )
        caption = []
        if result.rejected_total:
            caption.append(_("Rejected rows: {count}").format(count=result.rejected_total))
        if result.left_out:
            caption.append(
                _("Other numbers from cells, not used: {count}").format(
                    count=len(result.left_out)
                )
            )
        await dialog.bot.send_document(
            dialog.chat.id,
            BufferedInputFile(content, filename="rejected.xlsx"),
            message_thread_id=dialog.thread_id,
            caption="\n".join(caption),
            reply_parameters=ReplyParameters(
                message_id=report_id, allow_sending_without_reply=True
            ),
        )
    blob = await asyncio.to_thread(result.phones.to_bytes)
    old_ref = data.get("phones_ref")
    data["phones_ref"] = await deps.phone_lists.put(blob)
    if old_ref:
        await deps.phone_lists.delete(old_ref)
    data["phones_count"] = result.accepted
    data["add_data_keys"] = list(result.phones.keys)
    data["phone_column"] = result.phone_column
    log.info(
        "list accepted dialog=%s rows=%d accepted=%d rejected=%d bytes=%d",
        data.get("dialog"),
        result.rows_read,
        result.accepted,
        result.rejected_total,
        len(blob),
    )
    await dialog.advance("ph", data)


def create_router() -> Router:
    router = Router(name="phones")
    router.message.register(process_phones_file, CampaignForm.phones, F.document, AddressedToBot())
    router.message.register(
        process_phones_text, CampaignForm.phones, F.text, ~F.text.startswith("/"), AddressedToBot()
    )
    router.message.register(process_phones_text, CampaignForm.phones, F.contact, AddressedToBot())
    return router
