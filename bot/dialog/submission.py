"""Submission: the one POST that creates the campaign, its in-flight mark, its outcome.

`submit` marks the draft in flight (a mark held and beating first: a replica finds it if
this process dies), then posts in the background; `_finish` shows the outcome under the
owner's update lock. `guard_busy` is the one check every handler runs before touching a
draft that may be in flight.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from aiogram import html
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _

from bot.campaigns.errors import CampaignOutcomeUnknown, CampaignRejected, CampaignUnreachable
from bot.campaigns.model import CampaignRequest, PhoneColumns, build_request
from bot.deps import AppDeps
from bot.dialog import teamdesk
from bot.dialog.calling import can_split, strict_refusal
from bot.dialog.conversation import Conversation, mention, read_draft
from bot.dialog.draft import Draft
from bot.dialog.parsing import AnswerError, check_date, check_window_for_date, make_window
from bot.dialog.render import answer_error_text, number, short_day, zone_label
from bot.dialog.steps import first_missing
from bot.drafts import HEARTBEAT_EVERY_SECONDS, inflight_key
from bot.phones import PhoneList

log = logging.getLogger("bot.dialog")
audit = logging.getLogger("bot.audit")

UNKNOWN_OUTCOME_ACTIONS = ("resend", "cancel")
Status = Literal["live", "dead"] | None


def submission_key(dialog: Conversation, draft: Draft) -> str:
    """The mark of this submission; one per submission (a resend gets another), so a late
    report on an earlier one can never take a later one for it."""
    if draft.submit_key:
        return draft.submit_key
    return inflight_key(dialog.chat.id, dialog.user.id, f"{draft.dialog}-{draft.rev}")


async def submission_status(dialog: Conversation, draft: Draft | None) -> Status:
    """None: not submitted; "live": its POST runs (its holder beats); "dead": its holder
    died mid-POST, so the campaign may or may not exist."""
    if draft is None or not draft.in_flight:
        return None
    return "live" if await dialog.deps.inflight.alive(submission_key(dialog, draft)) else "dead"


def busy_text() -> str:
    return _("The campaign is being created right now. Wait for the answer.")


async def guard_busy(
    dialog: Conversation,
    draft: Draft | None,
    *,
    callback: CallbackQuery | None = None,
    on_live: Callable[[], Awaitable[None]] | None = None,
) -> bool:
    """True when this draft's submission runs or died mid-POST, and the user was told so:
    the caller does nothing more. A dead one is reported (the campaign may exist); a live
    one gets `on_live` (e.g. the offer of a new draft beside it) or «being created»."""
    status = await submission_status(dialog, draft)
    if status is None:
        return False
    assert draft is not None
    if status == "dead":
        if callback is not None:
            await callback.answer()
        await report_interrupted(dialog, draft)
        return True
    if on_live is not None:
        if callback is not None:
            await callback.answer()
        await on_live()
    elif callback is not None:
        await callback.answer(busy_text(), show_alert=True)
    else:
        await dialog.send(busy_text())
    return True


# --- texts ---------------------------------------------------------------------------------


def unknown_outcome_text() -> str:
    return "⚠️ " + _(
        "The service did not answer in time. The campaign may have been created already: "
        "check the list of campaigns. If it is not there, press «Send again»."
    )


def interrupted_text(dialog: Conversation, name: str, phones: Any, started: float) -> str:
    sent_at = dt.datetime.fromtimestamp(started, dialog.deps.settings.tz)
    return "⚠️ " + _(
        "The bot restarted while creating the campaign «{name}» (numbers: {count}, sent at "
        "{time}). It may have been created: check the list of campaigns before sending "
        "again."
    ).format(name=html.quote(name), count=phones or "?", time=sent_at.strftime("%H:%M"))


def success_text(dialog: Conversation, draft: Draft, campaign_id: int) -> str:
    """The card that replaces the summary: what was created, when it calls, by whom."""
    deps = dialog.deps
    assert draft.date and draft.attempts
    locale = dialog.locale
    lines = [
        _("✅ Campaign No. {id} created").format(id=html.bold(str(campaign_id))),
        _("{name} · numbers: {count}").format(
            name=html.quote(draft.name or ""), count=number(draft.phones_count or 0, locale)
        ),
        _("Start: {day}, {start}–{end} ({zone})").format(
            day=short_day(dt.date.fromisoformat(draft.date), locale),
            start=draft.start,
            end=draft.end,
            zone=zone_label(deps.settings.timezone, deps.now()),
        ),
    ]
    if draft.attempts == 1:
        lines.append(_("Attempts: 1"))
    else:
        lines.append(
            _("Attempts: {attempts} every {minutes} min").format(
                attempts=draft.attempts,
                minutes=draft.interval or deps.settings.default_interval_minutes,
            )
        )
    lines.append(_("Author: {user}").format(user=mention(dialog.user)))
    return "\n".join(lines)


# --- outcomes shown ------------------------------------------------------------------------


async def report_interrupted(
    dialog: Conversation,
    draft: Draft | None,
    entry: dict[str, Any] | None = None,
) -> None:
    """A dead sender cut a POST short: say the campaign may exist; resend only on request.

    `draft` is the draft when it is still the one that was sent (it goes to the summary
    with «Send again»); None when the owner has started another draft since, which is
    left alone. `entry` is the sender's mark, when known (its progress message is
    corrected)."""
    if entry is not None:
        name, phones, started = entry.get("name"), entry.get("phones"), entry.get("started")
    elif draft is not None:
        name, phones, started = draft.name, draft.phones_count, draft.submit_started
    else:
        name = phones = started = None
    text = interrupted_text(dialog, str(name or ""), phones, float(started or time.time()))
    progress = entry.get("progress") if entry else None
    if draft is not None:
        key = submission_key(dialog, draft)
        draft.submit = None
        draft.outcome_unknown = True
        await dialog.save(draft)
        await dialog.deps.inflight.release(key)
        if draft.split:
            # A split: the parts say which campaigns exist; the cut one may (never resent).
            from bot.calling.split import recover
            from bot.dialog.split import interrupted_split_text, offer_split

            draft.outcome_unknown = False
            recover(draft.split)
            await teamdesk.on_split_outcome(dialog, draft)  # the history, the group's card
            if progress is not None and progress != draft.live:
                await dialog.replace(progress, interrupted_split_text(draft, dialog.locale))
                await offer_split(dialog, draft)
            else:
                if progress is not None:
                    draft.live = progress
                await offer_split(dialog, draft,
                                  note=interrupted_split_text(draft, dialog.locale))
            return
        await teamdesk.on_failed(dialog, draft)  # the group's card and the history
        if progress is not None and progress != draft.live:
            await dialog.replace(progress, text)
            text = unknown_outcome_text()
        elif progress is not None:
            draft.live = progress  # the summary comes back in place of «Creating…»
        await dialog.show_summary(draft, note=text, actions=UNKNOWN_OUTCOME_ACTIONS)
        return
    if entry and entry.get("phones_ref"):
        await dialog.deps.phone_lists.delete(entry["phones_ref"])
    text += "\n" + _("Its draft is gone: to send it again, make it anew with /new.")
    await dialog.replace(progress, text)


# --- the POST ------------------------------------------------------------------------------


def _recheck(draft: Draft, now: dt.datetime) -> tuple[str, str] | None:
    """Time passes while a draft waits: a date or window now in the past goes back to its step."""
    assert draft.date and draft.start and draft.end
    try:
        date = check_date(dt.date.fromisoformat(draft.date), now.date())
    except AnswerError as error:
        return "dt", answer_error_text(error)
    window = make_window(dt.time.fromisoformat(draft.start), dt.time.fromisoformat(draft.end))
    try:
        check_window_for_date(window, date, now)
    except AnswerError as error:
        return "wn", answer_error_text(error)
    return None


async def submit(dialog: Conversation, draft: Draft) -> None:
    """Mark the draft in flight, then POST in the background: exactly one request."""
    if draft.split and any(p["status"] != "pending" for p in draft.split):
        # Part of a split set exists: only its missing campaigns may still be created,
        # never the whole list once more (a typed «повторить», a stale button).
        from bot.dialog.split import submit_split

        await submit_split(dialog, draft)
        return
    missing = first_missing(draft)
    if missing is not None:
        draft.editing = True
        await dialog.ask(missing, draft)
        return
    if problem := _recheck(draft, dialog.deps.now()):
        code, text = problem
        draft.editing = True
        await dialog.ask(code, draft, note="❗ " + text)
        return
    # A scenario with a strict check: one campaign outside the legal hours is refused.
    if refusal := strict_refusal(draft, dialog.deps.settings, dialog.deps.presets):
        actions = ("split", "edit", "cancel") if can_split(draft) else ("edit", "cancel")
        await dialog.show_summary(draft, note=refusal, actions=actions)
        return
    # Four-eyes: sent for approval instead, unless this very draft was approved.
    if await teamdesk.divert_to_approval(dialog, draft):
        return
    marks = dialog.deps.inflight
    draft.submit = "in_flight"
    draft.submit_started = time.time()
    draft.submit_holder = marks.holder
    draft.outcome_unknown = False
    draft.rev += 1
    draft.submit_key = None
    key = draft.submit_key = submission_key(dialog, draft)
    entry = _mark_entry(dialog, draft)
    # The mark is held (and beating) before the draft says "in flight": a draft marked in
    # flight always has a mark someone can find once its holder dies.
    await marks.hold(key, entry)
    # Marked in flight before anything else can fail or wait: a second tap sees it.
    await dialog.save(draft)
    try:
        progress = await dialog.present(draft, _("⏳ Creating the campaign…"))
    except TelegramAPIError:
        draft.submit = None  # nothing was sent: the draft must not stay locked
        await dialog.save(draft)
        await marks.release(key)
        raise
    await marks.hold(key, {**entry, "progress": progress})
    await teamdesk.on_submitted(dialog, draft)  # the group's card: «creating»
    await dialog.save(draft)
    dialog.deps.tasks.spawn(
        _post(dialog, draft.copy_for_post(), progress, key), name=f"submit-{draft.dialog}"
    )


def _mark_entry(dialog: Conversation, draft: Draft) -> dict[str, Any]:
    """What a replica needs to tell the owner about this submission if its sender dies:
    where to write, in which language, and what was being sent (JSON-safe)."""
    return {
        "chat": dialog.chat.id,
        "chat_type": str(getattr(dialog.chat.type, "value", dialog.chat.type)),
        "thread": dialog.thread_id,
        "user": dialog.user.id,
        "user_name": dialog.user.full_name,
        "reply_to": draft.reply_to or dialog.reply_to,
        "locale": dialog.locale,
        "dialog": draft.dialog,
        "name": draft.name or "",
        "phones": draft.phones_count,
        "started": draft.submit_started,
        "phones_ref": draft.phones_ref,
    }


async def _heartbeat(dialog: Conversation, key: str) -> None:
    """Keep the mark alive while this process works on the submission."""
    marks = dialog.deps.inflight
    while True:
        await asyncio.sleep(HEARTBEAT_EVERY_SECONDS)
        try:
            await marks.beat(key)
        except Exception:  # a Redis hiccup must not end the POST; the next beat retries
            log.warning("heartbeat failed dialog=%s", key.rsplit(":", 1)[-1])


def _build(blob: bytes, draft: Draft, deps: AppDeps) -> CampaignRequest:
    phones = PhoneList.from_bytes(blob)
    scenario = deps.presets.scenario(draft.scenario)
    caller = deps.presets.caller(draft.caller)
    assert scenario is not None and caller is not None
    assert draft.name and draft.date and draft.start and draft.end and draft.attempts
    return build_request(
        project_id=scenario.project_id,
        start_block_id=scenario.start_block_id,
        phone_id=caller.phone_id,
        name=draft.name,
        description=draft.description or "",
        date=draft.date,
        start_time=draft.start,
        end_time=draft.end,
        attempts=draft.attempts,
        interval_minutes=draft.interval or deps.settings.default_interval_minutes,
        # Written from the stored columns a chunk at a time, not as a list of dicts.
        phones=PhoneColumns(phones.keys, phones.chunks(frames=True)),
        state=deps.settings.campaign_state,
    )


async def _post(dialog: Conversation, draft: Draft, progress: int, key: str) -> None:
    """The POST, beating the mark; then, under the owner's update lock, its result."""
    marks = dialog.deps.inflight
    draft.submit = None
    draft.submit_holder = None
    beating = asyncio.create_task(_heartbeat(dialog, key), name=f"heartbeat-{draft.dialog}")
    try:
        outcome = await _send(dialog, draft)
        async with marks.isolation.lock(dialog.state.key):
            current = await read_draft(dialog.state)
            # The owner may have started a new draft meanwhile: it is not touched.
            same = current is not None and current.dialog == draft.dialog
            await _finish(dialog, draft, progress, outcome, same=same)
    finally:
        beating.cancel()
        try:
            await marks.release(key)
        except Exception:
            log.exception("in-flight mark not released dialog=%s", draft.dialog)


