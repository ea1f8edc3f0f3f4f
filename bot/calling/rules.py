"""Calling hours in each number's local time, and what a window does to each zone group.

Defaults are 230-FZ's hours for debt collection (art. 7 p. 3): working days 08:00-22:00,
weekends and holidays 09:00-20:00 in the debtor's local time; holidays and moved working
days from the `holidays` package's Russian production calendar. For other calls they are
the hours a person expects.

Times are minutes from the start of a day. A window chosen in the call centre's zone
lands in a zone `delta` minutes ahead as [start + delta, end + delta], which may reach
into the previous or the next local day: each local day is judged by its own rules.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from .zones import UNKNOWN, offset_label, utc_offset_minutes

DAY = 24 * 60
LAST_MINUTE = DAY - 1  # 23:59: the API's end_time is HH:MM, 24:00 does not exist


class CheckMode(StrEnum):
    OFF = "off"  # no check (an internal notification)
    WARN = "warn"  # warn in the summary, allow creating
    STRICT = "strict"  # refuse to create outside the hours


class UnknownRule(StrEnum):
    CENTRE = "centre"  # treated as the call centre's zone, with a warning
    EXCLUDE = "exclude"  # left out of split campaigns, named in the summary


def parse_hhmm(text: str) -> int:
    h, m = text.strip().split(":")
    minutes = int(h) * 60 + int(m)
    if not (0 <= int(m) < 60 and 0 <= minutes <= DAY):
        raise ValueError(f"not a time of day: {text!r}")
    return minutes


def hhmm(minutes: int) -> str:
    minutes = min(max(minutes, 0), DAY)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_span(text: str) -> tuple[int, int]:
    """«08:00-22:00» -> (480, 1320)."""
    start, _, end = text.replace("–", "-").replace("—", "-").partition("-")
    a, b = parse_hhmm(start), parse_hhmm(end)
    if b <= a:
        raise ValueError(f"the end must be after the start: {text!r}")
    return a, b


@lru_cache(maxsize=8)
def _calendar(country: str, year: int) -> object | None:
    if not country:
        return None
    import holidays  # imported when first needed: its data is a few MB

    return holidays.country_holidays(country, years=[year])


@dataclass(frozen=True, slots=True)
class CallingHours:
    workday: tuple[int, int] = (8 * 60, 22 * 60)
    holiday: tuple[int, int] = (9 * 60, 20 * 60)
    calendar: str = "RU"  # a `holidays` country code; "" = Saturdays and Sundays only

    def is_working_day(self, day: dt.date) -> bool:
        cal = _calendar(self.calendar, day.year)
        if cal is None:
            return day.weekday() < 5
        # Holidays, weekends, and the Saturdays made working days by a transfer.
        return cal.is_working_day(day)  # type: ignore[attr-defined]

    def allowed(self, day: dt.date) -> tuple[int, int]:
        return self.workday if self.is_working_day(day) else self.holiday


@dataclass(frozen=True, slots=True)
class GroupCheck:
    """One zone group against a window chosen on a date in the call centre's zone."""

    offset: int | None  # minutes from UTC; None = unknown zone
    count: int
    local_start: int  # minutes from local midnight of the campaign date (may be <0 or >DAY)
    local_end: int
    allowed: tuple[int, int]  # the hours of the local day the window starts on
    working_day: bool
    ok: bool

    @property
    def label(self) -> str:
        return offset_label(self.offset) if self.offset is not None else ""

    @property
    def local_hours(self) -> str:
        """«06:00–15:00», as the numbers would get it on their clocks."""
        return f"{hhmm(self.local_start % DAY)}–{hhmm(_end_clock(self.local_end))}"


def _end_clock(minutes: int) -> int:
    m = minutes % DAY
    return DAY if m == 0 and minutes > 0 else m


def _inside(hours: CallingHours, day: dt.date, start: int, end: int) -> bool:
    """Is [start, end) (minutes from local midnight of `day`) inside the allowed hours of
    each local day it touches?"""
    first = start // DAY
    last = (end - 1) // DAY
    for k in range(first, last + 1):
        lo, hi = hours.allowed(day + dt.timedelta(days=k))
        a = max(start, k * DAY)
        b = min(end, (k + 1) * DAY)
        if a < k * DAY + lo or b > k * DAY + hi:
            return False
    return True


