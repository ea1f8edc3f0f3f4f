"""One user's wizard in one chat, for the length of one update: what it shows and stores.

In a private chat the wizard is one live message (`Draft.live`), edited for every step,
after a button and after a typed answer alike: answered steps folded into one line each
above the question, a refusal on top of it. In a group every question is a new message
replying to its user with a selective ForceReply: with privacy mode on, only replies to
the bot's own messages reach it.
"""

from __future__ import annotations

import contextlib
from typing import Any

from aiogram import Bot, html
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import (
    Chat,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyParameters,
    User,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.calling import CheckMode
from bot.deps import AppDeps
from bot.dialog.callbacks import Back, Quit, SummaryAction
from bot.dialog.calling import can_split, check_mode, hours_warnings, zones_report
from bot.dialog.draft import Draft, DraftUnreadable, load_draft
from bot.dialog.questions import AskContext
from bot.dialog.render import fit_message, summary_lines, summary_warnings
from bot.dialog.states import CampaignForm
from bot.dialog.steps import (
    BY_CODE,
    SUMMARY,
    first_missing,
    folded_answers,
    position,
    step_after,
    step_before,
)

SUMMARY_ACTIONS = ("create", "edit", "cancel")


async def remove_keyboards(bot: Bot, chat_id: int, message_ids: list[int]) -> None:
    for message_id in message_ids:
        with contextlib.suppress(TelegramAPIError):
            await bot.edit_message_reply_markup(
                chat_id=chat_id, message_id=message_id, reply_markup=None
            )


def is_group(chat: Chat) -> bool:
    return chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)


def mention(user: User) -> str:
    return html.link(html.quote(user.full_name), f"tg://user?id={user.id}")


def _not_modified(error: TelegramBadRequest) -> bool:
    return "not modified" in error.message.lower()


async def read_draft(state: FSMContext) -> Draft | None:
    """The stored draft, or None (none, or one this version cannot read)."""
    try:
        return load_draft(await state.get_data())
    except DraftUnreadable:
        return None