Outcome = tuple[str, Any]


def _failure(note: str, detail: str | None, actions: tuple[str, ...]) -> Outcome:
    """The Russian line first; the service's own words after it, small."""
    if detail:
        note += "\n" + html.italic(html.quote(detail[:300]))
    return "failed", (note, actions)


async def _send(dialog: Conversation, draft: Draft) -> Outcome:
    deps = dialog.deps
    try:
        assert draft.phones_ref
        blob = await deps.phone_lists.get(draft.phones_ref)
        if blob is None:
            return "expired", None
        request = await asyncio.to_thread(_build, blob, draft, deps)
        campaign_id = await deps.campaign_client.create_campaign(request)
    except CampaignRejected as error:
        if error.status >= 500:
            note = "⏳ " + _(
                "The campaign service is temporarily unavailable. The campaign was not "
                "created: press «Retry» in a couple of minutes."
            )
            return _failure(note, error.message, ("retry", "edit", "cancel"))
        note = "❌ " + _(
            "The campaign was not created. The service answered: «{message}». This is a bot "
            "setting: forward this message to the administrator."
        ).format(message=html.quote(error.message or str(error.status)))
        return _failure(note, None, ("edit", "cancel"))
    except CampaignUnreachable:
        note = "⏳ " + _(
            "The campaign service is temporarily unavailable. The campaign was not "
            "created: press «Retry» in a couple of minutes."
        )
        return _failure(note, None, ("retry", "edit", "cancel"))
    except CampaignOutcomeUnknown:
        draft.outcome_unknown = True
        return "failed", (unknown_outcome_text(), UNKNOWN_OUTCOME_ACTIONS)
    except Exception:
        log.exception("submission failed dialog=%s", draft.dialog)
        text = "❌ " + _("Something went wrong on my side. Nothing was sent.")
        return "failed", (text, ("retry", "edit", "cancel"))
    return "created", campaign_id


