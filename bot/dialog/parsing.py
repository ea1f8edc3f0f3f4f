"""Typed answers to the dialog's questions, parsed into values or a refusal reason.

Pure functions: `today`/`now` come from the caller, judged in the bot's time zone.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from bot.campaigns.model import MAX_ATTEMPTS, MIN_ATTEMPTS

NAME_MAX = 100
DESCRIPTION_MAX = 1000
INTERVAL_MAX = 1440
MAX_DAYS_AHEAD = 366


class AnswerError(ValueError):
    """A typed answer that cannot be used; `code` picks the message shown."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def parse_name(text: str) -> str:
    name = " ".join(text.split())
    if not name:
        raise AnswerError("name_empty")
    if len(name) > NAME_MAX:
        raise AnswerError("name_too_long", limit=NAME_MAX, length=len(name))
    return name


def parse_description(text: str) -> str:
    description = text.strip()
    if len(description) > DESCRIPTION_MAX:
        raise AnswerError("description_too_long", limit=DESCRIPTION_MAX, length=len(description))
    return description


_TODAY_WORDS = {"сегодня", "today"}
_TOMORROW_WORDS = {"завтра", "tomorrow"}
_DATE_DMY = re.compile(r"(\d{1,2})[./-](\d{1,2})(?:[./-](\d{2}|\d{4}))?")
_DATE_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")


def parse_date(text: str, today: dt.date) -> dt.date:
    value = text.strip().lower().rstrip(".")
    if value in _TODAY_WORDS:
        return today
    if value in _TOMORROW_WORDS:
        return today + dt.timedelta(days=1)
    if match := _DATE_ISO.fullmatch(value):
        year, month, day = (int(g) for g in match.groups())
        explicit_year = True
    elif match := _DATE_DMY.fullmatch(value):
        day, month = int(match[1]), int(match[2])
        explicit_year = match[3] is not None
        year = int(match[3]) if explicit_year else today.year
        if explicit_year and year < 100:
            year += 2000
    else:
        raise AnswerError("date_format")
    try:
        date = dt.date(year, month, day)
    except ValueError:
        raise AnswerError("date_impossible") from None
    if not explicit_year and date < today:
        # "05.01" typed in December means next January.
        try:
            date = date.replace(year=date.year + 1)
        except ValueError:  # 29.02 typed in a year before a non-leap one
            raise AnswerError("date_impossible") from None
    return check_date(date, today)


def check_date(date: dt.date, today: dt.date) -> dt.date:
    if date < today:
        raise AnswerError("date_past")
    if (date - today).days > MAX_DAYS_AHEAD:
        raise AnswerError("date_too_far", days=MAX_DAYS_AHEAD)
    return date


@dataclass(frozen=True)
class Window:
    start: dt.time
    end: dt.time

    def minutes(self) -> int:
        return (self.end.hour * 60 + self.end.minute) - (self.start.hour * 60 + self.start.minute)

    def label(self) -> str:
        return f"{self.start:%H:%M}–{self.end:%H:%M}"


_TIME = r"(\d{1,2})(?:[:.](\d{2}))?"
_WINDOW = re.compile(
    rf"(?:с|from)?\s*{_TIME}\s*(?:-|–|—|до|to|по)\s*{_TIME}",
)


def parse_window(text: str) -> Window:
    value = " ".join(text.strip().lower().split())
    match = _WINDOW.fullmatch(value)
    if not match:
        raise AnswerError("window_format")
    sh, sm, eh, em = (int(g) if g is not None else 0 for g in match.groups())
    if eh == 24 and em == 0:
        eh, em = 23, 59  # "до 24" means until the end of the day
    if not (0 <= sh <= 23 and 0 <= eh <= 23 and 0 <= sm <= 59 and 0 <= em <= 59):
        raise AnswerError("window_impossible")
    return make_window(dt.time(sh, sm), dt.time(eh, em))


def make_window(start: dt.time, end: dt.time) -> Window:
    if end <= start:
        raise AnswerError("window_order")
    return Window(start, end)


def check_window_for_date(window: Window, date: dt.date, now: dt.datetime) -> None:
    """For today the calls must still have time to happen."""
    if date == now.date() and window.end <= now.time().replace(second=0, microsecond=0):
        raise AnswerError("window_passed", now=f"{now:%H:%M}")


def parse_attempts(text: str) -> int:
    value = text.strip()
    if not re.fullmatch(r"\d{1,2}", value):
        raise AnswerError("attempts_format")
    attempts = int(value)
    if not MIN_ATTEMPTS <= attempts <= MAX_ATTEMPTS:
        raise AnswerError("attempts_range")
    return attempts


_INTERVAL = re.compile(
    r"(\d{1,4})\s*(м|мин|минут|минуты|минута|min|mins|minutes|m|ч|час|часа|часов|h|hours?)?\.?"
)


def parse_interval(text: str) -> int:
    value = " ".join(text.strip().lower().split())
    match = _INTERVAL.fullmatch(value)
    if not match:
        raise AnswerError("interval_format")
    minutes = int(match[1])
    if match[2] and match[2][0] in "чh":
        minutes *= 60
    if not 1 <= minutes <= INTERVAL_MAX:
        raise AnswerError("interval_range", limit=INTERVAL_MAX)
    return minutes


def attempts_fit(window: Window, attempts: int, interval: int) -> bool:
    return (attempts - 1) * interval < window.minutes()