class Conversation:
    """The dialog's side of one update: its chat, user, state and the draft as loaded."""

    def __init__(
        self,
        *,
        bot: Bot,
        chat: Chat,
        user: User,
        state: FSMContext,
        deps: AppDeps,
        i18n: I18n,
        draft: Draft | None = None,
        reply_to: int | None = None,
        pressed: int | None = None,
        thread_id: int | None = None,
    ) -> None:
        self.bot = bot
        self.chat = chat
        self.user = user
        self.state = state
        self.deps = deps
        self.i18n = i18n
        # Loaded once per update (bot/dialog/middleware.py); None: no draft.
        self.draft = draft
        self.reply_to = reply_to
        # The bot message whose button brought this update, if any.
        self.pressed = pressed
        # A forum group's topic: the dialog stays in the topic it was started in.
        self.thread_id = thread_id

    @property
    def group(self) -> bool:
        return is_group(self.chat)

    @property
    def locale(self) -> str:
        return str(self.i18n.current_locale)

    def ask_context(self, draft: Draft, **extra: Any) -> AskContext:
        return AskContext(
            draft=draft,
            owner=self.user.id,
            presets=self.deps.presets,
            now=self.deps.now(),
            tz_name=self.deps.settings.timezone,
            locale=self.locale,
            **extra,
        )

    # --- storage -------------------------------------------------------------------------

    async def save(self, draft: Draft, state: State | None = None) -> None:
        """Store the draft (and move the FSM to `state`): with Redis, one transaction."""
        if state is not None:
            await self.state.set_state(state)
        await self.state.set_data(draft.dump())
        self.draft = draft

    async def reload(self) -> Draft | None:
        self.draft = await read_draft(self.state)
        return self.draft

    # --- messages ------------------------------------------------------------------------

    async def send(
        self,
        text: str,
        rows: list[list[InlineKeyboardButton]] | None = None,
        *,
        force_reply_placeholder: str | None = None,
    ) -> int:
        """Send one message; in a group as a reply to the user. Returns its id."""
        markup: InlineKeyboardMarkup | ForceReply | None = None
        if rows:
            markup = InlineKeyboardMarkup(inline_keyboard=rows)
        elif force_reply_placeholder is not None:
            markup = ForceReply(selective=True, input_field_placeholder=force_reply_placeholder)
        reply = None
        if self.group and self.reply_to:
            reply = ReplyParameters(message_id=self.reply_to, allow_sending_without_reply=True)
        message = await self.bot.send_message(
            self.chat.id,
            fit_message(text),
            message_thread_id=self.thread_id,
            reply_markup=markup,
            reply_parameters=reply,
        )
        return message.message_id

    async def edit(
        self, message_id: int, text: str, rows: list[list[InlineKeyboardButton]] | None = None
    ) -> bool:
        """Edit a bot message in place; False when Telegram will not (deleted, too old)."""
        try:
            await self.bot.edit_message_text(
                fit_message(text),
                chat_id=self.chat.id,
                message_id=message_id,
                reply_markup=InlineKeyboardMarkup(inline_keyboard=rows) if rows else None,
            )
        except TelegramBadRequest as error:
            return _not_modified(error)
        except TelegramAPIError:
            return False
        return True

    async def replace(self, message_id: int | None, text: str) -> int:
        """Put `text` in place of the bot's message `message_id` (a progress message); sent
        anew when there is none or it cannot be edited. Returns the id that holds it."""
        if message_id is not None and await self.edit(message_id, text):
            return message_id
        return await self.send(text)

    async def present(
        self,
        draft: Draft,
        text: str,
        rows: list[list[InlineKeyboardButton]] | None = None,
    ) -> int:
        """Show `text` as the dialog's current screen; returns its message id.

        Private chat: the live message is edited (one call), whatever brought the update;
        a new one only when there is none or it cannot be edited. Group: a new message.
        Either way the buttons of earlier messages are taken off.
        """
        target = None if self.group else draft.live
        if target is None and not self.group and self.pressed in draft.kb_msgs:
            target = self.pressed
        await remove_keyboards(self.bot, self.chat.id, [m for m in draft.kb_msgs if m != target])
        draft.kb_msgs = []
        await self.drop_helpers(draft)
        message_id: int | None = None
        if target is not None:
            if await self.edit(target, text, rows):
                message_id = target
            else:
                await remove_keyboards(self.bot, self.chat.id, [target])
        if message_id is None:
            message_id = await self.send(text, rows)
        if not self.group:
            draft.live = message_id
        if rows:
            draft.kb_msgs.append(message_id)
        return message_id

    async def retire_live(self, draft: Draft) -> None:
        """The next screen comes below what was just sent (the list report): the live
        message goes, its content is folded into the next one."""
        if draft.live is None:
            return
        try:
            await self.bot.delete_message(self.chat.id, draft.live)
        except TelegramAPIError:
            await remove_keyboards(self.bot, self.chat.id, [draft.live])
        draft.kb_msgs = [m for m in draft.kb_msgs if m != draft.live]
        draft.live = None

    async def clear_keyboards(self, draft: Draft) -> None:
        """Take the buttons off earlier questions: one answer per question."""
        await remove_keyboards(self.bot, self.chat.id, draft.kb_msgs)
        draft.kb_msgs = []
        await self.drop_helpers(draft)

    async def drop_helpers(self, draft: Draft) -> None:
        """The «✍️ Or answer this message» companions of answered questions go."""
        for message_id in draft.helper_msgs:
            with contextlib.suppress(TelegramAPIError):
                await self.bot.delete_message(self.chat.id, message_id)
        draft.helper_msgs = []

    # --- steps ---------------------------------------------------------------------------

    def nav_row(self, code: str, draft: Draft) -> list[InlineKeyboardButton]:
        """«Back» (or «Back to summary» when editing) and «Cancel», under every question."""
        row = []
        if draft.editing or step_before(code, draft) is not None:
            text = _("« Back to summary") if draft.editing else _("« Back")
            back = Back(owner=self.user.id, dialog=draft.dialog, field=code)
            row.append(InlineKeyboardButton(text=text, callback_data=back.pack()))
        if not self.group:  # a group keeps its questions as they were (ForceReply alone)
            quit_ = Quit(owner=self.user.id, dialog=draft.dialog)
            row.append(InlineKeyboardButton(text=_("✖️ Stop"), callback_data=quit_.pack()))
        return row

    def question_screen(
        self, code: str, draft: Draft, *, note: str | None = None, **extra: Any
    ) -> tuple[str, list[list[InlineKeyboardButton]], str]:
        """(text, buttons, reply-field hint) of step `code`."""
        ctx = self.ask_context(draft, **extra)
        question = BY_CODE[code].ask(ctx)
        n, total = position(code, draft)
        title = _("🆕 New campaign · step {n} of {total}").format(n=n, total=total)
        if self.group:
            # Its own line: the user it is for, then the question (no capital after a comma).
            head = [f"{mention(self.user)} · " + _("step {n} of {total}").format(n=n, total=total)]
        elif draft.editing:
            head = [_("✏️ Editing the campaign")]
        else:
            head = [title, *folded_answers(code, draft, ctx)]
        parts = ["\n".join(head)]
        if note:
            parts.append(note)
        parts.append(question.text)
        nav = self.nav_row(code, draft)
        rows = [*question.rows, nav] if nav else question.rows
        return "\n\n".join(parts), rows, question.placeholder

    async def ask(self, code: str, draft: Draft, *, note: str | None = None) -> None:
        """Ask step `code` (or show the summary) and move the FSM there."""
        if code == SUMMARY:
            await self.show_summary(draft, note=note)
            return
        text, rows, placeholder = self.question_screen(code, draft, note=note)
        if self.group:
            await self.clear_keyboards(draft)
            if rows:
                draft.kb_msgs.append(await self.send(text, rows))
                # A message has buttons or a ForceReply, not both: the companion opens the
                # reply; it is deleted once answered (drop_helpers), not left in the group.
                draft.helper_msgs.append(await self.send(
                    _("✍️ Or answer this message."), force_reply_placeholder=placeholder
                ))
            else:
                await self.send(text, force_reply_placeholder=placeholder)
        else:
            await self.present(draft, text, rows)
        await self.save(draft, BY_CODE[code].state)

    async def advance(self, done: str, draft: Draft, *, note: str | None = None) -> None:
        """`done` was answered: the next question, or back to the summary when editing."""
        draft.rev += 1
        if draft.editing:
            await self.ask(first_missing(draft) or SUMMARY, draft, note=note)
            return
        await self.ask(step_after(done, draft), draft, note=note)

    async def discard(self, draft: Draft) -> None:
        """Forget the draft and its stored list; take the buttons off its messages."""
        await self.clear_keyboards(draft)
        for ref in (draft.phones_ref, draft.zones_ref):
            if ref:
                await self.deps.phone_lists.delete(ref)
        await self.state.clear()
        self.draft = None

    async def say_done(self, draft: Draft | None, text: str) -> None:
        """A closing word: in place of the live message in a private chat."""
        live = None if self.group or draft is None else draft.live
        await self.replace(live, text)

    # --- summary -------------------------------------------------------------------------

    def summary_text(self, draft: Draft) -> str:
        deps = self.deps
        lines = [_("📋 <b>Check the campaign</b>")]
        lines += summary_lines(
            draft,
            presets=deps.presets,
            tz_name=deps.settings.timezone,
            now=deps.now(),
            locale=self.locale,
            default_interval=deps.settings.default_interval_minutes,
        )
        if draft.origin is not None and draft.origin.title:
            # Handed over from a group: its card there shows the result.
            lines.append(_("Result in: «{chat}»").format(chat=html.quote(draft.origin.title)))
        warnings = summary_warnings(
            draft, presets=deps.presets, default_interval=deps.settings.default_interval_minutes
        )
        # Local calling hours: the spread over zones, the groups outside the allowed hours.
        zones = zones_report(draft, today=deps.now().date(), locale=self.locale)
        if zones:
            lines.append(zones)
        warnings += hours_warnings(draft, deps.settings, deps.presets, locale=self.locale)
        return "\n".join(lines + warnings)

    def summary_rows(self, draft: Draft, *actions: str) -> list[list[InlineKeyboardButton]]:
        from bot.dialog.teamdesk import needs_approval

        labels = {
            "create": _("📨 Send for approval") if needs_approval(self, draft) else _("✅ Create"),
            "edit": _("✏️ Edit"),
            "cancel": _("✖️ Cancel"),
            "retry": _("🔁 Retry"),
            "resend": _("⚠️ Send again"),
            "split": _("🕐 Split by time zones"),
        }
        if "create" in actions and "split" not in actions and can_split(draft) and (
            check_mode(draft, self.deps.settings, self.deps.presets) is not CheckMode.OFF
        ):
            actions = (*actions, "split")

        def button(action: str) -> InlineKeyboardButton:
            data = SummaryAction(
                owner=self.user.id, dialog=draft.dialog, rev=draft.rev, action=action
            )
            return InlineKeyboardButton(text=labels[action], callback_data=data.pack())

        rows = [[button(a) for a in actions[:2]], [button(a) for a in actions[2:]]]
        return [row for row in rows if row]

    async def show_summary(
        self,
        draft: Draft,
        *,
        note: str | None = None,
        actions: tuple[str, ...] = SUMMARY_ACTIONS,
    ) -> None:
        """The summary as the current screen; `note` (an outcome, a refusal) on top of it."""
        draft.editing = False
        text = self.summary_text(draft)
        if note:
            text = f"{note}\n\n{text}"
        if self.group:
            text = f"{mention(self.user)}\n{text}"
        await self.present(draft, text, self.summary_rows(draft, *actions))
        await self.save(draft, CampaignForm.summary)
