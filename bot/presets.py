"""Scenarios and caller numbers a campaign can use: a TOML file, or the CAMPAIGN_* settings.

```toml
[[scenarios]]
key = "survey"                  # optional; defaults to the scenario's position
title = "Опрос качества"
project_id = 1
start_block_id = 10
params = ["name", "time"]       # add_data keys the start block needs
calling_hours = "strict"        # optional: off | warn | strict (default: CALLING_HOURS_CHECK)

[[callers]]
key = "main"
title = "Основной номер"
phone_id = 5

[chats."-1001234567890"]         # a group chat's defaults
scenario = "survey"
approval = true                 # another member approves each campaign (also per scenario)
```
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from bot.calling.rules import CheckMode

Key = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,16}$")]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Scenario(_Frozen):
    key: Key
    title: Title
    project_id: int = Field(gt=0)
    start_block_id: int = Field(gt=0)
    params: tuple[str, ...] = ()
    # Four-eyes: a campaign of this scenario goes out only once another member approves it.
    approval: bool = False
    # Local calling hours: None follows CALLING_HOURS_CHECK; "off" for e.g. an internal
    # notification, "strict" refuses to create a campaign outside the legal hours.
    calling_hours: CheckMode | None = None


class Caller(_Frozen):
    key: Key
    title: Title
    phone_id: int = Field(gt=0)


class ChatDefaults(_Frozen):
    scenario: Key | None = None
    caller: Key | None = None
    # Four-eyes: every campaign started from this chat waits for another member's approval.
    approval: bool = False
    # Where /new in this group runs the wizard: "private" (a link to the private chat) or
    # "group" (in the group itself); unset: the GROUP_WIZARD setting.
    wizard: Literal["private", "group"] | None = None


class Presets(_Frozen):
    scenarios: tuple[Scenario, ...]
    callers: tuple[Caller, ...]
    chats: dict[int, ChatDefaults] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _default_keys(cls, data: object) -> object:
        # Keys are optional in the file: a position is a stable enough key for callback data.
        if isinstance(data, dict):
            data = dict(data)
            for section in ("scenarios", "callers"):
                items = data.get(section)
                if isinstance(items, list):
                    data[section] = [
                        {"key": str(i + 1), **item} if isinstance(item, dict) else item
                        for i, item in enumerate(items)
                    ]
        return data

    @model_validator(mode="after")
    def _check(self) -> Presets:
        if not self.scenarios:
            raise ValueError("at least one scenario is required")
        if not self.callers:
            raise ValueError("at least one caller number is required")
        for section, items in (("scenarios", self.scenarios), ("callers", self.callers)):
            keys = [item.key for item in items]
            if len(set(keys)) != len(keys):
                raise ValueError(f"{section}: keys must be unique")
        for chat_id, defaults in self.chats.items():
            if defaults.scenario and self.scenario(defaults.scenario) is None:
                raise ValueError(f"chats.{chat_id}: unknown scenario {defaults.scenario!r}")
            if defaults.caller and self.caller(defaults.caller) is None:
                raise ValueError(f"chats.{chat_id}: unknown caller {defaults.caller!r}")
        return self

    def scenario(self, key: str | None) -> Scenario | None:
        return next((s for s in self.scenarios if s.key == key), None)

    def caller(self, key: str | None) -> Caller | None:
        return next((c for c in self.callers if c.key == key), None)

    def chat_defaults(self, chat_id: int) -> ChatDefaults:
        return self.chats.get(chat_id, ChatDefaults())

    @classmethod
    def single(cls, *, project_id: int, start_block_id: int, phone_id: int) -> Presets:
        return cls(
            scenarios=(
                Scenario(
                    key="1",
                    title=f"project_id {project_id}, start_block_id {start_block_id}",
                    project_id=project_id,
                    start_block_id=start_block_id,
                ),
            ),
            callers=(Caller(key="1", title=f"phone_id {phone_id}", phone_id=phone_id),),
        )


def load_presets(path: Path) -> Presets:
    """Read and validate a presets file; raises ValueError with a readable reason."""
    try:
        with path.open("rb") as fp:
            raw = tomllib.load(fp)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from exc
    return Presets.model_validate(raw)
