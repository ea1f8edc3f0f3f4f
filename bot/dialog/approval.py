"""Four-eyes approval: a draft waits, in its author's storage, for another member's verdict.

The request lives in the author's draft (`data["approval"]`), so it expires with the draft.
Votes are taken under the author's update lock, the same lock the author's own «Create»
runs under: of two approvers tapping at once one decides (and its POST goes out once,
through the usual in-flight mark); the other is told who was first.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, StorageKey

from bot.presets import Presets

PENDING = "pending"
APPROVED = "approved"
DECLINED = "declined"


class Verdict(StrEnum):
    APPROVED = "approved"
    DECLINED = "declined"
    SELF = "self"  # the author's own vote: refused
    DECIDED = "decided"  # someone else was first
    GONE = "gone"  # the draft expired, was cancelled or replaced


@dataclass(frozen=True)
class VoteResult:
    verdict: Verdict
    # The approval as it stands after the vote (who decided, where its card is).
    approval: dict[str, Any] | None = None
    data: dict[str, Any] | None = None


def approval_required(presets: Presets, chat_id: int, scenario_key: str | None) -> bool:
    """Per chat (`[chats."<id>"] approval = true`) or per scenario (`approval = true`)."""
    if presets.chat_defaults(chat_id).approval:
        return True
    scenario = presets.scenario(scenario_key)
    return bool(scenario and scenario.approval)


def open_request(
    data: dict[str, Any], *, chat_id: int, thread_id: int | None, now: float | None = None
) -> dict[str, Any]:
    """Mark the draft as awaiting approval in `chat_id`; the card's id is added once sent."""
    approval = {
        "state": PENDING,
        "chat": chat_id,
        "thread": thread_id,
        "card": None,
        "asked": time.time() if now is None else now,
        "rev": int(data.get("rev") or 0),
    }
    data["approval"] = approval
    return approval


def withdraw(data: dict[str, Any]) -> dict[str, Any] | None:
    """The author changed or cancelled the draft: a pending request no longer stands."""
    approval = data.get("approval")
    if approval and approval.get("state") == PENDING:
        data.pop("approval", None)
        return approval
    return None


def is_pending(data: dict[str, Any]) -> bool:
    approval = data.get("approval")
    return bool(approval and approval.get("state") == PENDING)


def decide(
    data: dict[str, Any],
    *,
    dialog: str,
    voter_id: int,
    voter_name: str,
    vote: str,
    now: float | None = None,
) -> Verdict:
    """Apply one vote to the author's draft `data` (changed in place when it counts)."""
    approval = data.get("approval") if data.get("dialog") == dialog else None
    if not approval:
        return Verdict.GONE
    if voter_id == data.get("owner"):
        return Verdict.SELF
    if approval.get("state") != PENDING or data.get("submit") == "in_flight":
        return Verdict.DECIDED
    expires = approval.get("expires")
    if expires is not None and (time.time() if now is None else now) >= float(expires):
        return Verdict.GONE  # expired: its card turns «expired» by the sweep
    approval.update(
        state=APPROVED if vote == "y" else DECLINED,
        by=voter_id,
        by_name=voter_name,
        at=time.time() if now is None else now,
    )
    return Verdict.APPROVED if vote == "y" else Verdict.DECLINED


def owner_key(bot_id: int, owner: int) -> StorageKey:
    # The wizard runs in the author's private chat: that draft is the one voted on.
    return StorageKey(bot_id=bot_id, chat_id=owner, user_id=owner)


OnDecided = Callable[[FSMContext, dict[str, Any], Verdict], Awaitable[None]]


async def cast_vote(
    *,
    storage: BaseStorage,
    isolation: BaseEventIsolation,
    key: StorageKey,
    dialog: str,
    voter_id: int,
    voter_name: str,
    vote: str,
    on_decided: OnDecided,
) -> VoteResult:
    """One vote, under the author's lock. The decision is stored before `on_decided` runs
    (which submits on approval): whatever fails after, no second vote decides again."""
    async with isolation.lock(key):
        state = FSMContext(storage=storage, key=key)
        data = await state.get_data()
        verdict = decide(
            data, dialog=dialog, voter_id=voter_id, voter_name=voter_name, vote=vote
        )
        if verdict in (Verdict.APPROVED, Verdict.DECLINED):
            await state.set_data(data)
            await on_decided(state, data, verdict)
        return VoteResult(verdict, data.get("approval"), data)
