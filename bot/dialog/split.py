"""«Split by time zones»: one campaign per zone group, created exactly once for the set.

The set of parts (bot/calling/split.py) lives in the draft. A confirmation shows it;
«Create» marks the draft in flight exactly as one submission does (the same mark, the
same guard against a second tap), then posts the parts one after another in the
background. Each part's status is written into the stored draft before its POST and
after its answer, so a retry — or a replica reporting a dead sender — knows which
campaigns exist: only the missing ones are ever sent again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from typing import Any

from aiogram import html
from aiogram.exceptions import TelegramAPIError
from aiogram.types import InlineKeyboardButton
from aiogram.utils.i18n import gettext as _

from bot.calling.split import done, part_indices, recover, send_parts, to_send
from bot.calling.zones import ZoneAssignment
from bot.campaigns.model import CampaignRequest, build_request
from bot.deps import AppDeps
from bot.dialog import calling
from bot.dialog.callbacks import SummaryAction
from bot.dialog.conversation import Conversation, mention, read_draft
from bot.dialog.draft import Draft
from bot.dialog.steps import first_missing
from bot.dialog.submission import (
    _heartbeat,
    _mark_entry,
    _recheck,
    submission_key,
)
from bot.phones import PhoneList

log = logging.getLogger("bot.dialog")
audit = logging.getLogger("bot.audit")

SPLIT_ACTIONS = ("split_go", "edit", "cancel")


def _button(dialog: Conversation, draft: Draft, action: str, text: str) -> InlineKeyboardButton:
    data = SummaryAction(owner=dialog.user.id, dialog=draft.dialog, rev=draft.rev, action=action)
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def split_started(draft: Draft) -> bool:
    """Some campaign of the set was sent: the set, not the draft, is what is left."""
    return bool(draft.split) and any(p["status"] != "pending" for p in draft.split)


async def offer_split(dialog: Conversation, draft: Draft, *, note: str | None = None) -> None:
    """The confirmation: the campaigns the split makes (or, once some exist, which)."""
    settings = dialog.deps.settings
    if not split_started(draft):
        draft.split = calling.new_parts(draft, settings)
    assert draft.split is not None
    if split_started(draft):
        text = calling.split_status(draft.split, locale=dialog.locale)
        go = _("🔁 Create the missing ones")
    else:
        text = calling.split_preview(draft, draft.split, settings, locale=dialog.locale)
        go = _("✅ Create campaigns: {count}").format(count=len(to_send(draft.split)))
    if note:
        text = f"{note}\n\n{text}"
    # Nothing left that may be sent (the rest exist or may exist): no button to send.
    rows = [[_button(dialog, draft, "split_go", go)]] if to_send(draft.split) else []
    if not split_started(draft):
        rows.append([_button(dialog, draft, "show", _("« Back to summary"))])
    else:
        rows.append([_button(dialog, draft, "cancel", _("✖️ Cancel"))])
    if dialog.group:
        text = f"{mention(dialog.user)}\n{text}"
    await dialog.present(draft, text, rows)
    await dialog.save(draft)


async def submit_split(dialog: Conversation, draft: Draft) -> None:
    """Mark the draft in flight, then post the parts still missing in the background."""
    missing = first_missing(draft)
    if missing is not None:
        draft.editing = True
        await dialog.ask(missing, draft)
        return
    if not split_started(draft):
        if problem := _recheck(draft, dialog.deps.now()):
            code, text = problem
            draft.editing = True
            await dialog.ask(code, draft, note="❗ " + text)
            return
        from bot.dialog import teamdesk

        # Four-eyes holds for a split as for one campaign: approval first (then the vote
        # sends the split: approval["split"]).
        if await teamdesk.divert_to_approval(dialog, draft, split=True):
            return
        draft.split = calling.new_parts(draft, dialog.deps.settings)
    assert draft.split is not None
    recover(draft.split)
    if not to_send(draft.split):
        await offer_split(dialog, draft)
        return
    marks = dialog.deps.inflight
    draft.submit = "in_flight"
    draft.submit_started = time.time()
    draft.submit_holder = marks.holder
    draft.rev += 1
    draft.submit_key = None
    key = draft.submit_key = submission_key(dialog, draft)
    entry = {**_mark_entry(dialog, draft), "split": True}
    await marks.hold(key, entry)
    await dialog.save(draft)
    try:
        progress = await dialog.present(draft, _("⏳ Creating the campaigns…"))
    except TelegramAPIError:
        draft.submit = None
        await dialog.save(draft)
        await marks.release(key)
        raise
    await marks.hold(key, {**entry, "progress": progress})
    from bot.dialog import teamdesk

    await teamdesk.on_split_submitted(dialog, draft)  # the group's card: «creating»
    await dialog.save(draft)
    dialog.deps.tasks.spawn(
        _post_split(dialog, draft.copy_for_post(), progress, key),
        name=f"split-{draft.dialog}",
    )


def _build(phones: PhoneList, assignment: ZoneAssignment, date: dt.date,
           part: dict[str, Any], draft: Draft, deps: AppDeps
           ) -> tuple[list[int], CampaignRequest]:
    """The part's numbers (its zone group) and its request."""
    indices = part_indices(assignment, date, part["offset"])
    scenario = deps.presets.scenario(draft.scenario)
    caller = deps.presets.caller(draft.caller)
    assert scenario is not None and caller is not None and draft.date and draft.attempts
    keys = phones.keys
    columns = phones.columns
    records = [
        {"phone": phones.phones[i],
         "add_data": {k: col[i] for k, col in zip(keys, columns, strict=True)
                      if col[i] is not None and col[i] != ""}}
        for i in indices
    ]
    return indices, build_request(
        project_id=scenario.project_id,
        start_block_id=scenario.start_block_id,
        phone_id=caller.phone_id,
        name=part["name"],
        description=draft.description or "",
        date=draft.date,
        start_time=part["start"],
        end_time=part["end"],
        attempts=draft.attempts,
        interval_minutes=draft.interval or deps.settings.default_interval_minutes,
        phones=records,
        state=deps.settings.campaign_state,
    )


