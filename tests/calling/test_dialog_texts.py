"""What the dialog says about zones: spread, warnings, strict refusal, split cards."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from bot.calling.split import CREATED, REJECTED, UNKNOWN_OUTCOME
from bot.dialog import calling
from bot.dialog.draft import Draft
from bot.i18n import create_i18n
from bot.presets import Presets
from bot.settings import load_settings

BASE = {"bot_token": "1:a", "campaign_project_id": 1, "campaign_start_block_id": 1,
        "campaign_phone_id": 1}
COUNTS = {"Asia/Yekaterinburg": 82, "Europe/Moscow": 15, "Asia/Omsk": 2, "": 1}


@pytest.fixture(params=["ru", "en"])
def locale(request) -> Iterator[str]:
    i18n = create_i18n()
    with i18n.context(), i18n.use_locale(request.param):
        yield request.param


def _presets(mode: str | None = None) -> Presets:
    scenario = {"title": "S", "project_id": 1, "start_block_id": 2}
    if mode:
        scenario["calling_hours"] = mode
    return Presets.model_validate({"scenarios": [scenario],
                                   "callers": [{"title": "C", "phone_id": 5}]})


def _draft(**kw) -> Draft:
    return Draft(**{"owner": 1, "dialog": "abc", "name": "Долги", "scenario": "1",
                    "date": "2026-12-01", "start": "09:00", "end": "18:00",
                    "zones": dict(COUNTS), **kw})


def test_spread_line(locale: str) -> None:
    unknown = "неизвестно" if locale == "ru" else "unknown"
    assert calling.spread_text(COUNTS, dt.date(2026, 12, 1)) == (
        f"UTC+5 — 82 %, UTC+3 — 15 %, UTC+6 — 2 %, {unknown} — 1 %"
    )
    no_unknown = {k: v for k, v in COUNTS.items() if k}
    assert calling.spread_text(no_unknown, dt.date(2026, 12, 1)).endswith(f"{unknown} — 0 %")
    report = calling.zones_report(_draft(plan_date="2026-11-30"), today=dt.date(2026, 12, 1),
                                  locale=locale)
    assert "UTC+5 — 82 %" in report and "30.11.2026" in report
    assert "30.11.2026" not in calling.zones_report(_draft(), today=dt.date(2026, 12, 1),
                                                    locale=locale)


def test_warnings_working_day_and_holiday(locale: str) -> None:
    settings = load_settings(**BASE)
    work = calling.hours_warnings(_draft(), settings, _presets(), locale=locale)
    # UTC+3 gets 07:00-16:00 (before 08:00); UTC+5 and UTC+6 are fine.
    assert len([w for w in work if "07:00–16:00" in w]) == 1
    assert not any("UTC+5" in w or "UTC+6" in w for w in work)
    assert any("15" in w and "08:00–22:00" in w for w in work)
    holiday = calling.hours_warnings(_draft(date="2026-11-04", start="08:00", end="19:00"),
                                     settings, _presets(), locale=locale)
    assert any("UTC+5" in w and "08:00–19:00" in w and "09:00–20:00" in w for w in holiday)
    # Unknown numbers are named.
    assert any(w.startswith(("⚠️ Пояс не определён у номеров: 1;",
                             "⚠️ Zone unknown for numbers: 1;")) for w in work)
    assert calling.hours_warnings(_draft(), settings, _presets("off"), locale=locale) == []


def test_strict_refuses_and_split_card(locale: str) -> None:
    settings = load_settings(**BASE)
    assert calling.strict_refusal(_draft(), settings, _presets()) is None
    refusal = calling.strict_refusal(_draft(), settings, _presets("strict"))
    assert refusal is not None and "UTC+3" in refusal
    assert calling.can_split(_draft())
    parts = calling.new_parts(_draft(), settings)
    assert [p["name"] for p in parts][:3] == ["Долги · UTC+5", "Долги · UTC+3", "Долги · UTC+6"]
    preview = calling.split_preview(_draft(), parts, settings, locale=locale)
    assert "11:00–20:00" in preview and "Долги · UTC+3" in preview
    parts[0].update(status=CREATED, id=501)
    parts[1].update(status=REJECTED, error="phone_id")
    parts[2].update(status=UNKNOWN_OUTCOME)
    status = calling.split_status(parts, locale=locale)
    assert "501" in status and "phone_id" in status
    assert "1" in status.splitlines()[0] and "4" in status.splitlines()[0]
