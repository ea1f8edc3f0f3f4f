"""The team desk in the wizard: a group's /new handed over to the private chat, the card in
the group through the campaign's life, the history record, repeat, four-eyes approval.

The wizard calls in here at a few points (/new in a group, submit, the outcome, cancel);
the card and the history never decide a campaign's fate: their failures are logged.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from typing import Any

import orjson
from aiogram import html
from aiogram.types import Chat, InlineKeyboardButton, InlineKeyboardMarkup, User
from aiogram.utils.i18n import gettext as _

from bot.calling.split import CREATED, UNKNOWN_OUTCOME, done
from bot.dialog.approval import APPROVED, PENDING, approval_required, open_request
from bot.dialog.callbacks import SummaryAction
from bot.dialog.card import CardState, CardView, card_rows
from bot.dialog.conversation import Conversation
from bot.dialog.desk import delete_quietly, hand_over, show_card, taken_text
from bot.dialog.draft import Draft, Origin, new_draft
from bot.dialog.states import CampaignForm, StepCode
from bot.handoff import Handoff
from bot.history import HistoryRecord, new_record_id
from bot.phones import PhoneList

log = logging.getLogger("bot.dialog")

SAME_LIST = "same"
SAME_LIST_WORDS = {"тот же список", "тот же", "тот же файл", "same list", "the same list"}


def wizard_in_group(dialog: Conversation) -> bool:
    """The per-chat option (presets), else GROUP_WIZARD: the in-group wizard was kept for
    teams that want it; by default a group's /new goes to the private chat."""
    mode = dialog.deps.presets.chat_defaults(dialog.chat.id).wizard
    return (mode or dialog.deps.settings.group_wizard) == "group"


async def start_handoff(dialog: Conversation, reply_to: int | None) -> None:
    me = await dialog.bot.me()
    await hand_over(
        dialog.bot,
        dialog.deps.handoffs,
        chat_id=dialog.chat.id,
        chat_title=dialog.chat.title or "",
        thread_id=dialog.thread_id,
        user=dialog.user,
        reply_to=reply_to,
        bot_username=me.username or "",
    )
    log.info("handed over to a private chat chat=%s user=%s", dialog.chat.id, dialog.user.id)


def origin_of(handoff: Handoff) -> Origin:
    return Origin(chat=handoff.chat_id, thread=handoff.thread_id, title=handoff.chat_title,
                  card=handoff.message_id)


async def mark_taken(dialog: Conversation, origin: Origin) -> None:
    """The handoff's link is spent: its message says who is preparing what, link gone."""
    if origin.card is None:
        return
    from bot.dialog.desk import put_card

    origin.card = await put_card(dialog.bot, chat_id=origin.chat, thread_id=origin.thread,
                                 message_id=origin.card, text=taken_text(dialog.user), rows=[])


def draft_for_group(dialog: Conversation, origin: Origin) -> Draft:
    # The group's presets (scenario, caller) apply, not the private chat's.
    draft = new_draft(dialog.user.id, origin.chat, dialog.deps.presets)
    draft.origin = origin
    return draft


# --- the card ------------------------------------------------------------------------------


def card_view(
    dialog: Conversation, draft: Draft, state: CardState, **extra: Any
) -> CardView:
    approval = draft.approval or {}
    decided = approval.get("state") not in (None, PENDING)
    return CardView(
        state=state,
        name=draft.name or "",
        count=draft.phones_count or 0,
        date=draft.date or dialog.deps.now().date().isoformat(),
        start=draft.start or "",
        end=draft.end or "",
        attempts=draft.attempts or 1,
        interval=draft.interval,
        author_id=draft.owner,
        author_name=approval.get("author_name") or dialog.user.full_name,
        approver_id=approval.get("by") if decided else None,
        approver_name=approval.get("by_name") if decided else None,
        chat_id=draft.origin.chat if draft.origin else 0,
        dialog=draft.dialog,
        **extra,
    )


