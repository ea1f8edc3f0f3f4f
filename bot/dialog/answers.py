"""Each step's answer: a typed text or a button's value, checked and put in the draft.

An applier raises AnswerError (a refusal shown above the same question) or ValueError
(button data none of our buttons carries: forged). The table (bot/dialog/steps.py)
names the applier of each step; the list step has its own handlers (files).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.dialog.draft import Draft
from bot.dialog.parsing import (
    AnswerError,
    check_date,
    check_window_for_date,
    make_window,
    parse_attempts,
    parse_date,
    parse_description,
    parse_interval,
    parse_name,
    parse_window,
)
from bot.presets import Presets

SKIP_WORDS = {"-", "—", "пропустить", "skip", "нет", "no", "без описания"}


@dataclass(frozen=True)
class AnswerContext:
    presets: Presets
    now: dt.datetime
    from_button: bool


def _pick(options: list[tuple[str, str]], raw: str) -> str:
    """A choice by button key, by its number in the list, or by its title."""
    value = raw.strip().lower().rstrip(".")
    for index, (key, title) in enumerate(options, 1):
        if value in (key.lower(), str(index), title.lower()):
            return key
    raise AnswerError("choice_unknown")


def apply_scenario(draft: Draft, raw: str, ctx: AnswerContext) -> None:
    draft.scenario = _pick([(s.key, s.title) for s in ctx.presets.scenarios], raw)


def apply_caller(draft: Draft, raw: str, ctx: AnswerContext) -> None:
    draft.caller = _pick([(c.key, c.title) for c in ctx.presets.callers], raw)


def apply_name(draft: Draft, raw: str, ctx: AnswerContext) -> None:
    draft.name = parse_name(raw)


def apply_description(draft: Draft, raw: str, ctx: AnswerContext) -> None:
    draft.description = "" if raw.strip().lower() in SKIP_WORDS else parse_description(raw)


def apply_date(draft: Draft, raw: str, ctx: AnswerContext) -> None:
    today = ctx.now.date()
    if ctx.from_button:
        date = check_date(dt.date.fromisoformat(raw), today)
    else:
        date = parse_date(raw, today)
    draft.date = date.isoformat()
    if draft.start and draft.end:
        window = make_window(dt.time.fromisoformat(draft.start), dt.time.fromisoformat(draft.end))
        try:
            check_window_for_date(window, date, ctx.now)
        except AnswerError:
            # The window no longer fits the new date: it is asked again.
            draft.start = draft.end = None


def apply_window(draft: Draft, raw: str, ctx: AnswerContext) -> None:
    if ctx.from_button:
        start, end = raw.split("-")
        window = make_window(
            dt.time(int(start[:2]), int(start[2:])), dt.time(int(end[:2]), int(end[2:]))
        )
    else:
        window = parse_window(raw)
    if draft.date:
        check_window_for_date(window, dt.date.fromisoformat(draft.date), ctx.now)
    draft.start = f"{window.start:%H:%M}"
    draft.end = f"{window.end:%H:%M}"


def apply_attempts(draft: Draft, raw: str, ctx: AnswerContext) -> None:
    draft.attempts = parse_attempts(raw)


def apply_interval(draft: Draft, raw: str, ctx: AnswerContext) -> None:
    draft.interval = parse_interval(raw)