async def _post_split(dialog: Conversation, draft: Draft, progress: int, key: str) -> None:
    deps = dialog.deps
    marks = deps.inflight
    draft.submit = None
    draft.submit_holder = None
    beating = asyncio.create_task(_heartbeat(dialog, key), name=f"heartbeat-{draft.dialog}")
    parts = draft.split or []

    async def save() -> None:
        # Only the parts are written, into the stored draft (still «in flight»): the
        # owner's other fields are the owner's.
        async with marks.isolation.lock(dialog.state.key):
            current = await read_draft(dialog.state)
            if current is not None and current.dialog == draft.dialog:
                current.split = [dict(p) for p in parts]
                await dialog.save(current)

    expired = False
    try:
        blob = await deps.phone_lists.get(draft.phones_ref) if draft.phones_ref else None
        zones_blob = await deps.phone_lists.get(draft.zones_ref) if draft.zones_ref else None
        if blob is None or zones_blob is None:
            expired = True
        else:
            phones, assignment = await asyncio.to_thread(
                lambda: (PhoneList.from_bytes(blob), ZoneAssignment.from_bytes(zones_blob))
            )
            date = dt.date.fromisoformat(draft.date or "")

            async def send(part: dict[str, Any]) -> int:
                # Off the loop: a million numbers are picked and serialized here.
                indices, request = await asyncio.to_thread(
                    _build, phones, assignment, date, part, draft, deps
                )
                campaign_id = await deps.campaign_client.create_campaign(request)
                audit.info("campaign created id=%s user=%s chat=%s phones=%s split=%s",
                           campaign_id, dialog.user.id, dialog.chat.id, len(indices),
                           part["label"])
                return campaign_id

            try:
                await send_parts(parts, send, save)
            except Exception:
                log.exception("split submission failed dialog=%s", draft.dialog)
        async with marks.isolation.lock(dialog.state.key):
            current = await read_draft(dialog.state)
            same = current is not None and current.dialog == draft.dialog
            await _finish(dialog, draft, progress, same=same, expired=expired)
    finally:
        beating.cancel()
        try:
            await marks.release(key)
        except Exception:
            log.exception("in-flight mark not released dialog=%s", draft.dialog)


async def _finish(dialog: Conversation, draft: Draft, progress: int, *, same: bool,
                  expired: bool) -> None:
    parts = draft.split or []
    from bot.dialog import teamdesk

    # The history and the group's card (the parts' records are kept in `draft`, saved
    # below unless the set is done).
    await teamdesk.on_split_outcome(dialog, draft)
    status = calling.split_status(parts, locale=dialog.locale)
    if expired:
        status = "❗ " + _("The list has expired.") + "\n" + status
    if done(parts) or not same:
        if same:
            await dialog.state.clear()
        for ref in (draft.phones_ref, draft.zones_ref):
            if ref:
                await dialog.deps.phone_lists.delete(ref)
        card = status
        if dialog.group:
            card += "\n" + _("Author: {user}").format(user=mention(dialog.user))
        await dialog.replace(progress, card)
        return
    draft.live = progress if not dialog.group else draft.live
    await dialog.save(draft)
    await offer_split(dialog, draft)


def interrupted_split_text(draft: Draft, locale: str) -> str:
    assert draft.split is not None
    recover(draft.split)
    return "⚠️ " + _("The bot restarted while creating the campaigns. Their state:") + "\n" + \
        calling.split_status(draft.split, locale=locale) + "\n" + html.italic(
            _("Campaigns without an answer may exist: check them on the platform; only "
              "those refused or not sent are sent again."))
