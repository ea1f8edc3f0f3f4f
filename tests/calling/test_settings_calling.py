"""Calling-hours settings and the scenario preset's override."""

from __future__ import annotations

import pytest

from bot.calling import CallingHours, CheckMode, UnknownRule
from bot.presets import Presets
from bot.settings import SettingsError, load_settings

BASE = {"bot_token": "1:a", "campaign_project_id": 1, "campaign_start_block_id": 1,
        "campaign_phone_id": 1}


def test_defaults_are_230_fz_with_the_russian_calendar() -> None:
    s = load_settings(**BASE)
    assert s.calling_hours == CallingHours((480, 1320), (540, 1200), "RU")
    assert s.calling_hours_check is CheckMode.WARN
    assert s.calling_unknown_zone is UnknownRule.CENTRE
    assert s.numbering_plan_dir is None


def test_from_the_environment(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("NUMBERING_PLAN_DIR", str(tmp_path))
    monkeypatch.setenv("CALLING_HOURS_WORKDAY", "09:00-21:00")
    monkeypatch.setenv("CALLING_CALENDAR", "none")
    monkeypatch.setenv("CALLING_HOURS_CHECK", "strict")
    monkeypatch.setenv("CALLING_UNKNOWN_ZONE", "exclude")
    s = load_settings(**BASE)
    assert s.numbering_plan_dir == tmp_path
    assert s.calling_hours == CallingHours((540, 1260), (540, 1200), "")
    assert s.calling_hours_check is CheckMode.STRICT
    assert s.calling_unknown_zone is UnknownRule.EXCLUDE


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("calling_hours_workday", "22:00-08:00", "CALLING_HOURS_WORKDAY: expected HH:MM-HH:MM"),
        ("calling_hours_holiday", "soon", "CALLING_HOURS_HOLIDAY: expected HH:MM-HH:MM"),
        ("calling_calendar", "XX", "CALLING_CALENDAR: unknown country"),
        ("calling_hours_check", "maybe", "CALLING_HOURS_CHECK:"),
        ("calling_unknown_zone", "moscow", "CALLING_UNKNOWN_ZONE:"),
    ],
)
def test_bad_values_name_their_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(**BASE, **{name: value})
    assert any(line.startswith(message) for line in caught.value.lines), caught.value.lines


def test_scenario_preset_overrides_the_check() -> None:
    presets = Presets.model_validate({
        "scenarios": [
            {"title": "Взыскание", "project_id": 1, "start_block_id": 2,
             "calling_hours": "strict"},
            {"title": "Оповещение сотрудников", "project_id": 1, "start_block_id": 3,
             "calling_hours": "off"},
            {"title": "Опрос", "project_id": 1, "start_block_id": 4},
        ],
        "callers": [{"title": "Основной", "phone_id": 5}],
    })
    assert [s.calling_hours for s in presets.scenarios] == [
        CheckMode.STRICT, CheckMode.OFF, None
    ]
    with pytest.raises(ValueError):
        Presets.model_validate({
            "scenarios": [{"title": "X", "project_id": 1, "start_block_id": 2,
                           "calling_hours": "sometimes"}],
            "callers": [{"title": "Основной", "phone_id": 5}],
        })
