import datetime as dt

import pytest

from bot.dialog.parsing import (
    AnswerError,
    Window,
    attempts_fit,
    check_window_for_date,
    parse_attempts,
    parse_date,
    parse_description,
    parse_interval,
    parse_name,
    parse_window,
)

TODAY = dt.date(2026, 11, 27)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("28.11", dt.date(2026, 11, 28)),
        ("28.11.2026", dt.date(2026, 11, 28)),
        ("2026-11-28", dt.date(2026, 11, 28)),
        ("28/11/26", dt.date(2026, 11, 28)),
        ("сегодня", TODAY),
        ("Завтра", dt.date(2026, 11, 28)),
        (" today ", TODAY),
        ("5.1", dt.date(2027, 1, 5)),  # a day already past this year means next year
        ("27.11", TODAY),
    ],
)
def test_parse_date_accepts(text: str, expected: dt.date) -> None:
    assert parse_date(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("30.02.2027", "date_impossible"),
        ("2026-13-01", "date_impossible"),
        ("26.11.2026", "date_past"),
        ("2025-11-28", "date_past"),
        ("послезавтра", "date_format"),
        ("", "date_format"),
        ("01.01.2030", "date_too_far"),
    ],
)
def test_parse_date_refuses(text: str, code: str) -> None:
    with pytest.raises(AnswerError) as info:
        parse_date(text, TODAY)
    assert info.value.code == code


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("9-18", dt.time(9), dt.time(18)),
        ("09:00-17:00", dt.time(9), dt.time(17)),
        ("с 9 до 18", dt.time(9), dt.time(18)),
        ("С 9:30 до 18.15", dt.time(9, 30), dt.time(18, 15)),
        ("10 – 19", dt.time(10), dt.time(19)),
        ("8-24", dt.time(8), dt.time(23, 59)),
    ],
)
def test_parse_window_accepts(text: str, start: dt.time, end: dt.time) -> None:
    assert parse_window(text) == Window(start, end)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("18-9", "window_order"),
        ("9-9", "window_order"),
        ("25-26", "window_impossible"),
        ("9:61-18", "window_impossible"),
        ("утром", "window_format"),
    ],
)
def test_parse_window_refuses(text: str, code: str) -> None:
    with pytest.raises(AnswerError) as info:
        parse_window(text)
    assert info.value.code == code


def test_window_for_today_must_end_ahead() -> None:
    now = dt.datetime(2026, 11, 27, 18, 30)
    with pytest.raises(AnswerError) as info:
        check_window_for_date(Window(dt.time(9), dt.time(18)), TODAY, now)
    assert info.value.code == "window_passed"
    assert info.value.params == {"now": "18:30"}
    check_window_for_date(Window(dt.time(9), dt.time(19)), TODAY, now)
    check_window_for_date(Window(dt.time(9), dt.time(18)), TODAY + dt.timedelta(days=1), now)


def test_attempts_and_interval() -> None:
    assert parse_attempts(" 3 ") == 3
    for bad, code in (("0", "attempts_range"), ("6", "attempts_range"), ("три", "attempts_format")):
        with pytest.raises(AnswerError) as info:
            parse_attempts(bad)
        assert info.value.code == code
    assert parse_interval("15") == 15
    assert parse_interval("15 мин") == 15
    assert parse_interval("2 ч") == 120
    with pytest.raises(AnswerError):
        parse_interval("0")
    with pytest.raises(AnswerError):
        parse_interval("полчаса")
    assert attempts_fit(Window(dt.time(9), dt.time(10)), 3, 20)
    assert not attempts_fit(Window(dt.time(9), dt.time(10)), 4, 20)


def test_name_and_description() -> None:
    assert parse_name("  Долги   ноябрь ") == "Долги ноябрь"
    with pytest.raises(AnswerError):
        parse_name("   ")
    with pytest.raises(AnswerError) as info:
        parse_name("я" * 101)
    assert info.value.params == {"limit": 100, "length": 101}
    assert parse_name("я" * 100) == "я" * 100
    assert parse_description(" x ") == "x"
