"""The last resort: an update whose handler failed still gets an answer."""

from __future__ import annotations

import contextlib
import logging

from aiogram.exceptions import TelegramAPIError
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import gettext as _

log = logging.getLogger("bot.dialog")


async def on_error(event: ErrorEvent) -> bool:
    """Log the failure (its type and place, never message texts) and tell the user that the
    draft is kept; any Bot API error while doing so is swallowed: nothing to tell then."""
    update = event.update
    log.error(
        "update %s failed: %s",
        update.update_id,
        type(event.exception).__name__,
        exc_info=event.exception,
    )
    text = _("❗ Something went wrong. Your draft is kept: try again, or /cancel.")
    with contextlib.suppress(TelegramAPIError):
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.message is not None:
            await update.message.reply(text)
    return True
