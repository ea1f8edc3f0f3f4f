"""Interrupted submissions: a sender that died mid-POST is reported by one live replica.

Every replica (and a restarted process at start) sweeps the in-flight marks every few
seconds. A mark whose holder stopped beating (or, on this host, whose process is gone) is
claimed by exactly one replica (SET NX), which then tells the owner, under the owner's
update lock, that the campaign may have been created, with «Send again» when the draft is
still the one that was sent.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import BaseStorage, StorageKey
from aiogram.types import Chat, User
from aiogram.utils.i18n import I18n

from bot.deps import AppDeps
from bot.dialog.conversation import Conversation, read_draft
from bot.drafts import HEARTBEAT_EVERY_SECONDS, LOCAL_HOLDERS, this_host
from bot.tasks import run_periodically, stop_task

log = logging.getLogger("bot.dialog")

SWEEP_TIMEOUT_SECONDS = 60.0


def holder_gone_here(holder: str) -> bool:
    """A holder on this host whose process is not running (or an earlier incarnation of
    this very process id, as in a restarted container): it died, whatever its heartbeat."""
    try:
        host, pid_text, _ = holder.rsplit("-", 2)
        pid = int(pid_text)
    except ValueError:
        return False
    if host != this_host():
        return False
    if pid == os.getpid():
        # Not made by this process: an earlier incarnation with the same pid (a container).
        return holder not in LOCAL_HOLDERS
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class Sweeper:
    def __init__(self, bot: Bot, deps: AppDeps, storage: BaseStorage, i18n: I18n) -> None:
        self.bot = bot
        self.deps = deps
        self.storage = storage
        self.i18n = i18n

    async def run(self) -> None:
        await run_periodically(
            self.sweep, every=HEARTBEAT_EVERY_SECONDS, limit=SWEEP_TIMEOUT_SECONDS,
            what="in-flight sweep",
        )

    async def sweep(self) -> int:
        """One pass; returns how many interrupted submissions it reported."""
        marks = self.deps.inflight
        reported = 0
        for key, entry, beating in await marks.scan():
            holder = str(entry.get("holder") or "")
            if holder == marks.holder:
                continue  # ours and still running (a late beat is not a death)
            if beating and not holder_gone_here(holder):
                continue
            if not await marks.claim(key):
                continue  # another replica reports it
            try:
                told = await self.report(key, entry)
            except Exception:
                # Left registered: once the claim expires, a replica tries again.
                log.exception("interrupted submission not handled dialog=%s", entry.get("dialog"))
                continue
            reported += told
            await marks.release(key)
        return reported

    async def report(self, mark: str, entry: dict[str, Any]) -> bool:
        """Tell the owner, unless the submission's fate is known already; True if told."""
        from bot.dialog.submission import report_interrupted

        key = StorageKey(bot_id=self.bot.id, chat_id=int(entry["chat"]), user_id=int(entry["user"]))
        state = FSMContext(storage=self.storage, key=key)
        dialog = Conversation(
            bot=self.bot,
            chat=Chat(id=key.chat_id, type=str(entry.get("chat_type") or "private")),
            user=User(id=key.user_id, is_bot=False, first_name=entry.get("user_name") or "-"),
            state=state,
            deps=self.deps,
            i18n=self.i18n,
            reply_to=entry.get("reply_to"),
            thread_id=entry.get("thread"),
        )
        locale = entry.get("locale") or self.i18n.default_locale
        async with self.deps.inflight.isolation.lock(key):
            draft = await read_draft(state)
            same = draft is not None and draft.dialog == entry.get("dialog")
            if draft is not None and same and (not draft.in_flight or draft.submit_key != mark):
                # Its result, or a report on the owner's own update, came first (and
                # perhaps a resend since, which has a mark of its own).
                return False
            log.info(
                "interrupted submission dialog=%s chat=%s user=%s holder=%s",
                entry.get("dialog"),
                key.chat_id,
                key.user_id,
                entry.get("holder"),
            )
            with self.i18n.context(), self.i18n.use_locale(locale):
                try:
                    await report_interrupted(dialog, draft if same else None, entry)
                except TelegramAPIError:
                    log.warning(
                        "interrupted submission not reported dialog=%s", entry.get("dialog")
                    )
        return True


def start_sweeper(bot: Bot, deps: AppDeps, storage: BaseStorage, i18n: I18n) -> asyncio.Task[None]:
    return asyncio.create_task(Sweeper(bot, deps, storage, i18n).run(), name="inflight-sweeper")


async def stop_sweeper(task: asyncio.Task[None]) -> None:
    await stop_task(task)
