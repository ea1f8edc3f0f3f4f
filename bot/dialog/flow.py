"""Moving through the wizard: which step comes next, asking it, showing the summary.

Questions in a group reply to the asking user with a selective ForceReply: with privacy
mode on, only replies to the bot's own messages reach it.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Bot, html
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    CallbackQuery,
    Chat,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
    TelegramObject,
    User,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.deps import AppDeps
from bot.dialog.callbacks import SummaryAction
from bot.dialog.questions import build_question
from bot.dialog.render import fit_message, summary_lines, summary_warnings
from bot.dialog.states import FIELD_STATES, STEP_ORDER, CampaignForm
from bot.drafts import inflight_key
from bot.presets import Presets

SUMMARY = "summary"


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


def new_draft(owner: int, chat_id: int, presets: Presets) -> dict[str, Any]:
    defaults = presets.chat_defaults(chat_id)
    scenario = defaults.scenario or (
        presets.scenarios[0].key if len(presets.scenarios) == 1 else None
    )
    caller = defaults.caller or (presets.callers[0].key if len(presets.callers) == 1 else None)
    return {
        "owner": owner,
        "dialog": secrets.token_hex(3),
        "scenario": scenario,
        "caller": caller,
        # Whether a choice was made for the user: such steps are not asked, nor gone back to.
        "fixed": [code for code, value in (("sc", scenario), ("cl", caller)) if value],
        "rev": 0,
        "kb_msgs": [],
    }


def submission_marked(data: dict[str, Any]) -> bool:
    return data.get("submit") == "in_flight"


def is_skipped(code: str, data: dict[str, Any]) -> bool:
    if code in data.get("fixed", ()):
        return True
    return code == "iv" and int(data.get("attempts") or 0) == 1


def step_after(code: str | None, data: dict[str, Any]) -> str:
    index = -1 if code is None else STEP_ORDER.index(code)
    for candidate in STEP_ORDER[index + 1 :]:
        if not is_skipped(candidate, data):
            return candidate
    return SUMMARY


def step_before(code: str, data: dict[str, Any]) -> str | None:
    index = STEP_ORDER.index(code)
    for candidate in reversed(STEP_ORDER[:index]):
        if not is_skipped(candidate, data):
            return candidate
    return None


def first_missing(data: dict[str, Any]) -> str | None:
    """After an edit, a step whose answer the edit made invalid or needed (or None)."""
    required = {
        "sc": "scenario",
        "cl": "caller",
        "nm": "name",
        "dt": "date",
        "wn": "start",
        "at": "attempts",
        "ph": "phones_ref",
    }
    for code in STEP_ORDER:
        key = required.get(code)
        if key and not data.get(key):
            return code
    if int(data.get("attempts") or 1) > 1 and data.get("interval") is None:
        return "iv"
    return None


class Dialog:
    """One user's wizard in one chat, for the length of one update."""

    def __init__(
        self,
        *,
        bot: Bot,
        chat: Chat,
        user: User,
        state: FSMContext,
        deps: AppDeps,
        i18n: I18n,
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
        self.reply_to = reply_to
        # The bot message whose button brought this update, if any.
        self.pressed = pressed
        # A forum group's topic: the dialog stays in the topic it was started in.
        self.thread_id = thread_id

    @property
    def group(self) -> bool:
        return is_group(self.chat)

    def inflight_key(self, data: dict[str, Any]) -> str:
        """The mark of this submission; one per submission (a resend gets another), so a
        late report on an earlier one can never take a later one for it."""
        if data.get("submit_key"):
            return str(data["submit_key"])
        return inflight_key(self.chat.id, self.user.id, f"{data.get('dialog')}-{data.get('rev')}")

    async def submission_status(self, data: dict[str, Any]) -> str | None:
        """None: not submitted; "live": its POST runs (its holder beats); "dead": its holder
        died mid-POST, so the campaign may or may not exist."""
        if not submission_marked(data):
            return None
        return "live" if await self.deps.inflight.alive(self.inflight_key(data)) else "dead"

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

    async def replace(self, message_id: int | None, text: str) -> int:
        """Put `text` in place of the bot's message `message_id` (a progress message); sent
        anew when there is none or it cannot be edited. Returns the id that holds it."""
        if message_id is not None:
            try:
                await self.bot.edit_message_text(
                    fit_message(text), chat_id=self.chat.id, message_id=message_id
                )
                return message_id
            except TelegramAPIError:
                pass
        return await self.send(text)

    async def present(
        self,
        data: dict[str, Any],
        text: str,
        rows: list[list[InlineKeyboardButton]] | None = None,
    ) -> int:
        """Show `text` as the dialog's current message; returns its id.

        After a button press in a private chat the pressed message itself becomes the new
        one (one edit instead of taking its buttons off and sending anew); otherwise a new
        message is sent. Either way the buttons of earlier questions are taken off.
        """
        earlier = data.get("kb_msgs") or []
        target = self.pressed if not self.group and self.pressed in earlier else None
        await remove_keyboards(self.bot, self.chat.id, [m for m in earlier if m != target])
        data["kb_msgs"] = []
        message_id: int | None = None
        if target is not None:
            try:
                await self.bot.edit_message_text(
                    fit_message(text),
                    chat_id=self.chat.id,
                    message_id=target,
                    reply_markup=InlineKeyboardMarkup(inline_keyboard=rows) if rows else None,
                )
                message_id = target
            except TelegramAPIError:
                await remove_keyboards(self.bot, self.chat.id, [target])
        if message_id is None:
            message_id = await self.send(text, rows)
        if rows:
            data["kb_msgs"].append(message_id)
        return message_id

    async def clear_keyboards(self, data: dict[str, Any]) -> None:
        """Take the buttons off earlier questions: one answer per question."""
        await remove_keyboards(self.bot, self.chat.id, data.get("kb_msgs") or [])
        data["kb_msgs"] = []

    async def ask(self, code: str, data: dict[str, Any], *, note: str | None = None) -> None:
        """Ask step `code` (or show the summary) and move the FSM there."""
        if code == SUMMARY:
            await self.show_summary(data, note=note)
            return
        now = self.deps.now()
        question = build_question(
            code,
            data,
            owner=self.user.id,
            presets=self.deps.presets,
            today=now.date(),
            locale=self.i18n.current_locale,
            can_go_back=step_before(code, data) is not None,
        )
        text = question.text if note is None else f"{note}\n\n{question.text}"
        if self.group:
            await self.clear_keyboards(data)
            text = f"{mention(self.user)}, {text}"
            if question.rows:
                data["kb_msgs"].append(await self.send(text, question.rows))
                await self.send(
                    _("✍️ Or answer this message."),
                    force_reply_placeholder=question.placeholder,
                )
            else:
                await self.send(text, force_reply_placeholder=question.placeholder)
        else:
            await self.present(data, text, question.rows)
        await self.state.set_state(FIELD_STATES[code])
        await self.state.set_data(data)

    async def advance(self, done: str, data: dict[str, Any], *, note: str | None = None) -> None:
        """`done` was answered: go to the next question, or back to the summary when editing."""
        data["rev"] = int(data.get("rev", 0)) + 1
        if data.get("editing"):
            missing = first_missing(data)
            await self.ask(missing or SUMMARY, data, note=note)
            return
        await self.ask(step_after(done, data), data, note=note)

    async def discard(self, data: dict[str, Any]) -> None:
        """Forget the draft and its stored list; take the buttons off its messages."""
        await self.clear_keyboards(data)
        if data.get("phones_ref"):
            await self.deps.phone_lists.delete(data["phones_ref"])
        await self.state.clear()

    def summary_text(self, data: dict[str, Any]) -> str:
        deps = self.deps
        lines = [_("📋 <b>Check the campaign</b>"), ""]
        lines += summary_lines(
            data,
            presets=deps.presets,
            tz_name=deps.settings.timezone,
            now=deps.now(),
            locale=self.i18n.current_locale,
            default_interval=deps.settings.default_interval_minutes,
        )
        warnings = summary_warnings(
            data, presets=deps.presets, default_interval=deps.settings.default_interval_minutes
        )
        if warnings:
            lines += ["", *warnings]
        return "\n".join(lines)

    def summary_rows(self, data: dict[str, Any], *actions: str) -> list[list[InlineKeyboardButton]]:
        labels = {
            "create": _("✅ Create"),
            "edit": _("✏️ Edit"),
            "cancel": _("✖️ Cancel"),
            "retry": _("🔁 Retry"),
            "resend": _("⚠️ Send again"),
        }

        def button(action: str) -> InlineKeyboardButton:
            return InlineKeyboardButton(
                text=labels[action],
                callback_data=SummaryAction(
                    owner=self.user.id, dialog=data["dialog"], rev=data["rev"], action=action
                ).pack(),
            )

        rows = [[button(a) for a in actions[:2]], [button(a) for a in actions[2:]]]
        return [row for row in rows if row]

    async def show_summary(
        self,
        data: dict[str, Any],
        *,
        note: str | None = None,
        actions: tuple[str, ...] = ("create", "edit", "cancel"),
    ) -> None:
        data["editing"] = False
        text = self.summary_text(data)
        if note:
            text = f"{note}\n\n{text}"
        if self.group:
            text = f"{mention(self.user)}\n{text}"
        await self.present(data, text, self.summary_rows(data, *actions))
        await self.state.set_state(CampaignForm.summary)
        await self.state.set_data(data)


class DialogMiddleware(BaseMiddleware):
    """Hands every handler a `dialog` for the user and chat of its update.

    Questions that follow a button press reply to the user's message the pressed question
    replied to, so that a selective ForceReply in a group reaches the right person.
    """

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        if user is not None and chat is not None and "state" in data:
            reply_to: int | None = None
            if isinstance(event, Message):
                reply_to = event.message_id
            elif isinstance(event, CallbackQuery):
                message = event.message
                if isinstance(message, Message) and message.reply_to_message is not None:
                    reply_to = message.reply_to_message.message_id
                elif "draft" in data:
                    reply_to = data["draft"].get("reply_to")
            pressed = None
            if isinstance(event, CallbackQuery) and isinstance(event.message, Message):
                pressed = event.message.message_id
            source = event.message if isinstance(event, CallbackQuery) else event
            thread_id = None
            if isinstance(source, Message) and source.is_topic_message:
                thread_id = source.message_thread_id
            data["dialog"] = Dialog(
                bot=data["bot"],
                chat=chat,
                user=user,
                state=data["state"],
                deps=data["deps"],
                i18n=data["i18n"],
                reply_to=reply_to,
                pressed=pressed,
                thread_id=thread_id,
            )
        return await handler(event, data)