async def _finish(
    dialog: Conversation, draft: Draft, progress: int, outcome: Outcome, *, same: bool
) -> None:
    kind, value = outcome
    if kind == "created":
        await _created(dialog, draft, progress, value, same=same)
        return
    if not same:
        # Its draft was replaced: only the result is shown; nothing is left to retry with.
        if draft.phones_ref:
            await dialog.deps.phone_lists.delete(draft.phones_ref)
        text = "❗ " + _("The list has expired.") if kind == "expired" else value[0]
        await dialog.replace(progress, f"«{html.quote(draft.name or '')}»: {text}")
        return
    draft.live = progress if not dialog.group else draft.live
    if kind == "expired":
        draft.phones_ref = None
        draft.editing = True
        await dialog.save(draft)
        await dialog.ask("ph", draft, note="❗ " + _("The list has expired."))
        return
    note, actions = value
    # The draft leaves "in flight" first, whatever Telegram does next; then the summary
    # again, the outcome on top of it, with what can be done now.
    await dialog.save(draft)
    await teamdesk.on_failed(dialog, draft)
    if dialog.group:
        await dialog.replace(progress, note)
        await dialog.show_summary(draft, actions=actions)
    else:
        await dialog.show_summary(draft, note=note, actions=actions)


async def _created(
    dialog: Conversation, draft: Draft, progress: int, campaign_id: int, *, same: bool = True
) -> None:
    audit.info(
        "campaign created id=%s user=%s chat=%s phones=%s name=%r",
        campaign_id,
        dialog.user.id,
        dialog.chat.id,
        draft.phones_count,
        _mask_digits(draft.name or ""),
    )
    if same:
        await dialog.state.clear()
    shown = await dialog.replace(progress, success_text(dialog, draft, campaign_id))
    kept = await teamdesk.on_created(dialog, draft, campaign_id, shown)
    if draft.zones_ref:
        await dialog.deps.phone_lists.delete(draft.zones_ref)
    if draft.phones_ref and not kept:
        # Kept only for «Repeat» from the history (it expires with the draft's TTL).
        await dialog.deps.phone_lists.delete(draft.phones_ref)


def _mask_digits(text: str) -> str:
    return re.sub(r"\d{5,}", lambda m: m[0][:2] + "***", text)
