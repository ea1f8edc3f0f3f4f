"""The team desk on Telegram's side: the handoff message, the card in the group, the
history list. Kept apart from the wizard: it takes plain values, so the wizard's draft
and screens may change without it.

A campaign started in a group leaves there at most: the handoff (which becomes the card)
and, where approval applies, the approval request (which then is the card).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

from aiogram import Bot, html
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters, User
from aiogram.utils.i18n import gettext as _
from babel.dates import format_date

from bot.dialog.card import CardState, CardView, render_card, tz_short, user_link
from bot.dialog.desk_buttons import HistoryPage, Repeat
from bot.dialog.render import clip, fit_message, number
from bot.handoff import Handoff, HandoffStore, deep_link
from bot.history import PAGE_SIZE, HistoryRecord
from bot.history import HistoryPage as Page

log = logging.getLogger("bot.dialog")


async def put_card(
    bot: Bot,
    *,
    chat_id: int,
    thread_id: int | None,
    message_id: int | None,
    text: str,
    rows: list[list[InlineKeyboardButton]],
) -> int | None:
    """The card in place of `message_id` (edited: no new message in the group); sent anew
    only when that message is gone. None when Telegram refused both: the campaign's fate
    never depends on the card."""
    markup = InlineKeyboardMarkup(inline_keyboard=rows) if rows else None
    if message_id is not None:
        try:
            await bot.edit_message_text(
                fit_message(text), chat_id=chat_id, message_id=message_id, reply_markup=markup
            )
            return message_id
        except TelegramBadRequest as error:
            if "not modified" in error.message.lower():
                return message_id
        except TelegramAPIError:
            pass
    try:
        sent = await bot.send_message(
            chat_id, fit_message(text), message_thread_id=thread_id, reply_markup=markup
        )
    except TelegramAPIError as error:
        log.warning("card not shown chat=%s: %s", chat_id, type(error).__name__)
        return None
    return sent.message_id


async def show_card(
    bot: Bot,
    view: CardView,
    *,
    chat_id: int,
    thread_id: int | None,
    message_id: int | None,
    locale: str,
    tz_name: str,
    now: dt.datetime,
    default_interval: int,
) -> int | None:
    text, rows = render_card(
        view, locale=locale, tz=tz_short(tz_name, now), default_interval=default_interval
    )
    return await put_card(bot, chat_id=chat_id, thread_id=thread_id, message_id=message_id,
                          text=text, rows=rows)


async def delete_quietly(bot: Bot, chat_id: int, message_id: int | None) -> None:
    if message_id is None:
        return
    try:
        await bot.delete_message(chat_id, message_id)
    except TelegramAPIError:
        # Older than 48 h or no right to delete: at least its link goes.
        try:
            await bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id,
                                                reply_markup=None)
        except TelegramAPIError:
            pass


def handoff_text(user: User) -> str:
    return _("{user}, let's fill in the campaign in a private chat: the list stays "
             "there, and the result comes here.").format(user=user_link(user.id, user.full_name))


async def hand_over(
    bot: Bot,
    handoffs: HandoffStore,
    *,
    chat_id: int,
    chat_title: str,
    thread_id: int | None,
    user: User,
    reply_to: int | None,
    bot_username: str,
) -> int:
    """The group's one answer to /new: a link to the private chat, for this user only."""
    handoff = Handoff(user_id=user.id, chat_id=chat_id, thread_id=thread_id,
                      chat_title=clip(chat_title, 64))
    token = await handoffs.issue(handoff)
    button = InlineKeyboardButton(text=_("➡️ Open the private chat"),
                                  url=deep_link(bot_username, token))
    reply = (ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)
             if reply_to else None)
    sent = await bot.send_message(
        chat_id, handoff_text(user), message_thread_id=thread_id,
        reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button]]), reply_parameters=reply,
    )
    # The message that becomes the card: the private draft learns it with the token.
    await handoffs.update(token, dataclasses.replace(handoff, message_id=sent.message_id))
    return sent.message_id


def taken_text(user: User) -> str:
    return "✍️ " + _("{user} is preparing a campaign in a private chat.").format(
        user=user_link(user.id, user.full_name)
    )


# --- history ---------------------------------------------------------------------------------


def entry_line(n: int, record: HistoryRecord, *, locale: str) -> str:
    day = format_date(dt.date.fromisoformat(record.date), "d MMM", locale=locale)
    name = html.quote(clip(record.name, 60))
    if record.outcome == "created":
        head = _("№ {id} «{name}»").format(id=record.campaign_id, name=name)
    else:
        head = "⚠️ " + _("«{name}», outcome unknown").format(name=name)
    details = _("{day}, {start}–{end} · numbers: {count} · {author}").format(
        day=day, start=record.start, end=record.end, count=number(record.count, locale),
        author=html.quote(clip(record.author_name or "—", 40)),
    )
    return f"{n}. {head}\n    {details}"


def history_text(page: Page, *, offset: int, locale: str, own: bool) -> str:
    if not page.available:
        return "⏳ " + _("The history is unavailable right now. Try again in a minute.")
    if not page.records:
        return "📜 " + (_("You have not launched any campaigns yet.") if own
                       else _("No campaigns have been launched from this chat yet."))
    title = _("📜 Your campaigns") if own else _("📜 Campaigns of this chat")
    shown = _("{first}–{last} of {total}").format(
        first=offset + 1, last=offset + len(page.records), total=page.total
    )
    lines = [f"<b>{title}</b> · {shown}", ""]
    lines += [entry_line(offset + i + 1, r, locale=locale) for i, r in enumerate(page.records)]
    lines += ["", _("«🔁 N» starts a new draft from campaign N.")]
    return fit_message("\n".join(lines))


def history_rows(page: Page, *, offset: int, chat: int, page_no: int
                 ) -> list[list[InlineKeyboardButton]]:
    repeat = [
        InlineKeyboardButton(text=f"🔁 {offset + i + 1}",
                             callback_data=Repeat(rec=r.id).pack())
        for i, r in enumerate(page.records)
    ]
    rows = [repeat[i : i + 5] for i in range(0, len(repeat), 5)]
    nav = []
    if page_no > 0:
        nav.append(InlineKeyboardButton(
            text=_("‹ Newer"), callback_data=HistoryPage(chat=chat, page=page_no - 1).pack()
        ))
    if offset + len(page.records) < page.total:
        nav.append(InlineKeyboardButton(
            text=_("Older ›"), callback_data=HistoryPage(chat=chat, page=page_no + 1).pack()
        ))
    if nav:
        rows.append(nav)
    return rows


def page_offset(page_no: int) -> int:
    return max(0, page_no) * PAGE_SIZE


__all__ = [
    "CardState",
    "CardView",
    "delete_quietly",
    "hand_over",
    "history_rows",
    "history_text",
    "page_offset",
    "put_card",
    "show_card",
    "taken_text",
]
