"""Local calling hours in the dialog: zones computed after a list is accepted, the zone
spread and the hours warnings of the import report and the summary, the split's cards.

The rules themselves are bot.calling's; this module only reads the draft (JSON-safe:
`zones` = {zone: count}, `zones_ref` = the per-number assignment in the list store,
`plan_date`, `split` = the parts of a split) and says things in the user's language.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

from aiogram import html
from aiogram.utils.i18n import gettext as _
from babel.dates import format_date

from bot.calling import (
    UNKNOWN,
    CheckMode,
    GroupCheck,
    PlannedCampaign,
    UnknownRule,
    assign_zones,
    check_window,
    offset_label,
    plan_split,
    spread,
)
from bot.calling.rules import hhmm, parse_hhmm, percent
from bot.calling.split import (
    CREATED,
    REJECTED,
    SENDING,
    UNKNOWN_OUTCOME,
    UNREACHABLE,
    Part,
    make_parts,
)
from bot.deps import AppDeps
from bot.phones import PhoneList
from bot.presets import Presets
from bot.settings import Settings

log = logging.getLogger(__name__)

# The draft is a dict (FSM data) or a typed model with the same field names: both read.
Draft = Any


def _get(draft: Draft, key: str, default: Any = None) -> Any:
    if isinstance(draft, dict):
        value = draft.get(key, default)
    else:
        value = getattr(draft, key, default)
    return default if value is None else value


def _set(draft: Draft, key: str, value: Any) -> None:
    if isinstance(draft, dict):
        draft[key] = value
    else:
        setattr(draft, key, value)


async def attach_zones(deps: AppDeps, data: Draft, phones: PhoneList) -> None:
    """Each number's zone, after the ingest (the list's zone columns are its add_data),
    kept beside the list: counts in the draft, the per-number bytes in the list store."""
    plan_cache = deps.numbering_plan
    assert plan_cache is not None

    def work() -> tuple[bytes, dict[str, int], dict[str, int], str | None]:
        plan = plan_cache.get()
        assignment = assign_zones(phones.phones, phones.keys, phones.columns, plan)
        date = plan.date.isoformat() if plan is not None and plan.date else None
        return assignment.to_bytes(), assignment.counts(), assignment.sources, date

    blob, counts, sources, plan_date = await asyncio.to_thread(work)
    old = _get(data, "zones_ref")
    _set(data, "zones_ref", await deps.phone_lists.put(blob))
    if old:
        await deps.phone_lists.delete(old)
    _set(data, "zones", counts)
    _set(data, "zone_sources", sources)
    _set(data, "plan_date", plan_date)
    _set(data, "split", None)  # a new list: a split planned for the old one is void
    log.info("zones dialog=%s groups=%d sources=%s", _get(data, "dialog"), len(counts), sources)


def spread_text(counts: dict[str, int], date: dt.date) -> str:
    """«UTC+5 — 82 %, UTC+3 — 15 %, неизвестно — 0 %»: biggest first, unknown last."""
    groups = spread(counts, date)
    total = sum(n for _, n in groups)
    unknown = _("unknown")
    parts = [
        f"{offset_label(offset) if offset is not None else unknown} — {percent(n, total)} %"
        for offset, n in groups
    ]
    return ", ".join(parts)


def plan_line(plan_date: str | None, locale: str) -> str:
    if plan_date:
        day = format_date(dt.date.fromisoformat(plan_date), "d.MM.y", locale=locale)
        return _("Numbering plan as of {date}").format(date=day)
    return _("Numbering plan not set up: zones of mobile numbers only from the file")


def zones_report(data: Draft, *, today: dt.date, locale: str) -> str:
    """The import report's lines about zones."""
    counts = _get(data, "zones") or {}
    if not counts:
        return ""
    day = dt.date.fromisoformat(_get(data, "date")) if _get(data, "date") else today
    lines = [
        _("Time zones: {spread}").format(spread=spread_text(counts, day)),
        plan_line(_get(data, "plan_date"), locale),
    ]
    return "\n".join(lines)


def check_mode(data: Draft, settings: Settings, presets: Presets) -> CheckMode:
    scenario = presets.scenario(_get(data, "scenario"))
    if scenario is not None and scenario.calling_hours is not None:
        return scenario.calling_hours
    return settings.calling_hours_check


def window_checks(data: Draft, settings: Settings) -> list[GroupCheck]:
    counts = _get(data, "zones") or {}
    if not counts or not _get(data, "date") or not _get(data, "start"):
        return []
    return check_window(
        counts,
        date=dt.date.fromisoformat(_get(data, "date")),
        start=parse_hhmm(_get(data, "start")),
        end=parse_hhmm(_get(data, "end")),
        centre_zone=settings.timezone,
        hours=settings.calling_hours,
        unknown=settings.calling_unknown_zone,
    )


def _group_name(check: GroupCheck | PlannedCampaign) -> str:
    return check.label or _("unknown zone")


def outside_hours(data: Draft, settings: Settings) -> list[GroupCheck]:
    return [c for c in window_checks(data, settings) if not c.ok]


