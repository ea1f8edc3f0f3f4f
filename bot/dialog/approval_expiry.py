"""Approval requests that nobody decided: the group's card says so once the request expires.

The request lives in its author's draft and expires with it (DRAFT_TTL_HOURS after it was
asked), but the card in the group would keep saying «Awaiting approval» until pressed.
So each request is also noted here — the card's place and what it shows, due at its
expiry — apart from the draft, which may be gone by then. A bounded periodic sweep (every
replica; each note claimed by one) turns the card of every due note to «expired»; a
draft still holding that request loses it, and its author is told. A decision, a
withdrawal or a new request replaces or forgets the note first.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

import orjson
from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import BaseStorage
from aiogram.types import Chat, User
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from redis.asyncio import Redis

from bot.deps import AppDeps
from bot.drafts import Signer
from bot.tasks import run_periodically, stop_task

log = logging.getLogger("bot.dialog")

SWEEP_EVERY_SECONDS = 30.0
SWEEP_TIMEOUT_SECONDS = 60.0
BATCH = 50  # notes handled per pass: a backlog is worked off over several passes

Note = dict[str, Any]


class ApprovalNotes(Protocol):
    async def add(self, note: Note) -> None: ...
    async def forget(self, dialog: str) -> None: ...
    async def take_due(self, now: float, limit: int = BATCH) -> list[Note]: ...


class MemoryApprovalNotes:
    def __init__(self) -> None:
        self._notes: dict[str, Note] = {}

    async def add(self, note: Note) -> None:
        self._notes[note["dialog"]] = dict(note)

    async def forget(self, dialog: str) -> None:
        self._notes.pop(dialog, None)

    async def take_due(self, now: float, limit: int = BATCH) -> list[Note]:
        due = sorted((n for n in self._notes.values() if n["due"] <= now),
                     key=lambda n: n["due"])[:limit]
        for note in due:
            del self._notes[note["dialog"]]
        return due


class RedisApprovalNotes:
    """`<prefix>:approvals` is a hash: dialog → its note (signed, with its due time). Only
    the commands of the documented tight ACL (docs/runtime.md): whoever deletes a field
    (HDEL answers 1) owns that note, so two replicas never turn one card. The hash holds
    only the requests still pending: a handful, read whole by each sweep."""

    def __init__(self, redis: Redis, prefix: str, signer: Signer, keep_seconds: float) -> None:
        self._redis = redis
        self._key = f"{prefix}:approvals"
        self._signer = signer
        self._keep = keep_seconds

    def _name(self, dialog: str) -> str:
        return f"{self._key}:{dialog}"

    async def add(self, note: Note) -> None:
        blob = self._signer.seal(self._name(note["dialog"]), orjson.dumps(note))
        # The newest note is due last: the hash outlives every note in it.
        ttl = max(1, round(note["due"] - time.time() + self._keep))
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._key, note["dialog"], blob)
            pipe.expire(self._key, ttl)
            await pipe.execute()

    async def forget(self, dialog: str) -> None:
        await self._redis.hdel(self._key, dialog)

    async def take_due(self, now: float, limit: int = BATCH) -> list[Note]:
        due: list[Note] = []
        for raw_field, blob in (await self._redis.hgetall(self._key)).items():
            dialog = raw_field.decode() if isinstance(raw_field, bytes) else str(raw_field)
            data = self._signer.open(self._name(dialog), blob)
            if data is None:
                log.warning("approval note forged dialog=%s", dialog)
                await self._redis.hdel(self._key, dialog)
                continue
            note = orjson.loads(data)
            if float(note["due"]) <= now:
                due.append(note)
        due.sort(key=lambda n: n["due"])
        taken = []
        for note in due[:limit]:
            if await self._redis.hdel(self._key, note["dialog"]):
                taken.append(note)  # ours; another replica's HDEL answered 0
        return taken


def notes_for(deps: AppDeps, storage: BaseStorage) -> ApprovalNotes:
    """The notes beside the drafts: in Redis with Redis drafts (replicas share them), else
    in memory. Made once per process (kept in deps)."""
    if deps.approval_notes is None:
        redis = getattr(storage, "redis", None)
        signer = getattr(storage, "signer", None)
        builder = getattr(storage, "key_builder", None)
        if isinstance(redis, Redis) and isinstance(signer, Signer):
            prefix = getattr(builder, "prefix", None) or deps.settings.redis_key_prefix
            deps.approval_notes = RedisApprovalNotes(
                redis, prefix, signer, keep_seconds=deps.settings.draft_ttl_seconds
            )
        else:
            deps.approval_notes = MemoryApprovalNotes()
    return deps.approval_notes


def make_note(card: Any, *, dialog: str, owner: int, chat: int, thread: int | None,
              message_id: int, due: float, locale: str) -> Note:
    """What the card shows (a `card.CardView`), JSON-safe, and where it is."""
    view = dataclasses.asdict(card)
    view.pop("state", None)
    return {"dialog": dialog, "owner": owner, "chat": chat, "thread": thread,
            "card": message_id, "due": due, "locale": locale, "view": view}


class ApprovalExpiry:
    def __init__(self, bot: Bot, deps: AppDeps, storage: BaseStorage, i18n: I18n, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.bot = bot
        self.deps = deps
        self.storage = storage
        self.i18n = i18n
        self.clock = clock

    async def run(self, every: float = SWEEP_EVERY_SECONDS) -> None:
        await run_periodically(
            self.sweep, every=every, limit=SWEEP_TIMEOUT_SECONDS,
            what="approval expiry sweep",
        )

    async def sweep(self) -> int:
        """One pass over the notes due; returns how many cards it turned."""
        turned = 0
        for note in await notes_for(self.deps, self.storage).take_due(self.clock()):
            try:
                await self.expire(note)
                turned += 1
            except Exception:
                log.exception("approval request not expired dialog=%s", note.get("dialog"))
        return turned

    async def expire(self, note: Note) -> None:
        from bot.dialog.approval import is_pending, owner_key
        from bot.dialog.card import CardState, CardView
        from bot.dialog.conversation import Conversation
        from bot.dialog.desk import show_card
        from bot.dialog.draft import load_draft

        key = owner_key(self.bot.id, int(note["owner"]))
        state = FSMContext(storage=self.storage, key=key)
        locale = note.get("locale") or self.i18n.default_locale
        settings = self.deps.settings
        view = dict(note["view"])
        if view.get("parts") is not None:
            view["parts"] = tuple(view["parts"])
        card = CardView(state=CardState.EXPIRED, **view)
        with self.i18n.context(), self.i18n.use_locale(locale):
            # Under the author's lock, as a vote: a vote at this very moment comes first
            # (and forgets the note) or finds the request gone.
            async with self.deps.inflight.isolation.lock(key):
                data = await state.get_data()
                live = data.get("dialog") == note["dialog"] and is_pending(data)
                if live:
                    data.pop("approval", None)
                    await state.set_data(data)
                await show_card(
                    self.bot, card, chat_id=int(note["chat"]), thread_id=note.get("thread"),
                    message_id=note.get("card"), locale=locale, tz_name=settings.timezone,
                    now=self.deps.now(), default_interval=settings.default_interval_minutes,
                )
                log.info("approval request expired dialog=%s chat=%s draft_kept=%s",
                         note["dialog"], note["chat"], live)
                draft = load_draft(data) if live else None
                if draft is not None:
                    author = Conversation(
                        bot=self.bot, chat=Chat(id=draft.owner, type="private"),
                        user=User(id=draft.owner, is_bot=False,
                                  first_name=view.get("author_name") or "—"),
                        state=state, deps=self.deps, i18n=self.i18n, draft=draft,
                    )
                    await author.show_summary(draft, note="⌛ " + _(
                        "Nobody approved the campaign in time: the request has expired. "
                        "Send it for approval again, or cancel it."
                    ))


def start_expiry(bot: Bot, deps: AppDeps, storage: BaseStorage, i18n: I18n
                 ) -> asyncio.Task[None]:
    return asyncio.create_task(ApprovalExpiry(bot, deps, storage, i18n).run(),
                               name="approval-expiry")


async def stop_expiry(task: asyncio.Task[None]) -> None:
    await stop_task(task)
