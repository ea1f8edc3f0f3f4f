"""Commands that work anywhere: /start, /help, /new, /cancel, /language."""

from __future__ import annotations

import logging
import re

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

from bot.dialog.callbacks import DraftChoice, Ignore, PickLanguage
from bot.dialog.conversation import Conversation, mention
from bot.dialog.draft import Draft, new_draft
from bot.dialog.guards import AddressedToBot, answer_dialog_over
from bot.dialog.handlers.steps import cancel_draft
from bot.dialog.handlers.summary import offer_beside, start_beside
from bot.dialog.states import CampaignForm, LanguageForm, ResumeForm
from bot.dialog.steps import BY_CODE, step_after, step_of_state
from bot.dialog.submission import (
    UNKNOWN_OUTCOME_ACTIONS,
    guard_busy,
    unknown_outcome_text,
)
from bot.middlewares.i18n import LanguagePreference

log = logging.getLogger("bot.dialog")

EXAMPLE_CSV = (
    "Телефон;name;time\r\n+7 916 123-45-67;Иванов Иван;10:00\r\n89161234568;Петрова Анна;11:30\r\n"
).encode("utf-8-sig")

LANGUAGES = {"ru": "Русский", "en": "English"}


async def start_draft(dialog: Conversation, *, live: int | None = None) -> None:
    # No clear() first: ask() replaces state and data in one write. Two writes would let a
    # crash between them leave the update marked handled with the draft gone (the user
    # sees the first question, and their answer finds no draft).
    draft = new_draft(dialog.user.id, dialog.chat.id, dialog.deps.presets)
    draft.live = live  # a message of the old draft that the new one may take over
    log.info(
        "draft started dialog=%s chat=%s user=%s", draft.dialog, dialog.chat.id, dialog.user.id
    )
    await dialog.ask(step_after(None, draft), draft)


def has_open_draft(raw_state: str | None, draft: Draft | None) -> bool:
    if draft is None or raw_state is None:
        return False
    return raw_state == ResumeForm.choose.state or raw_state in CampaignForm.__state_names__


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


async def cmd_new(message: Message, dialog: Conversation, raw_state: str | None) -> None:
    from bot.dialog.teamdesk import start_handoff, wizard_in_group

    if dialog.group and not wizard_in_group(dialog):
        # The group gets one short answer with a link; the wizard (and the list) stay in
        # the private chat.
        await start_handoff(dialog, message.message_id)
        return
    draft = dialog.draft

    async def beside() -> None:
        assert draft is not None
        await offer_beside(dialog, draft)

    if await guard_busy(dialog, draft, on_live=beside):
        return
    if (
        draft is not None
        and has_open_draft(raw_state, draft)
        and not is_untouched(raw_state, draft)
    ):
        await ask_resume(dialog, draft, raw_state)
        return
    if draft is not None:
        # Nothing answered yet: nothing to ask about. The new draft's one write
        # replaces it; only its buttons go.
        await dialog.clear_keyboards(draft)
    await start_draft(dialog)


def is_untouched(raw_state: str | None, draft: Draft) -> bool:
    """Still at its first question: starting over loses nothing."""
    first = BY_CODE.get(step_after(None, draft))
    return first is not None and raw_state == first.state.state


# --- /new over an open draft: continue it or start over -------------------------------------

CONTINUE_WORDS = {"продолжить", "продолжаем", "продолжу", "дальше", "continue", "resume"}
RESTART_WORDS = {
    "заново",
    "начать заново",
    "сначала",
    "новый",
    "удалить",
    "start over",
    "restart",
    "new",
}


