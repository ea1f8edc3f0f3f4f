"""Calling hours against zone groups: the check of a window and the split planner."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.calling import CallingHours, UnknownRule, check_window, plan_split, spread
from bot.calling.rules import hhmm, parse_span, percent

WORKDAY = dt.date(2026, 12, 1)  # a Tuesday
HOLIDAY = dt.date(2026, 11, 4)  # Unity Day, a Wednesday
CENTRE = "Asia/Yekaterinburg"  # UTC+5
HOURS = CallingHours()

COUNTS = {
    "Europe/Kaliningrad": 10,  # UTC+2
    "Europe/Moscow": 150,  # UTC+3
    "UTC+03:00": 5,  # a zone column: joins the UTC+3 group
    "Asia/Yekaterinburg": 800,  # UTC+5
    "Asia/Novosibirsk": 20,  # UTC+7
    "Asia/Kamchatka": 15,  # UTC+12
    "": 3,  # unknown
}


def _by_label(checks):
    return {c.label: c for c in checks}


def test_production_calendar() -> None:
    assert HOURS.is_working_day(WORKDAY)
    assert not HOURS.is_working_day(HOLIDAY)
    assert not HOURS.is_working_day(dt.date(2026, 12, 5))  # Saturday
    assert not HOURS.is_working_day(dt.date(2027, 1, 7))  # Christmas
    assert HOURS.allowed(WORKDAY) == (480, 1320)
    assert HOURS.allowed(HOLIDAY) == (540, 1200)
    plain = CallingHours(calendar="")
    assert plain.is_working_day(HOLIDAY)  # no calendar: only weekends are days off


def test_spread_biggest_first_unknown_last() -> None:
    assert spread(COUNTS, WORKDAY) == [
        (300, 800), (180, 155), (420, 20), (720, 15), (120, 10), (None, 3)
    ]
    assert percent(3, 1003) == 1  # never «0 %» for numbers that are there
    assert percent(1000, 1003) == 99 and percent(0, 5) == 0 and percent(5, 5) == 100


def test_window_on_a_working_day() -> None:
    checks = _by_label(check_window(COUNTS, date=WORKDAY, start=9 * 60, end=18 * 60,
                                    centre_zone=CENTRE, hours=HOURS))
    assert checks["UTC+2"].local_hours == "06:00–15:00" and not checks["UTC+2"].ok
    assert checks["UTC+3"].local_hours == "07:00–16:00" and not checks["UTC+3"].ok
    assert checks["UTC+3"].count == 155
    assert checks["UTC+5"].ok and checks["UTC+7"].ok
    kam = checks["UTC+12"]
    assert kam.local_hours == "16:00–01:00" and not kam.ok  # past 22:00 and past midnight
    # Unknown numbers are judged in the centre's zone by default.
    assert checks[""].ok and checks[""].count == 3
    late = _by_label(check_window(COUNTS, date=WORKDAY, start=18 * 60, end=20 * 60,
                                  centre_zone=CENTRE, hours=HOURS, unknown=UnknownRule.CENTRE))
    assert late["UTC+7"].local_hours == "20:00–22:00" and late["UTC+7"].ok
    assert late["UTC+12"].local_hours == "01:00–03:00" and not late["UTC+12"].ok


def test_window_on_a_holiday() -> None:
    # 08:00-21:00 is inside a working day's 08-22 at UTC+5, not a holiday's 09-20.
    work = _by_label(check_window(COUNTS, date=WORKDAY, start=8 * 60, end=21 * 60,
                                  centre_zone=CENTRE, hours=HOURS))
    assert work["UTC+5"].ok and work["UTC+5"].working_day
    holiday = _by_label(check_window(COUNTS, date=HOLIDAY, start=8 * 60, end=21 * 60,
                                     centre_zone=CENTRE, hours=HOURS))
    assert not holiday["UTC+5"].ok and not holiday["UTC+5"].working_day
    assert holiday["UTC+5"].allowed == (540, 1200)
    assert holiday[""].ok is False  # unknown, judged as the centre's zone


def test_next_local_day_judged_by_its_own_rules() -> None:
    # Friday 2026-12-04 evening at UTC+5 is Saturday morning at UTC+12 (holiday hours).
    friday = dt.date(2026, 12, 4)
    checks = _by_label(check_window({"Asia/Kamchatka": 1}, date=friday, start=20 * 60 + 30,
                                    end=23 * 60, centre_zone=CENTRE, hours=HOURS))
    c = checks["UTC+12"]
    assert c.local_hours == "03:30–06:00" and not c.working_day and not c.ok


def test_unknown_excluded_is_not_judged() -> None:
    checks = _by_label(check_window({"": 4}, date=WORKDAY, start=6 * 60, end=7 * 60,
                                    centre_zone=CENTRE, hours=HOURS,
                                    unknown=UnknownRule.EXCLUDE))
    assert checks[""].ok and checks[""].count == 4


def test_split_shifts_each_window_into_the_centre_zone() -> None:
    plan = plan_split(COUNTS, date=WORKDAY, start=9 * 60, end=18 * 60, centre_zone=CENTRE,
                      hours=HOURS)
    got = {p.label: (hhmm(p.start), hhmm(p.end), p.clamped, p.count) for p in plan}
    assert got == {
        "UTC+5": ("09:00", "18:00", False, 800),
        "UTC+3": ("11:00", "20:00", False, 155),
        "UTC+7": ("07:00", "16:00", False, 20),
        "UTC+12": ("02:00", "11:00", False, 15),
        "UTC+2": ("12:00", "21:00", False, 10),
        "": ("09:00", "18:00", False, 3),
    }
    for p in plan:
        assert (hhmm(p.local_start), hhmm(p.local_end)) == ("09:00", "18:00")
    assert [p.label for p in plan_split(COUNTS, date=WORKDAY, start=540, end=1080,
                                        centre_zone=CENTRE, hours=HOURS,
                                        unknown=UnknownRule.EXCLUDE)][-1] == "UTC+2"


def test_split_clamps_at_midnight_and_cuts_to_legal_hours() -> None:
    # Moscow centre, 08:00-22:00 local for Kamchatka (+9 h) would start at 23:00 the day
    # before: clamped to 00:00, and said so.
    plan = plan_split({"Asia/Kamchatka": 5, "Europe/Kaliningrad": 2}, date=WORKDAY,
                      start=8 * 60, end=22 * 60, centre_zone="Europe/Moscow", hours=HOURS)
    kam, kal = plan
    assert (hhmm(kam.start), hhmm(kam.end), kam.clamped) == ("00:00", "13:00", True)
    assert (hhmm(kam.local_start), hhmm(kam.local_end)) == ("09:00", "22:00")
    assert (hhmm(kal.start), hhmm(kal.end), kal.clamped) == ("09:00", "23:00", False)
    # A holiday cuts 07:00-23:00 to 09:00-20:00 local: narrowed, not clamped.
    (group,) = plan_split({"Asia/Yekaterinburg": 1}, date=HOLIDAY, start=7 * 60,
                          end=23 * 60, centre_zone=CENTRE, hours=HOURS)
    assert (hhmm(group.start), hhmm(group.end), group.narrowed) == ("09:00", "20:00", True)
    # Nothing left of the window: the group is marked empty.
    (none,) = plan_split({"Asia/Yekaterinburg": 1}, date=WORKDAY, start=22 * 60 + 30,
                         end=23 * 60, centre_zone=CENTRE, hours=HOURS)
    assert none.empty


@pytest.mark.parametrize(("text", "span"), [("08:00-22:00", (480, 1320)),
                                            ("9:00–20:00", (540, 1200))])
def test_parse_span(text: str, span: tuple[int, int]) -> None:
    assert parse_span(text) == span


def test_parse_span_refuses_nonsense() -> None:
    for bad in ("22:00-08:00", "25:00-26:00", "8-9", "08:61-09:00"):
        with pytest.raises(ValueError):
            parse_span(bad)