async def update_card(dialog: Conversation, draft: Draft, state: CardState, **extra: Any) -> None:
    """The group's card, edited in place (sent anew only if it was deleted)."""
    origin = draft.origin
    if origin is None:
        return
    try:
        origin.card = await show_card(
            dialog.bot, card_view(dialog, draft, state, **extra), chat_id=origin.chat,
            thread_id=origin.thread, message_id=origin.card, locale=dialog.locale,
            tz_name=dialog.deps.settings.timezone, now=dialog.deps.now(),
            default_interval=dialog.deps.settings.default_interval_minutes,
        )
    except Exception:
        log.exception("card not updated chat=%s", origin.chat)


# --- history -------------------------------------------------------------------------------


async def record(
    dialog: Conversation, draft: Draft, *, outcome: str, campaign_id: int | None = None,
    part: dict[str, Any] | None = None,
) -> str | None:
    """One history record; `part`: one campaign of a split set (its own name, hours and
    count; no list reference: the set's list is the whole list, not the part's)."""
    history = dialog.deps.history
    if history is None:
        return None
    approval = draft.approval or {}
    name, start, end = draft.name or "", draft.start or "", draft.end or ""
    count, phones_ref = draft.phones_count or 0, draft.phones_ref
    if part is not None:
        name, start, end = part["name"], part["start"], part["end"]
        count, phones_ref = int(part["count"]), None
    entry = HistoryRecord(
        id=new_record_id(), outcome=outcome, campaign_id=campaign_id, name=name,
        description=draft.description or "", author_id=draft.owner,
        author_name=approval.get("author_name") or dialog.user.full_name,
        approver_id=approval.get("by") if approval.get("state") == APPROVED else None,
        approver_name=approval.get("by_name") if approval.get("state") == APPROVED else None,
        chat_id=draft.origin.chat if draft.origin else dialog.chat.id,
        thread_id=draft.origin.thread if draft.origin else None, at=time.time(),
        date=draft.date or "", start=start, end=end,
        attempts=draft.attempts or 1, interval=draft.interval, count=count,
        scenario=draft.scenario, caller=draft.caller, phones_ref=phones_ref,
        add_data_keys=tuple(draft.add_data_keys),
    )
    return entry.id if await history.add(entry) else None


async def on_submitted(dialog: Conversation, draft: Draft) -> None:
    await update_card(dialog, draft, CardState.CREATING)


async def on_created(
    dialog: Conversation, draft: Draft, campaign_id: int, message_id: int
) -> bool:
    """Record it, turn the card; True when the list is kept for «Repeat» (it expires with
    the draft's TTL on its own)."""
    record_id = await record(dialog, draft, outcome="created", campaign_id=campaign_id)
    await update_card(dialog, draft, CardState.CREATED, campaign_id=campaign_id,
                      record_id=record_id)
    if record_id is not None and not dialog.group:
        # The private success card gets the same buttons as the group's.
        view = card_view(dialog, draft, CardState.CREATED, campaign_id=campaign_id,
                         record_id=record_id)
        try:
            await dialog.bot.edit_message_reply_markup(
                chat_id=dialog.chat.id, message_id=message_id,
                reply_markup=InlineKeyboardMarkup(inline_keyboard=card_rows(view)),
            )
        except Exception:
            log.info("buttons not added to the success message")
    return record_id is not None


def set_view(draft: Draft) -> tuple[dict[str, Any], ...]:
    return tuple(dict(p) for p in draft.split or ())


async def on_split_submitted(dialog: Conversation, draft: Draft) -> None:
    """A split set's POSTs start (or its missing parts': a retry): the card says so."""
    await update_card(dialog, draft, CardState.CREATING, parts=set_view(draft))


async def on_split_outcome(dialog: Conversation, draft: Draft) -> None:
    """After a set's POSTs (or a dead sender's report): every created part and every part
    that may exist gets its history record, once (its id kept in the part, `rec`, saved
    with the draft by the caller); the card shows the whole set."""
    parts = draft.split or []
    for part in parts:
        outcome = {CREATED: "created", UNKNOWN_OUTCOME: "unknown"}.get(part["status"])
        if outcome is None or part.get("rec"):
            continue
        record_id = await record(dialog, draft, outcome=outcome, campaign_id=part.get("id"),
                                 part=part)
        if record_id is not None:
            part["rec"] = record_id
    if done(parts):
        state = CardState.CREATED
    elif any(p["status"] == UNKNOWN_OUTCOME for p in parts):
        state = CardState.UNKNOWN
    else:
        state = CardState.FAILED
    await update_card(dialog, draft, state, parts=set_view(draft))


