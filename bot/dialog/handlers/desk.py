"""The team desk's buttons and links: /start <token> from a group's handoff, «Repeat»,
«Approve» / «Decline», «The same list»."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiogram import Bot, Dispatcher, F, Router, html
from aiogram.enums import ChatType
from aiogram.filters import CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import BaseStorage
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.deps import AppDeps
from bot.dialog import teamdesk
from bot.dialog.approval import Verdict, cast_vote, owner_key
from bot.dialog.approval_expiry import start_expiry, stop_expiry
from bot.dialog.callbacks import Answer
from bot.dialog.card import CardState
from bot.dialog.conversation import Conversation
from bot.dialog.desk_buttons import Repeat, Vote
from bot.dialog.draft import load_draft
from bot.dialog.handlers.history import may_see
from bot.dialog.states import CampaignForm, StepCode
from bot.dialog.submission import guard_busy, submit
from bot.handoff import Handoff, Taken, deep_link, is_handoff_token
from bot.i18n import create_i18n
from bot.middlewares.access import AccessPolicy

log = logging.getLogger("bot.dialog")


async def cmd_start_token(
    message: Message, command: CommandObject, dialog: Conversation, deps: AppDeps
) -> None:
    """The group's link opened: this user's draft for that group, here in private."""
    taken = await deps.handoffs.take(command.args or "", dialog.user.id)
    if taken.status == Taken.FOREIGN:
        log.info("handoff refused: another user's link user=%s", dialog.user.id)
        await message.answer(_(
            "This link was made for another supervisor. To start your own campaign, send "
            "/new in the group."
        ))
        return
    if taken.status == Taken.GONE or taken.handoff is None:
        await message.answer(_(
            "This link has expired or was used already. Send /new in the group again."
        ))
        return
    handoff = taken.handoff
    draft = dialog.draft
    if await guard_busy(dialog, draft):
        return
    if draft is not None:
        # Replaced, with a word: the group's campaign is what the user asked for now.
        await dialog.discard(draft)
        if draft.name:
            await message.answer(_("Draft «{name}» deleted.").format(name=html.quote(draft.name)))
    origin = teamdesk.origin_of(handoff)
    if handoff.repeat:
        entry = await deps.history.get(handoff.repeat) if deps.history else None
        if entry is None:
            await message.answer(_("That campaign is no longer in the history."))
            return
        await teamdesk.start_repeat(dialog, entry, origin)
        return
    await teamdesk.mark_taken(dialog, origin)
    fresh = teamdesk.draft_for_group(dialog, origin)
    log.info("draft started from a group dialog=%s chat=%s user=%s", fresh.dialog,
             origin.chat, dialog.user.id)
    from bot.dialog.steps import step_after

    title = html.quote(origin.title or "")
    note = "👥 " + _("A campaign for «{chat}»: its result will be posted there.").format(
        chat=title
    )
    await dialog.ask(step_after(None, fresh), fresh, note=note)


async def on_repeat(
    callback: CallbackQuery, callback_data: Repeat, dialog: Conversation, deps: AppDeps,
    bot: Bot, access_policy: AccessPolicy,
) -> None:
    entry = await deps.history.get(callback_data.rec) if deps.history else None
    if entry is None:
        await callback.answer(_("That campaign is no longer in the history."), show_alert=True)
        return
    if dialog.group:
        if entry.chat_id != dialog.chat.id:
            await callback.answer(_("This history is for the members of that chat."),
                                  show_alert=True)
            return
        # Opens the private chat with a link of this user's own (as /new does).
        me = await bot.me()
        token = await deps.handoffs.issue(Handoff(
            user_id=dialog.user.id, chat_id=dialog.chat.id, thread_id=dialog.thread_id,
            chat_title=dialog.chat.title or "", repeat=entry.id,
        ))
        await callback.answer(url=deep_link(me.username or "", token))
        return
    if entry.author_id != dialog.user.id and not await may_see(
        bot, access_policy, dialog.user.id, entry.chat_id
    ):
        await callback.answer(_("This history is for the members of that chat."),
                              show_alert=True)
        return
    if await guard_busy(dialog, dialog.draft, callback=callback):
        return
    await callback.answer()
    if dialog.draft is not None:
        await dialog.discard(dialog.draft)
    origin = None
    if entry.chat_id < 0:
        origin = teamdesk.Origin(chat=entry.chat_id, thread=entry.thread_id)
    await teamdesk.start_repeat(dialog, entry, origin)


async def on_same_list(callback: CallbackQuery, dialog: Conversation) -> None:
    await callback.answer()
    assert dialog.draft is not None
    await teamdesk.use_same_list(dialog, dialog.draft)


async def on_same_list_words(message: Message, dialog: Conversation) -> None:
    assert dialog.draft is not None
    await teamdesk.use_same_list(dialog, dialog.draft)


def verdict_text(verdict: Verdict, approval: dict | None) -> str:
    who = (approval or {}).get("by_name") or "—"
    return {
        Verdict.SELF: _("The author cannot approve their own campaign: another member must."),
        Verdict.DECIDED: _("Already decided by {user}.").format(user=who),
        Verdict.GONE: _("This request is closed: decided already, or expired with its draft."),
        Verdict.APPROVED: _("Approved: the campaign is being created."),
        Verdict.DECLINED: _("Declined: the author is told."),
    }[verdict]


async def on_vote(
    callback: CallbackQuery, callback_data: Vote, dialog: Conversation, deps: AppDeps,
    bot: Bot, fsm_storage: BaseStorage,
) -> None:
    voter = callback.from_user

    async def decided(state: FSMContext, data: dict[str, Any], verdict: Verdict) -> None:
        draft = load_draft(data)
        assert draft is not None
        author = teamdesk.owner_conversation(dialog, draft, state)
        # Before anything that may clear the draft: the sweep must not call a decided
        # request expired.
        await teamdesk.forget_expiry(author, draft.dialog)
        if verdict == Verdict.APPROVED:
            log.info("approved dialog=%s by=%s", draft.dialog, voter.id)
            if (draft.approval or {}).get("split"):
                from bot.dialog.split import submit_split

                await submit_split(author, draft)  # the set by time zones, as asked
            else:
                await submit(author, draft)  # the usual exactly-once submission
            return
        log.info("declined dialog=%s by=%s", draft.dialog, voter.id)
        await teamdesk.update_card(author, draft, CardState.DECLINED)
        draft.approval = None  # the author may change it and send it again
        await author.show_summary(draft, note="✖️ " + _(
            "{user} declined the campaign. Change it and send it again, or cancel it."
        ).format(user=html.quote(voter.full_name)))

    result = await cast_vote(
        storage=fsm_storage, isolation=deps.inflight.isolation,
        key=owner_key(bot.id, callback_data.owner), dialog=callback_data.dialog,
        voter_id=voter.id, voter_name=voter.full_name, vote=callback_data.vote,
        on_decided=decided,
    )
    text = verdict_text(result.verdict, result.approval)
    # On «gone» the card is left as it is: the draft may be gone because its campaign was
    # just created by the other vote (its card says so already), not only expired.
    await callback.answer(text, show_alert=result.verdict in (Verdict.SELF, Verdict.GONE))


def create_router() -> Router:
    router = Router(name="desk")
    expiries: list[asyncio.Task[None]] = []

    async def on_startup(bot: Bot, dispatcher: Dispatcher, deps: AppDeps) -> None:
        # Cards of approval requests nobody decided turn «expired» without a press.
        i18n = create_i18n(deps.settings.default_locale)
        expiries.append(start_expiry(bot, deps, dispatcher.storage, i18n))

    async def on_shutdown() -> None:
        while expiries:
            await stop_expiry(expiries.pop())

    router.startup.register(on_startup)
    router.shutdown.register(on_shutdown)
    router.message.register(
        cmd_start_token, CommandStart(deep_link=True, magic=F.args.func(is_handoff_token)),
        F.chat.type == ChatType.PRIVATE,
    )
    router.callback_query.register(on_repeat, Repeat.filter())
    router.callback_query.register(on_vote, Vote.filter(), F.message.chat.type != "private")
    router.callback_query.register(
        on_same_list, Answer.filter((F.field == StepCode.PHONES) & (F.value == "same")),
        CampaignForm.phones,
    )
    router.message.register(
        on_same_list_words, CampaignForm.phones, F.text.lower().in_(teamdesk.SAME_LIST_WORDS),
        F.func(lambda m: m.chat.type == ChatType.PRIVATE),
    )
    return router
