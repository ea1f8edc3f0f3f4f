"""Local calling hours in the dialog: zones computed after a list is accepted, the zone
spread and the hours warnings of the import report and the summary, the split's cards.

The rules themselves are bot.calling's; this module only reads the typed Draft
(`zones` = {zone: count}, `zones_ref` = the per-number assignment in the list store,
`plan_date`, `split` = the parts of a split) and says things in the user's language.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from aiogram import html
from aiogram.utils.i18n import gettext as _
from babel.dates import format_date

from bot.calling import (
    UNKNOWN,
    CheckMode,
    GroupCheck,
    ListZones,
    PlannedCampaign,
    UnknownRule,
    ZoneAssigner,
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
from bot.dialog.draft import Draft
from bot.phones import PhoneList
from bot.presets import Presets
from bot.settings import Settings

log = logging.getLogger(__name__)

async def attach_zones(
    deps: AppDeps, draft: Draft, phones: PhoneList, zones: ListZones | None
) -> None:
    """Keep the list's zones beside it: counts in the draft, the per-number bytes in the
    list store. `zones` is what the ingest worker computed from the columnar list (see
    `zone_assigner`); without it (pasted text, read in this process) they are computed
    here, in a thread, from the list as it is held."""
    if zones is None:
        cache = deps.numbering_plan
        assert cache is not None
        assigner = zone_assigner(deps.settings)
        zones = await asyncio.to_thread(lambda: assigner.run(phones, cache.get()))
    old = draft.zones_ref
    draft.zones_ref = await deps.phone_lists.put(zones.blob)
    if old:
        await deps.phone_lists.delete(old)
    draft.zones = dict(zones.counts)
    draft.zone_sources = dict(zones.sources)
    draft.plan_date = zones.plan_date
    draft.split = None  # a new list: a split planned for the old one is void
    log.info("zones dialog=%s groups=%d sources=%s", draft.dialog, len(zones.counts),
             zones.sources)


def zone_assigner(settings: Settings) -> ZoneAssigner:
    """The ingest's `annotate` hook: the worker computes the zones with its own copy of
    the registry (NUMBERING_PLAN_DIR)."""
    return ZoneAssigner(settings.numbering_plan_dir)


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


def zones_report(draft: Draft, *, today: dt.date, locale: str) -> str:
    """The import report's lines about zones."""
    counts = draft.zones
    if not counts:
        return ""
    day = dt.date.fromisoformat(draft.date) if draft.date else today
    lines = [
        _("Time zones: {spread}").format(spread=spread_text(counts, day)),
        plan_line(draft.plan_date, locale),
    ]
    return "\n".join(lines)


def check_mode(draft: Draft, settings: Settings, presets: Presets) -> CheckMode:
    scenario = presets.scenario(draft.scenario)
    if scenario is not None and scenario.calling_hours is not None:
        return scenario.calling_hours
    return settings.calling_hours_check


def window_checks(draft: Draft, settings: Settings) -> list[GroupCheck]:
    counts = draft.zones
    if not counts or not draft.date or not draft.start:
        return []
    return check_window(
        counts,
        date=dt.date.fromisoformat(draft.date),
        start=parse_hhmm(draft.start),
        end=parse_hhmm(draft.end),
        centre_zone=settings.timezone,
        hours=settings.calling_hours,
        unknown=settings.calling_unknown_zone,
    )


def _group_name(check: GroupCheck | PlannedCampaign) -> str:
    return check.label or _("unknown zone")


def outside_hours(draft: Draft, settings: Settings) -> list[GroupCheck]:
    return [c for c in window_checks(draft, settings) if not c.ok]


def hours_warnings(
    draft: Draft, settings: Settings, presets: Presets, *, locale: str
) -> list[str]:
    """The summary's warnings: each group whose local hours fall outside the allowed
    ones on the chosen date (how many numbers, which hours they would get), and the
    numbers of unknown zone."""
    mode = check_mode(draft, settings, presets)
    counts = draft.zones
    if mode is CheckMode.OFF or not counts:
        return []
    lines = []
    for c in outside_hours(draft, settings):
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
    if lines and draft.date and len(spread(counts, dt.date.fromisoformat(draft.date))) > 2:
        lines.append(_("«Split by time zones» calls every group in its own daytime."))
    return lines


def strict_refusal(draft: Draft, settings: Settings, presets: Presets) -> str | None:
    """Under a strict check, why one campaign cannot be created (or None)."""
    if check_mode(draft, settings, presets) is not CheckMode.STRICT:
        return None
    bad = outside_hours(draft, settings)
    if not bad:
        return None
    return "❗ " + _(
        "Outside the allowed calling hours for: {zones}. Change the time or split by "
        "time zones."
    ).format(zones=", ".join(_group_name(c) for c in bad))


def can_split(draft: Draft) -> bool:
    """More than one zone group (unknown numbers count as a group of their own)."""
    counts = draft.zones
    if not counts or not draft.date:
        return False
    groups = [g for g in spread(counts, dt.date.fromisoformat(draft.date)) if g[1]]
    return len(groups) > 1


def planned(draft: Draft, settings: Settings) -> list[PlannedCampaign]:
    return plan_split(
        draft.zones,
        date=dt.date.fromisoformat(draft.date),
        start=parse_hhmm(draft.start),
        end=parse_hhmm(draft.end),
        centre_zone=settings.timezone,
        hours=settings.calling_hours,
        unknown=settings.calling_unknown_zone,
    )


def new_parts(draft: Draft, settings: Settings) -> list[Part]:
    return make_parts(planned(draft, settings), draft.name, _("zone unknown"))


def _n(value: int, locale: str) -> str:
    from bot.dialog.render import number

    return number(value, locale)


def split_preview(draft: Draft, parts: list[Part], settings: Settings, *,
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
    counts = draft.zones
    if counts.get(UNKNOWN) and settings.calling_unknown_zone is UnknownRule.EXCLUDE:
        lines.append("⚠️ " + _("Zone unknown for numbers: {count}; a split leaves them out.")
                     .format(count=_n(counts[UNKNOWN], locale)))
    skipped = [c for c in planned(draft, settings) if c.empty]
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