async def on_failed(dialog: Conversation, draft: Draft) -> None:
    if draft.outcome_unknown:
        record_id = await record(dialog, draft, outcome="unknown")
        await update_card(dialog, draft, CardState.UNKNOWN, record_id=record_id)
    else:
        await update_card(dialog, draft, CardState.FAILED)


async def on_cancelled(dialog: Conversation, draft: Draft) -> None:
    """The author dropped the draft: an approval request in the group says so; the
    «… is preparing a campaign» message just goes."""
    origin = draft.origin
    if origin is None or origin.card is None:
        return
    if (draft.approval or {}).get("state") == PENDING:
        await forget_expiry(dialog, draft.dialog)
        await update_card(dialog, draft, CardState.WITHDRAWN)
    else:
        await delete_quietly(dialog.bot, origin.chat, origin.card)


# --- approval ------------------------------------------------------------------------------


def fingerprint(draft: Draft) -> str:
    """What an approver saw: an edit after approval needs approval again."""
    fields = [draft.scenario, draft.caller, draft.name, draft.description, draft.date,
              draft.start, draft.end, draft.attempts, draft.interval, draft.phones_ref]
    return hashlib.sha256(orjson.dumps(fields)).hexdigest()[:16]


def needs_approval(dialog: Conversation, draft: Draft) -> bool:
    chat = draft.origin.chat if draft.origin else dialog.chat.id
    return approval_required(dialog.deps.presets, chat, draft.scenario)


def approved(draft: Draft) -> bool:
    approval = draft.approval or {}
    return approval.get("state") == APPROVED and approval.get("fp") == fingerprint(draft)


async def divert_to_approval(dialog: Conversation, draft: Draft, *, split: bool = False) -> bool:
    """Called by submit (and a split's submit): True when the draft went (or must go) to
    approval instead."""
    if not needs_approval(dialog, draft) or approved(draft):
        return False
    if draft.origin is None:
        await dialog.show_summary(draft, note="❗ " + _(
            "This campaign needs a colleague's approval: start it from the team group "
            "(/new there)."
        ))
        return True
    if (draft.approval or {}).get("state") == PENDING:
        await dialog.present(draft, awaiting_text(draft), awaiting_rows(dialog, draft))
        await dialog.save(draft, CampaignForm.summary)
        return True
    approval = open_request({"rev": draft.rev}, chat_id=draft.origin.chat,
                            thread_id=draft.origin.thread)
    approval.update(fp=fingerprint(draft), author_name=dialog.user.full_name, split=split)
    draft.approval = approval
    # A new message, so that the group is notified; the handoff message goes.
    old = draft.origin.card
    draft.origin.card = None
    parts = set_view(draft) if split and draft.split else None
    await update_card(dialog, draft, CardState.AWAITING, parts=parts)
    if draft.origin.card is not None and old is not None and old != draft.origin.card:
        await delete_quietly(dialog.bot, draft.origin.chat, old)
    approval["card"] = draft.origin.card
    await note_expiry(dialog, draft, parts)
    await dialog.present(draft, awaiting_text(draft), awaiting_rows(dialog, draft))
    await dialog.save(draft, CampaignForm.summary)
    log.info("approval requested dialog=%s chat=%s", draft.dialog, draft.origin.chat)
    return True


async def note_expiry(
    dialog: Conversation, draft: Draft, parts: tuple[dict[str, Any], ...] | None
) -> None:
    """The request expires with its draft: noted apart from it, so that its card can say
    so once the draft is gone (bot/dialog/approval_expiry.py)."""
    from bot.dialog.approval_expiry import make_note, notes_for

    approval = draft.approval or {}
    origin = draft.origin
    if origin is None or origin.card is None:
        return
    due = float(approval.get("asked") or time.time()) + dialog.deps.settings.draft_ttl_seconds
    approval["expires"] = due
    view = card_view(dialog, draft, CardState.AWAITING, parts=parts)
    note = make_note(view, dialog=draft.dialog, owner=draft.owner, chat=origin.chat,
                     thread=origin.thread, message_id=origin.card, due=due,
                     locale=dialog.locale)
    try:
        await notes_for(dialog.deps, dialog.state.storage).add(note)
    except Exception:
        log.exception("approval expiry not noted dialog=%s", draft.dialog)


