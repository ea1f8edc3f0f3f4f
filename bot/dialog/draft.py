"""The draft: one user's campaign in the making, as stored between updates.

One typed model, stored as one JSON-safe dict (FSM data) with a schema version `v`. A
draft written by an older version is migrated on load (`MIGRATIONS`); one that cannot
be read (a newer version, a broken value) is dropped, and its owner told so — never a
crash. Field names are the stored keys: renaming one is a migration.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.dialog.states import StepCode
from bot.presets import Presets

log = logging.getLogger("bot.dialog")

SCHEMA_VERSION = 2


class ListFile(BaseModel):
    """The uploaded list file, by Telegram file_id (never the bytes: the draft stays small);
    `n` counts uploads, so a report's buttons for an older upload are recognised as stale."""

    id: str
    name: str
    n: int = 1


class Origin(BaseModel):
    """The group a draft was handed over from: its presets and rules apply, and its card
    (the handoff message, edited) shows the campaign's fate there."""

    chat: int
    thread: int | None = None
    title: str = ""
    card: int | None = None


class Draft(BaseModel):
    model_config = ConfigDict(extra="ignore", validate_assignment=False)

    v: int = SCHEMA_VERSION
    owner: int
    dialog: str  # random per draft: ties buttons to this draft, not to an earlier one
    rev: int = 0  # bumped by every answer: a summary's buttons of an older rev are stale

    # Steps whose answer the presets gave: not asked, not offered for editing.
    preset: list[StepCode] = Field(default_factory=list)

    # Answers (None: not answered yet).
    scenario: str | None = None
    caller: str | None = None
    name: str | None = None
    description: str | None = None  # "" when skipped
    date: str | None = None  # ISO date, in the call centre's zone
    start: str | None = None  # HH:MM
    end: str | None = None  # HH:MM
    attempts: int | None = None
    interval: int | None = None  # minutes; None with one attempt (default used)

    # The accepted list: stored apart (PhoneListStore), referred to here.
    phones_ref: str | None = None
    phones_count: int | None = None
    add_data_keys: list[str] = Field(default_factory=list)
    phone_column: str | None = None
    list_file: ListFile | None = None

    # Zones of the list's numbers (bot/dialog/calling.py): zone -> count, the per-number
    # assignment stored beside the list, and the numbering plan's date it was made with.
    zones: dict[str, int] = Field(default_factory=dict)
    zones_ref: str | None = None
    zone_sources: dict[str, int] = Field(default_factory=dict)
    plan_date: str | None = None
    # «Split by time zones»: the campaigns of the set and their status (bot/calling/split).
    split: list[dict[str, Any]] | None = None

    # The screen: the one live message of a private chat, and messages with buttons.
    live: int | None = None
    kb_msgs: list[int] = Field(default_factory=list)
    helper_msgs: list[int] = Field(default_factory=list)  # in a group: «✍️ Or answer…»
    reply_to: int | None = None  # the user's message questions reply to (groups)
    editing: bool = False  # a step asked from the summary's «Edit»: back to it after
    resume_state: str | None = None  # /new over this draft: the state it was at

    # Submission (bot/dialog/submission.py).
    submit: Literal["in_flight"] | None = None
    submit_started: float | None = None
    submit_holder: str | None = None
    submit_key: str | None = None
    outcome_unknown: bool = False

    # The team desk (bot/dialog/teamdesk.py): where it came from, its approval, and the
    # list of the campaign it repeats, offered as «the same list» while still stored.
    origin: Origin | None = None
    approval: dict[str, Any] | None = None
    same_list: str | None = None

    @property
    def in_flight(self) -> bool:
        return self.submit == "in_flight"

    def dump(self) -> dict[str, Any]:
        """The stored form: JSON-safe, unset answers left out (one small value in Redis)."""
        return self.model_dump(mode="json", exclude_none=True)

    def copy_for_post(self) -> Draft:
        return self.model_copy(deep=True)


def new_draft(owner: int, chat_id: int, presets: Presets) -> Draft:
    """A fresh draft; a scenario or caller is chosen for the user when the chat's defaults
    name one or there is only one."""
    defaults = presets.chat_defaults(chat_id)
    scenario = defaults.scenario or (
        presets.scenarios[0].key if len(presets.scenarios) == 1 else None
    )
    caller = defaults.caller or (presets.callers[0].key if len(presets.callers) == 1 else None)
    return Draft(
        owner=owner,
        dialog=secrets.token_hex(3),
        scenario=scenario,
        caller=caller,
        preset=[
            code
            for code, value in ((StepCode.SCENARIO, scenario), (StepCode.CALLER, caller))
            if value
        ],
    )


def _from_v1(data: dict[str, Any]) -> dict[str, Any]:
    # v1 (no "v"): "fixed" named the preset steps; it also read like "repaired numbers".
    data = dict(data)
    data["preset"] = data.pop("fixed", [])
    if data.get("list_file") == {}:
        data["list_file"] = None
    data["v"] = 2
    return data


# From version N to N+1; a draft older than the oldest here is dropped.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _from_v1}


class DraftUnreadable(Exception):
    """A stored draft this version cannot use: dropped, its owner told."""


def load_draft(data: dict[str, Any]) -> Draft | None:
    """The stored draft, migrated to this version; None when there is none. Raises
    DraftUnreadable for a draft from a newer version or one that does not validate."""
    if not data or "dialog" not in data:
        return None
    version = data.get("v", 1)
    if not isinstance(version, int) or version > SCHEMA_VERSION:
        raise DraftUnreadable(f"version {version!r}")
    while version < SCHEMA_VERSION:
        migrate = MIGRATIONS.get(version)
        if migrate is None:
            raise DraftUnreadable(f"no migration from version {version}")
        data = migrate(data)
        version = data["v"]
    try:
        return Draft.model_validate(data)
    except ValidationError as error:
        raise DraftUnreadable(f"{error.error_count()} invalid field(s)") from None
