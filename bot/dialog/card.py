"""The result card: one message in the chat a campaign was started from, edited in place
through its life (awaiting approval → creating → created / not created / outcome unknown).

Pure: a `CardView` in, text and buttons out. No phone number is ever shown on it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from aiogram import html
from aiogram.types import InlineKeyboardButton
from aiogram.utils.i18n import gettext as _
from babel.dates import format_date

from bot.dialog.desk_buttons import HistoryPage, Repeat, Vote
from bot.dialog.render import clip, fit_message, number

NAME_LIMIT = 100
REASON_LIMIT = 500


class CardState(StrEnum):
    AWAITING = "awaiting"
    CREATING = "creating"
    CREATED = "created"
    FAILED = "failed"
    UNKNOWN = "unknown"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class CardView:
    state: CardState
    name: str
    count: int
    date: str  # ISO
    start: str
    end: str
    attempts: int
    interval: int | None
    author_id: int
    author_name: str
    approver_id: int | None = None
    approver_name: str | None = None
    campaign_id: int | None = None
    reason: str | None = None  # why it was not created (plain text)
    record_id: str | None = None  # its history record, for «Repeat»
    chat_id: int = 0  # the chat whose history «History» opens (0: the presser's own)
    dialog: str | None = None  # the author's draft, for the approval buttons
    # A split set (bot/calling/split parts): each part's name, count, status and ID.
    parts: tuple[dict, ...] | None = None


def user_link(user_id: int, name: str) -> str:
    return html.link(html.quote(clip(name or "—", 64)), f"tg://user?id={user_id}")


def tz_short(tz_name: str, now: dt.datetime) -> str:
    """«Екб» for the call centre's own zone, else the UTC offset (UTC+5)."""
    if tz_name == "Asia/Yekaterinburg":
        return _("Ekb")
    if tz_name == "Europe/Moscow":
        return _("Msk")
    offset = now.utcoffset() or dt.timedelta()
    hours, rest = divmod(int(offset.total_seconds()), 3600)
    minutes = f":{abs(rest) // 60:02d}" if rest else ""
    return f"UTC{'+' if hours >= 0 else '-'}{abs(hours)}{minutes}"


def start_line(date: str, start: str, end: str, *, locale: str, tz: str) -> str:
    day = format_date(dt.date.fromisoformat(date), "EEE, d MMM", locale=locale)
    return _("Start: {day}, {start}–{end} ({tz})").format(day=day, start=start, end=end, tz=tz)


def attempts_line(attempts: int, interval: int | None, default_interval: int) -> str:
    if attempts <= 1:
        return _("Attempts: 1")
    return _("Attempts: {attempts}, {minutes} min apart").format(
        attempts=attempts, minutes=interval if interval is not None else default_interval
    )


def _heading(view: CardView) -> str:
    match view.state:
        case CardState.AWAITING:
            return "🕓 " + _("Awaiting approval")
        case CardState.CREATING:
            return "⏳ " + _("Creating the campaign…")
        case CardState.CREATED:
            return "✅ " + _("Campaign № {id} created").format(
                id=html.bold(str(view.campaign_id))
            )
        case CardState.FAILED:
            return "❌ " + _("Campaign not created")
        case CardState.UNKNOWN:
            return "⚠️ " + _(
                "No answer in time: the campaign may have been created. Check the list of "
                "campaigns before sending it again."
            )
        case CardState.DECLINED:
            return "✖️ " + _("Declined")
        case CardState.EXPIRED:
            return "⌛ " + _("The approval request has expired")
        case CardState.WITHDRAWN:
            return "✖️ " + _("The author cancelled the campaign")
    raise ValueError(view.state)


def _set_lines(view: CardView, *, locale: str) -> list[str]:
    """A split set: its heading and one line per part (ID, or missing, or may exist)."""
    from bot.dialog.calling import split_status

    parts = list(view.parts or ())
    status = split_status(parts, locale=locale).split("\n")
    if view.state == CardState.AWAITING:
        head = _heading(view)
    elif view.state == CardState.CREATING:
        head = "⏳ " + _("Creating the campaigns: {count}…").format(count=len(parts))
    elif view.state == CardState.CREATED:
        head = status[0]
    else:
        head = "⚠️ " + status[0]
    day = format_date(dt.date.fromisoformat(view.date), "EEE, d MMM", locale=locale)
    return [
        head,
        _("«{name}» · numbers: {count}").format(
            name=html.bold(html.quote(clip(view.name, NAME_LIMIT))),
            count=number(view.count, locale),
        ),
        _("Split by time zones, {day}: calls by each zone's local time").format(day=day),
        *status[1:],
    ]


def card_text(view: CardView, *, locale: str, tz: str, default_interval: int) -> str:
    if view.parts:
        lines = _set_lines(view, locale=locale)
        lines += [
            attempts_line(view.attempts, view.interval, default_interval),
            _("Author: {user}").format(user=user_link(view.author_id, view.author_name)),
        ]
        if view.approver_id is not None:
            lines.append(_("Approved by: {user}").format(
                user=user_link(view.approver_id, view.approver_name or "")))
        if view.state == CardState.AWAITING:
            lines += ["", _("Any other member may approve it; the author cannot.")]
        return fit_message("\n".join(lines))
    lines = [
        _heading(view),
        _("«{name}» · numbers: {count}").format(
            name=html.bold(html.quote(clip(view.name, NAME_LIMIT))),
            count=number(view.count, locale),
        ),
        start_line(view.date, view.start, view.end, locale=locale, tz=tz),
        attempts_line(view.attempts, view.interval, default_interval),
        _("Author: {user}").format(user=user_link(view.author_id, view.author_name)),
    ]
    if view.approver_id is not None:
        who = user_link(view.approver_id, view.approver_name or "")
        if view.state == CardState.DECLINED:
            lines.append(_("Declined by: {user}").format(user=who))
        else:
            lines.append(_("Approved by: {user}").format(user=who))
    if view.state == CardState.FAILED and view.reason:
        lines.append(_("Service's answer: «{reason}»").format(
            reason=html.quote(clip(view.reason, REASON_LIMIT))
        ))
    if view.state == CardState.AWAITING:
        lines += ["", _("Any other member may approve it; the author cannot.")]
    return fit_message("\n".join(lines))


def card_rows(view: CardView) -> list[list[InlineKeyboardButton]]:
    if view.state == CardState.AWAITING and view.dialog:
        def vote(label: str, value: str) -> InlineKeyboardButton:
            data = Vote(owner=view.author_id, dialog=view.dialog or "", vote=value).pack()
            return InlineKeyboardButton(text=label, callback_data=data)

        return [[vote(_("✅ Approve"), "y"), vote(_("✖️ Decline"), "n")]]
    if view.state in (CardState.CREATING, CardState.AWAITING):
        return []
    row = []
    if view.record_id and view.state in (CardState.CREATED, CardState.UNKNOWN):
        row.append(InlineKeyboardButton(
            text=_("🔁 Repeat"), callback_data=Repeat(rec=view.record_id).pack()
        ))
    row.append(InlineKeyboardButton(
        text=_("📜 History"), callback_data=HistoryPage(chat=view.chat_id, page=0).pack()
    ))
    return [row]


def render_card(
    view: CardView, *, locale: str, tz: str, default_interval: int
) -> tuple[str, list[list[InlineKeyboardButton]]]:
    return card_text(view, locale=locale, tz=tz, default_interval=default_interval), card_rows(
        view
    )