def group_offsets(counts: Mapping[str, int], date: dt.date) -> dict[int | None, int]:
    """Zone -> count into UTC offset on a date -> count (unknown under None)."""
    out: dict[int | None, int] = {}
    for zone, n in counts.items():
        key = None if zone == UNKNOWN else utc_offset_minutes(zone, date)
        out[key] = out.get(key, 0) + n
    return out


def spread(counts: Mapping[str, int], date: dt.date) -> list[tuple[int | None, int]]:
    """(offset or None, count), biggest group first, unknown last."""
    groups = group_offsets(counts, date)
    known = sorted(((k, n) for k, n in groups.items() if k is not None),
                   key=lambda kn: (-kn[1], kn[0]))
    return [*known, (None, groups.get(None, 0))]


def percent(part: int, total: int) -> int:
    """Whole percent, never 0 % for a non-empty part nor 100 % for a partial one."""
    if total <= 0 or part <= 0:
        return 0
    value = round(100 * part / total)
    if value == 0:
        return 1
    if value == 100 and part < total:
        return 99
    return value


def check_window(
    counts: Mapping[str, int],
    *,
    date: dt.date,
    start: int,
    end: int,
    centre_zone: str,
    hours: CallingHours,
    unknown: UnknownRule = UnknownRule.CENTRE,
) -> list[GroupCheck]:
    """Each zone group against the window [start, end) chosen on `date` in the centre's
    zone. Unknown numbers are judged in the centre's zone under UnknownRule.CENTRE and
    reported (ok=True, nothing to judge) under EXCLUDE."""
    centre = utc_offset_minutes(centre_zone, date)
    out = []
    for offset, n in spread(counts, date):
        if n == 0:
            continue
        judged = offset if offset is not None else (
            centre if unknown is UnknownRule.CENTRE else None
        )
        if judged is None:
            out.append(GroupCheck(None, n, start, end, hours.allowed(date),
                                  hours.is_working_day(date), True))
            continue
        delta = judged - centre
        a, b = start + delta, end + delta
        local_day = date + dt.timedelta(days=a // DAY)
        out.append(
            GroupCheck(
                offset, n, a, b, hours.allowed(local_day), hours.is_working_day(local_day),
                _inside(hours, date, a, b),
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class PlannedCampaign:
    """One campaign of a split: a zone group, and its window in the centre's zone."""

    offset: int | None  # None = the unknown numbers (under UnknownRule.CENTRE)
    count: int
    start: int  # in the centre's zone, on the campaign date
    end: int
    local_start: int  # what the numbers get on their clocks
    local_end: int
    clamped: bool  # the window would have crossed midnight in the centre's zone
    narrowed: bool  # the legal hours cut the chosen window
    empty: bool  # nothing of the chosen window is callable on that date

    @property
    def label(self) -> str:
        return offset_label(self.offset) if self.offset is not None else ""


def plan_split(
    counts: Mapping[str, int],
    *,
    date: dt.date,
    start: int,
    end: int,
    centre_zone: str,
    hours: CallingHours,
    unknown: UnknownRule = UnknownRule.CENTRE,
) -> list[PlannedCampaign]:
    """One campaign per zone group: the chosen window read as each group's local window
    on the campaign date, cut to that day's legal hours, shifted into the centre's zone;
    a shifted window that would cross midnight there is clamped to the campaign date
    (the API takes one date and HH:MM times). Biggest group first; unknown numbers are
    their own group under UnknownRule.CENTRE (the centre's window), left out under
    EXCLUDE."""
    centre = utc_offset_minutes(centre_zone, date)
    planned = []
    for offset, n in spread(counts, date):
        if n == 0 or (offset is None and unknown is UnknownRule.EXCLUDE):
            continue
        delta = (offset if offset is not None else centre) - centre
        lo, hi = hours.allowed(date)
        a, b = max(start, lo), min(end, hi)
        narrowed = (a, b) != (start, end)
        s, e = a - delta, b - delta  # in the centre's zone
        clamped = s < 0 or e > DAY  # ending at 24:00 is sent as 23:59, not a clamp
        s, e = max(s, 0), min(e, LAST_MINUTE)
        empty = e <= s
        planned.append(
            PlannedCampaign(offset, n, s, e, s + delta, e + delta, clamped, narrowed, empty)
        )
    return planned