def hours_warnings(
    data: Draft, settings: Settings, presets: Presets, *, locale: str
) -> list[str]:
    """The summary's warnings: each group whose local hours fall outside the allowed
    ones on the chosen date (how many numbers, which hours they would get), and the
    numbers of unknown zone."""
    mode = check_mode(data, settings, presets)
    counts = _get(data, "zones") or {}
    if mode is CheckMode.OFF or not counts:
        return []
    lines = []
    for c in outside_hours(data, settings):
        day_kind = _("working day") if c.working_day else _("day off")
        lines.append(
            "⚠️ "
            + _(
                "{zone}: numbers: {count}, they would be called at {hours} local time; "
                "allowed on that {kind}: {allowed}."
            ).format(
                zone=_group_name(c),
                count=_n(c.count, locale),
                hours=c.local_hours,
                kind=day_kind,
                allowed=f"{hhmm(c.allowed[0])}–{hhmm(c.allowed[1])}",
            )
        )
    unknown = counts.get(UNKNOWN, 0)
    if unknown:
        if settings.calling_unknown_zone is UnknownRule.CENTRE:
            text = _("Zone unknown for numbers: {count}; they are taken as the call "
                     "centre's zone.")
        else:
            text = _("Zone unknown for numbers: {count}; a split leaves them out.")
        lines.append("⚠️ " + text.format(count=_n(unknown, locale)))
    if lines and len(spread(counts, dt.date.fromisoformat(_get(data, "date")))) > 2:
        lines.append(_("«Split by time zones» calls every group in its own daytime."))
    return lines


def strict_refusal(data: Draft, settings: Settings, presets: Presets) -> str | None:
    """Under a strict check, why one campaign cannot be created (or None)."""
    if check_mode(data, settings, presets) is not CheckMode.STRICT:
        return None
    bad = outside_hours(data, settings)
    if not bad:
        return None
    return "❗ " + _(
        "Outside the allowed calling hours for: {zones}. Change the time or split by "
        "time zones."
    ).format(zones=", ".join(_group_name(c) for c in bad))


def can_split(data: Draft) -> bool:
    """More than one zone group (unknown numbers count as a group of their own)."""
    counts = _get(data, "zones") or {}
    if not counts or not _get(data, "date"):
        return False
    groups = [g for g in spread(counts, dt.date.fromisoformat(_get(data, "date"))) if g[1]]
    return len(groups) > 1


def planned(data: Draft, settings: Settings) -> list[PlannedCampaign]:
    return plan_split(
        _get(data, "zones") or {},
        date=dt.date.fromisoformat(_get(data, "date")),
        start=parse_hhmm(_get(data, "start")),
        end=parse_hhmm(_get(data, "end")),
        centre_zone=settings.timezone,
        hours=settings.calling_hours,
        unknown=settings.calling_unknown_zone,
    )


def new_parts(data: Draft, settings: Settings) -> list[Part]:
    return make_parts(planned(data, settings), _get(data, "name"), _("zone unknown"))


def _n(value: int, locale: str) -> str:
    from bot.dialog.render import number

    return number(value, locale)


def split_preview(data: Draft, parts: list[Part], settings: Settings, *,
                  locale: str) -> str:
    """The confirmation card: one line per campaign, what the numbers get, what was cut."""
    lines = [_("🕐 Split by time zones: campaigns: {count}").format(count=len(parts)), ""]
    for p in parts:
        lines.append(
            _("• «{name}»: numbers: {count}, {start}–{end} ({tz}), local {local}").format(
                name=html.quote(p["name"]), count=_n(p["count"], locale), start=p["start"],
                end=p["end"], tz=settings.timezone, local=p["local"],
            )
        )
        if p["clamped"]:
            lines.append("  " + _("⚠️ the window would cross midnight: cut to {start}–{end}")
                         .format(start=p["start"], end=p["end"]))
        elif p["narrowed"]:
            lines.append("  " + _("the allowed hours of that day cut the window"))
    counts = _get(data, "zones") or {}
    if counts.get(UNKNOWN) and settings.calling_unknown_zone is UnknownRule.EXCLUDE:
        lines.append("⚠️ " + _("Zone unknown for numbers: {count}; a split leaves them out.")
                     .format(count=_n(counts[UNKNOWN], locale)))
    skipped = [c for c in planned(data, settings) if c.empty]
    for c in skipped:
        lines.append("⚠️ " + _("{zone}: numbers: {count}, nothing of the window is inside "
                               "the allowed hours; no campaign for them.")
                     .format(zone=_group_name(c), count=_n(c.count, locale)))
    return "\n".join(lines)


def split_status(parts: list[Part], *, locale: str) -> str:
    """Which campaigns of the set exist (with IDs), which do not, which may."""
    created = [p for p in parts if p["status"] == CREATED]
    lines = []
    if len(created) == len(parts):
        lines.append(_("✅ Campaigns created: {count}").format(count=len(parts)))
    else:
        lines.append(_("Campaigns created: {done} of {total}").format(
            done=len(created), total=len(parts)))
    for p in parts:
        name = html.quote(p["name"])
        count = _n(p["count"], locale)
        if p["status"] == CREATED:
            lines.append(_("✅ «{name}» ({count}): ID {id}").format(
                name=name, count=count, id=html.bold(str(p["id"]))))
        elif p["status"] == REJECTED:
            lines.append(_("❌ «{name}» ({count}): refused: {message}").format(
                name=name, count=count, message=html.quote(p["error"] or "—")))
        elif p["status"] == UNREACHABLE:
            lines.append(_("❌ «{name}» ({count}): service unreachable, not created").format(
                name=name, count=count))
        elif p["status"] in (UNKNOWN_OUTCOME, SENDING):
            lines.append(_("⚠️ «{name}» ({count}): no answer, it MAY have been created: "
                           "check it on the platform").format(name=name, count=count))
        else:
            lines.append(_("⏳ «{name}» ({count}): not sent yet").format(name=name,
                                                                          count=count))
    return "\n".join(lines)
