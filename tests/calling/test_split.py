"""The split set: exactly once per part, retries send only what does not exist."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from bot.calling import CallingHours, plan_split
from bot.calling.split import (
    CREATED,
    PENDING,
    REJECTED,
    SENDING,
    UNKNOWN_OUTCOME,
    UNREACHABLE,
    done,
    make_parts,
    part_indices,
    recover,
    send_parts,
)
from bot.calling.zones import ZoneAssignment
from bot.campaigns.errors import CampaignOutcomeUnknown, CampaignRejected, CampaignUnreachable

DATE = dt.date(2026, 12, 1)
COUNTS = {"Asia/Yekaterinburg": 5, "Europe/Moscow": 3, "UTC+03:00": 1, "Asia/Omsk": 2}


def _parts() -> list[dict]:
    planned = plan_split(COUNTS, date=DATE, start=9 * 60, end=18 * 60,
                         centre_zone="Asia/Yekaterinburg", hours=CallingHours())
    return make_parts(planned, "Долги декабрь", "пояс неизвестен")


def test_parts_named_and_shifted() -> None:
    parts = _parts()
    assert [(p["name"], p["start"], p["end"], p["count"]) for p in parts] == [
        ("Долги декабрь · UTC+5", "09:00", "18:00", 5),
        ("Долги декабрь · UTC+3", "11:00", "20:00", 4),
        ("Долги декабрь · UTC+6", "08:00", "17:00", 2),
    ]
    assert all(p["status"] == PENDING for p in parts)
    json.dumps(parts)  # JSON-safe: it lives in the draft


def test_part_indices_follow_the_assignment() -> None:
    zones = ["", "Asia/Yekaterinburg", "Europe/Moscow", "UTC+03:00"]
    assignment = ZoneAssignment(zones, bytes([1, 2, 0, 3, 1, 2]))
    assert part_indices(assignment, DATE, 300) == [0, 4]
    assert part_indices(assignment, DATE, 180) == [1, 3, 5]
    assert part_indices(assignment, DATE, None) == [2]


async def test_one_rejected_then_retried_alone() -> None:
    parts = _parts()
    posted: list[str] = []
    saves: list[list[str]] = []
    next_id = iter(range(101, 200))

    async def send(part: dict) -> int:
        posted.append(part["label"])
        if part["label"] == "UTC+3" and posted.count("UTC+3") == 1:
            raise CampaignRejected(422, "phone_id is not allowed")
        return next(next_id)

    async def save() -> None:
        saves.append([p["status"] for p in parts])

    await send_parts(parts, send, save)
    assert [(p["status"], p["id"]) for p in parts] == [
        (CREATED, 101), (REJECTED, None), (CREATED, 102)
    ]
    assert parts[1]["error"] == "phone_id is not allowed"
    # Saved before each POST (the part «sending») and after its answer.
    assert saves[0] == [SENDING, PENDING, PENDING]
    assert saves[-1] == [CREATED, REJECTED, CREATED]
    assert not done(parts)

    sent = await send_parts(parts, send, save)
    assert [p["label"] for p in sent] == ["UTC+3"]
    assert posted == ["UTC+5", "UTC+3", "UTC+6", "UTC+3"]
    assert [p["id"] for p in parts] == [101, 103, 102] and done(parts)
    # A third run (a second tap on «retry») sends nothing at all.
    assert await send_parts(parts, send, save) == []
    assert len(posted) == 4


async def test_unreachable_retried_unknown_never() -> None:
    parts = _parts()

    async def send(part: dict) -> int:
        if part["label"] == "UTC+5":
            raise CampaignUnreachable("connection refused")
        if part["label"] == "UTC+3":
            raise CampaignOutcomeUnknown("read timeout")
        return 7

    async def save() -> None:
        pass

    await send_parts(parts, send, save)
    assert [p["status"] for p in parts] == [UNREACHABLE, UNKNOWN_OUTCOME, CREATED]

    async def send_ok(part: dict) -> int:
        return 8

    again = await send_parts(parts, send_ok, save)
    assert [p["label"] for p in again] == ["UTC+5"]  # the unknown one is not resent


async def test_a_crash_mid_post_leaves_a_part_unknown_not_resent() -> None:
    parts = _parts()
    parts[0]["status"] = SENDING  # the process died while this POST was out
    assert recover(parts) and parts[0]["status"] == UNKNOWN_OUTCOME
    assert not recover(parts)


async def test_a_bug_in_building_is_not_a_created_part() -> None:
    parts = _parts()

    async def send(part: dict) -> int:
        raise RuntimeError("boom")

    async def save() -> None:
        pass

    with pytest.raises(RuntimeError):
        await send_parts(parts, send, save)
    assert [p["status"] for p in parts] == [REJECTED, PENDING, PENDING]
