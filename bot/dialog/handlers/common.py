"""Commands that work anywhere: /start, /help, /new, /cancel, /language."""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router, html
from aiogram.filters import Command, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.dialog.callbacks import Ignore, PickLanguage
from bot.dialog.flow import Dialog, new_draft, step_after, submission_in_flight
from bot.dialog.guards import AddressedToBot
from bot.dialog.states import LanguageForm
from bot.middlewares.i18n import LanguagePreference

log = logging.getLogger("bot.dialog")

EXAMPLE_CSV = (
    "Телефон;name;time\r\n+7 916 123-45-67;Иванов Иван;10:00\r\n89161234568;Петрова Анна;11:30\r\n"
).encode("utf-8-sig")

LANGUAGES = {"ru": "Русский", "en": "English"}


async def start_draft(message: Message, dialog: Dialog) -> None:
    await dialog.state.clear()
    data = new_draft(dialog.user.id, dialog.chat.id, dialog.deps.presets)
    log.info(
        "draft started dialog=%s chat=%s user=%s", data["dialog"], dialog.chat.id, dialog.user.id
    )
    await dialog.ask(step_after(None, data), data, note=_("🆕 New campaign."))


async def cmd_start(message: Message) -> None:
    await message.answer(
        _(
            "Hello! I launch call campaigns of the voice assistant.\n\n"
            "/new — new campaign\n/help — how it works\n/cancel — stop\n"
            "/language — language"
        )
    )


async def cmd_help(message: Message) -> None:
    await message.answer(
        _(
            "<b>How to create a campaign</b>\n"
            "1. /new\n"
            "2. Answer: name, description, date, time, attempts, interval.\n"
            "3. Send the list: .xlsx, .xls, .ods, .csv, .txt, or numbers in a message.\n"
            "4. Check the summary and press «Create».\n\n"
            "The list needs a phone column (e.g. «Телефон»); other columns go to the "
            "scenario as data. Numbers like 8 916 123-45-67 or +79161234567 are fine.\n"
            "In a group, answer my questions with a reply."
        )
    )
    await message.answer_document(
        BufferedInputFile(EXAMPLE_CSV, filename="example.csv"),
        caption=_("An example list."),
    )


async def cmd_new(message: Message, dialog: Dialog) -> None:
    if submission_in_flight(await dialog.state.get_data()):
        await message.reply(_("The campaign is being created right now. Wait for the answer."))
        return
    await start_draft(message, dialog)


async def cmd_cancel(message: Message, dialog: Dialog) -> None:
    data = await dialog.state.get_data()
    if submission_in_flight(data):
        await message.reply(_("The campaign is being created right now. Wait for the answer."))
        return
    if await dialog.state.get_state() is None:
        await message.reply(_("Nothing to cancel. /new — new campaign"))
        return
    await dialog.discard(data)
    await message.reply(_("Cancelled. /new — new campaign"))


async def cmd_language(message: Message, state: FSMContext) -> None:
    assert message.from_user is not None
    if await state.get_state() is None:
        await state.set_state(LanguageForm.choose)
    await message.reply(
        _("Choose the language:"),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=title,
                        callback_data=PickLanguage(owner=message.from_user.id, locale=code).pack(),
                    )
                    for code, title in LANGUAGES.items()
                ]
            ]
        ),
    )


async def _set_language(
    user_id: int, locale: str, bot: Bot, i18n: I18n, preference: LanguagePreference
) -> str:
    await preference.set(bot.id, user_id, locale)
    with i18n.use_locale(locale):
        return _("Language: {language}").format(language=LANGUAGES[locale])


async def process_language_button(
    callback: CallbackQuery,
    callback_data: PickLanguage,
    bot: Bot,
    i18n: I18n,
    language_preference: LanguagePreference,
    state: FSMContext,
) -> None:
    if callback_data.locale not in LANGUAGES:  # forged data: no button of ours carries it
        await callback.answer()
        return
    text = await _set_language(
        callback.from_user.id, callback_data.locale, bot, i18n, language_preference
    )
    if await state.get_state() == LanguageForm.choose.state:
        await state.clear()
    await callback.answer(text)
    if isinstance(callback.message, Message):
        await callback.message.edit_text(html.quote(text))


def _typed_language(text: str) -> str | None:
    value = text.strip().lower()
    for code, title in LANGUAGES.items():
        if value in (code, title.lower()):
            return code
    return {"русский язык": "ru", "английский": "en", "russian": "ru"}.get(value)


async def process_language(
    message: Message,
    state: FSMContext,
    bot: Bot,
    i18n: I18n,
    language_preference: LanguagePreference,
) -> None:
    assert message.from_user is not None and message.text is not None
    locale = _typed_language(message.text)
    if locale is None:
        await message.reply(_("Pick a language with the buttons: Русский or English."))
        return
    await state.clear()
    await message.reply(
        html.quote(
            await _set_language(message.from_user.id, locale, bot, i18n, language_preference)
        )
    )


async def process_inert_button(callback: CallbackQuery) -> None:
    await callback.answer()


def create_router() -> Router:
    router = Router(name="common")
    router.message.register(cmd_start, CommandStart(), StateFilter(None))
    router.message.register(cmd_help, Command("help"))
    router.message.register(cmd_new, Command("new"))
    router.message.register(cmd_cancel, Command("cancel"))
    router.message.register(cmd_language, Command("language"))
    router.callback_query.register(process_language_button, PickLanguage.filter())
    router.message.register(process_language, LanguageForm.choose, F.text, AddressedToBot())
    router.callback_query.register(process_inert_button, Ignore.filter())
    return router