async def ask_resume(
    dialog: Conversation, draft: Draft, raw_state: str | None, *, note: str | None = None
) -> None:
    """Never drop a draft without a word: ask, and remember the question it was at."""
    if raw_state != ResumeForm.choose.state:
        draft.resume_state = raw_state
    name = draft.name
    text = (
        _("You have a draft «{name}»: continue or start over?").format(name=html.quote(name))
        if name
        else _("You have an unfinished draft: continue or start over?")
    )
    if note:
        text = f"{note}\n\n{text}"
    if dialog.group:
        text = f"{mention(dialog.user)}, {text}"

    def button(label: str, action: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(
            text=label,
            callback_data=DraftChoice(
                owner=dialog.user.id, dialog=draft.dialog, action=action
            ).pack(),
        )

    rows = [[button(_("▶️ Continue"), "continue"), button(_("🆕 Start over"), "restart")]]
    message_id = await dialog.send(text, rows)
    # One of the draft's messages: its buttons go when the draft goes on or is discarded.
    # It is the live one now: the draft goes on in it.
    draft.kb_msgs.append(message_id)
    if not dialog.group:
        draft.live = message_id
    await dialog.save(draft, ResumeForm.choose)


async def resume_draft(dialog: Conversation, draft: Draft) -> None:
    """The current question again, or the summary with what can be done at it."""
    previous, draft.resume_state = draft.resume_state, None
    step = step_of_state(previous)
    if previous == CampaignForm.summary.state:
        if draft.outcome_unknown:
            await dialog.show_summary(
                draft, note=unknown_outcome_text(), actions=UNKNOWN_OUTCOME_ACTIONS
            )
        else:
            await dialog.show_summary(draft)
    elif step is not None:
        await dialog.ask(step.code, draft)
    else:
        await start_draft(dialog)


async def restart_draft(dialog: Conversation, draft: Draft) -> None:
    name = draft.name
    await dialog.discard(draft)
    text = (
        _("Draft «{name}» deleted.").format(name=html.quote(name))
        if name
        else _("The draft was deleted.")
    )
    # In a private chat the pressed question itself says so; otherwise a new message.
    await dialog.replace(None if dialog.group else dialog.pressed, text)
    await start_draft(dialog)


async def process_draft_choice(
    callback: CallbackQuery, callback_data: DraftChoice, dialog: Conversation, raw_state: str | None
) -> None:
    # DraftGuard has checked the owner, the dialog and the pressed message.
    draft = dialog.draft
    assert draft is not None
    if callback_data.action == "beside":

        async def beside() -> None:
            await start_beside(dialog, draft)

        if await guard_busy(dialog, draft, callback=callback, on_live=beside):
            return
        await callback.answer()
        if has_open_draft(raw_state, draft):  # its result came meanwhile
            await ask_resume(dialog, draft, raw_state)
        else:
            await start_draft(dialog)
        return
    if raw_state != ResumeForm.choose.state:
        await answer_dialog_over(callback)
        return
    await callback.answer()
    if callback_data.action == "continue":
        await resume_draft(dialog, draft)
    else:
        await restart_draft(dialog, draft)


async def process_resume_answer(message: Message, dialog: Conversation) -> None:
    word = (message.text or "").strip().lower().rstrip("!.")
    word = re.sub(r"^[^\wа-яё]+", "", word)
    draft = dialog.draft
    if draft is None:
        return  # pragma: no cover - ResumeForm always has its draft
    if word in CONTINUE_WORDS:
        await resume_draft(dialog, draft)
    elif word in RESTART_WORDS:
        await restart_draft(dialog, draft)
    else:
        note = "❗ " + _("Type «продолжить» or «заново», or press a button.")
        await ask_resume(dialog, draft, ResumeForm.choose.state, note=note)


async def process_resume_pending(callback: CallbackQuery) -> None:
    """An earlier question's button while /new waits for its answer."""
    await callback.answer(_("First choose: continue the draft or start over."), show_alert=True)


async def cmd_cancel(message: Message, dialog: Conversation, raw_state: str | None) -> None:
    draft = dialog.draft
    if await guard_busy(dialog, draft):
        return
    if raw_state is None:
        await message.reply(_("Nothing to cancel. /new — new campaign"))
        return
    if draft is None:  # a state without a draft (the language question)
        await dialog.state.clear()
        await message.reply(_("Cancelled. /new — new campaign"))
        return
    await cancel_draft(dialog, draft)


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
    router.callback_query.register(process_draft_choice, DraftChoice.filter())
    router.message.register(
        process_resume_answer, ResumeForm.choose, AddressedToBot(), ~F.text.startswith("/")
    )
    router.callback_query.register(process_resume_pending, ResumeForm.choose)
    return router
