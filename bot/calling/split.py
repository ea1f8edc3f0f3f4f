"""A campaign split by zone groups, created exactly once for the whole set.

The set is a list of parts, JSON-safe (it lives in the draft). Each part has a status:

    pending      not sent yet
    sending      its POST started; found so after a crash it becomes `unknown`
    created      the API gave an ID: never sent again
    rejected     the API refused (4xx/5xx): nothing was created, sent again on retry
    unreachable  nothing reached the API: sent again on retry
    unknown      the request may have reached the API: never resent by itself

`send_parts` sends the parts that may be sent, one after another, saving the set after
every change of status (before a POST and after its answer), so that a retry — or a
second tap, which the draft's in-flight mark turns away meanwhile — sends only the
parts that do not exist. Knows nothing of Telegram; the POST itself is a callable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from bot.campaigns.errors import CampaignOutcomeUnknown, CampaignRejected, CampaignUnreachable

from .rules import PlannedCampaign, hhmm
from .zones import UNKNOWN, ZoneAssignment, utc_offset_minutes

Part = dict[str, Any]

PENDING, SENDING, CREATED = "pending", "sending", "created"
REJECTED, UNREACHABLE, UNKNOWN_OUTCOME = "rejected", "unreachable", "unknown"
SENDABLE = frozenset({PENDING, REJECTED, UNREACHABLE})


def make_parts(
    planned: Sequence[PlannedCampaign], name: str, unknown_label: str
) -> list[Part]:
    """One part per non-empty group: «Name · UTC+3»; `unknown_label` names the group of
    unknown zone (e.g. «пояс неизвестен»)."""
    parts = []
    for p in planned:
        if p.empty:
            continue
        label = p.label or unknown_label
        parts.append({
            "label": label,
            "offset": p.offset,
            "count": p.count,
            "start": hhmm(p.start),
            "end": hhmm(p.end),
            "local": f"{hhmm(p.local_start)}–{hhmm(p.local_end)}",
            "clamped": p.clamped,
            "narrowed": p.narrowed,
            "name": f"{name} · {label}",
            "status": PENDING,
            "id": None,
            "error": "",
        })
    return parts


def part_indices(assignment: ZoneAssignment, date: dt.date, offset: int | None) -> list[int]:
    """Positions of the list's numbers that belong to a part's group."""
    if offset is None:
        zones = {UNKNOWN}
    else:
        zones = {
            z for z in assignment.zones
            if z != UNKNOWN and utc_offset_minutes(z, date) == offset
        }
    return assignment.indices(zones)


def recover(parts: list[Part]) -> bool:
    """Parts left `sending` by a process that died mid-POST may exist: `unknown`.
    True if any was found."""
    found = False
    for part in parts:
        if part["status"] == SENDING:
            part["status"] = UNKNOWN_OUTCOME
            found = True
    return found


def to_send(parts: Sequence[Part]) -> list[Part]:
    return [p for p in parts if p["status"] in SENDABLE]


def done(parts: Sequence[Part]) -> bool:
    return all(p["status"] == CREATED for p in parts)


async def send_parts(
    parts: list[Part],
    send: Callable[[Part], Awaitable[int]],
    save: Callable[[], Awaitable[None]],
) -> list[Part]:
    """Send each sendable part once, saving the set around every POST; returns the parts
    sent this time. `send` posts one part and returns its campaign ID, or raises one of
    the CampaignError kinds; anything else counts as nothing sent (`rejected`, with the
    error's text) so that a bug never hides a part as created."""
    sent = []
    for part in to_send(parts):
        part["status"] = SENDING
        part["error"] = ""
        await save()
        try:
            part["id"] = await send(part)
            part["status"] = CREATED
        except CampaignRejected as error:
            part["status"] = REJECTED
            part["error"] = error.message or str(error.status)
        except CampaignUnreachable:
            part["status"] = UNREACHABLE
        except CampaignOutcomeUnknown:
            part["status"] = UNKNOWN_OUTCOME
        except Exception as error:  # built before any byte went out: nothing was created
            part["status"] = REJECTED
            part["error"] = type(error).__name__
            await save()
            raise
        sent.append(part)
        await save()
    return sent
