"""Input of the wrong kind, and buttons of dialogs that are over."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.filters import StateFilter
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.dialog.conversation import Conversation
from bot.dialog.guards import AddressedToBot, answer_dialog_over
from bot.dialog.states import CampaignForm, StepCode
from bot.dialog.steps import step_of_state


async def process_wrong_input(
    message: Message, dialog: Conversation, raw_state: str | None
) -> None:
    draft = dialog.draft
    step = step_of_state(raw_state)
    if draft is None:
        return  # pragma: no cover - a CampaignForm state always has its draft
    if raw_state == CampaignForm.summary.state or step is None:
        await dialog.show_summary(draft, note=_("Press a button or type «создать»."))
        return
    hint = (
        _("I need a file or numbers as text.")
        if step.code == StepCode.PHONES
        else _("I need a text answer or a button.")
    )
    await dialog.ask(step.code, draft, note="❗ " + hint)


async def process_unknown_command(message: Message) -> None:
    await message.answer(_("Unknown command. /new — new campaign, /help — help"))


async def process_idle_message(message: Message) -> None:
    await message.answer(_("To create a campaign send /new. /help — how it works"))


async def process_stale_button(callback: CallbackQuery) -> None:
    await answer_dialog_over(callback)


def create_router() -> Router:
    router = Router(name="fallback")
    router.message.register(
        process_wrong_input, StateFilter(CampaignForm), AddressedToBot(), ~F.text.startswith("/")
    )
    router.message.register(
        process_unknown_command, F.text.startswith("/"), F.chat.type == ChatType.PRIVATE
    )
    router.message.register(
        process_idle_message, StateFilter(None), F.chat.type == ChatType.PRIVATE
    )
    router.callback_query.register(process_stale_button)
    return router