async def forget_expiry(dialog: Conversation, draft_dialog: str) -> None:
    """Decided or withdrawn: its card is no longer the sweep's to turn."""
    from bot.dialog.approval_expiry import notes_for

    await notes_for(dialog.deps, dialog.state.storage).forget(draft_dialog)


def awaiting_text(draft: Draft) -> str:
    title = html.quote(draft.origin.title if draft.origin else "") or "—"
    return "📨 " + _(
        "«{name}» is waiting for a colleague's approval in «{chat}». The result will come "
        "here."
    ).format(name=html.quote(draft.name or ""), chat=title)


def awaiting_rows(dialog: Conversation, draft: Draft) -> list[list[InlineKeyboardButton]]:
    data = SummaryAction(owner=draft.owner, dialog=draft.dialog, rev=draft.rev, action="cancel")
    return [[InlineKeyboardButton(text=_("✖️ Cancel"), callback_data=data.pack())]]


def owner_conversation(dialog: Conversation, draft: Draft, state: Any) -> Conversation:
    """The author's side, for a vote pressed by someone else in the group."""
    approval = draft.approval or {}
    return Conversation(
        bot=dialog.bot,
        chat=Chat(id=draft.owner, type="private"),
        user=User(id=draft.owner, is_bot=False,
                  first_name=approval.get("author_name") or "—"),
        state=state,
        deps=dialog.deps,
        i18n=dialog.i18n,
        draft=draft,
    )


# --- repeat --------------------------------------------------------------------------------


async def start_repeat(
    dialog: Conversation, entry: HistoryRecord, origin: Origin | None
) -> None:
    """A private draft with every field of `entry` but the date and the list; then the
    date (tomorrow offered), the list («the same list» while stored), and the summary."""
    presets = dialog.deps.presets
    draft = new_draft(dialog.user.id, origin.chat if origin else dialog.chat.id, presets)
    draft.origin = origin
    if presets.scenario(entry.scenario) is not None and StepCode.SCENARIO not in draft.preset:
        draft.scenario = entry.scenario
    if presets.caller(entry.caller) is not None and StepCode.CALLER not in draft.preset:
        draft.caller = entry.caller
    draft.name = entry.name
    draft.description = entry.description
    draft.start, draft.end = entry.start, entry.end
    draft.attempts = entry.attempts
    draft.interval = entry.interval if entry.attempts > 1 else None
    if entry.phones_ref and await dialog.deps.phone_lists.get(entry.phones_ref) is not None:
        draft.same_list = entry.phones_ref
    draft.editing = True  # each answer goes to the next missing one, then the summary
    log.info("repeat started dialog=%s of=%s", draft.dialog, entry.id)
    note = "🔁 " + _("Repeating «{name}»: choose the date and the list.").format(
        name=html.quote(entry.name)
    )
    await dialog.ask(StepCode.DATE, draft, note=note)


async def use_same_list(dialog: Conversation, draft: Draft) -> None:
    """«The same list»: a copy of the old list under a reference of this draft's own."""
    ref = draft.same_list
    blob = await dialog.deps.phone_lists.get(ref) if ref else None
    if blob is None:
        draft.same_list = None
        await dialog.ask(StepCode.PHONES, draft, note="❗ " + _(
            "That list is no longer stored. Send it again."
        ))
        return
    phones = await asyncio.to_thread(PhoneList.from_bytes, blob)
    old_ref = draft.phones_ref
    draft.phones_ref = await dialog.deps.phone_lists.put(blob)
    if old_ref:
        await dialog.deps.phone_lists.delete(old_ref)
    draft.phones_count = len(phones)
    draft.add_data_keys = list(phones.keys)
    draft.list_file = None
    # Each number's zone, as for an uploaded list (the summary warns on calling hours);
    # no worker read this list now, so they are computed here.
    from bot.dialog.calling import attach_zones

    await attach_zones(dialog.deps, draft, phones, None)
    await dialog.advance(StepCode.PHONES, draft)
