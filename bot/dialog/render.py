"""Texts the dialog shows: the summary, an ingest report, refusals. All HTML-escaped."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from aiogram import html
from aiogram.utils.i18n import gettext as _
from babel.dates import format_date
from babel.numbers import format_decimal

from bot.campaigns.model import MAX_ATTEMPTS, MIN_ATTEMPTS, mask_phone
from bot.dialog.draft import Draft
from bot.dialog.parsing import AnswerError, Window, attempts_fit
from bot.phones import IngestError, IngestResult
from bot.presets import Presets

TELEGRAM_TEXT_LIMIT = 4096


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def fit_message(text: str, limit: int = TELEGRAM_TEXT_LIMIT) -> str:
    """Cut a whole message to Telegram's limit on a line boundary, never inside a tag."""
    if len(text) <= limit:
        return text
    lines = text.split("\n")
    kept: list[str] = []
    size = 0
    for line in lines:
        if size + len(line) + 1 > limit - 2:
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(kept) + "\n…"


def number(value: int, locale: str) -> str:
    return format_decimal(value, locale=locale)


def join_keys(keys: Iterable[str], limit: int = 600) -> str:
    """`name, time, …`: user-written column names, escaped and cut to a readable length."""
    return html.quote(clip(", ".join(keys), limit))


def format_day(date: dt.date, locale: str) -> str:
    return format_date(date, "EEEE, d MMMM y", locale=locale)


# Short names of the call centre's zone, as supervisors say them.
ZONE_NAMES = {
    "Europe/Kaliningrad": "Калининград",
    "Europe/Moscow": "Мск",
    "Europe/Samara": "Самара",
    "Asia/Yekaterinburg": "Екб",
    "Asia/Omsk": "Омск",
    "Asia/Novosibirsk": "Нск",
    "Asia/Krasnoyarsk": "Красноярск",
    "Asia/Irkutsk": "Иркутск",
    "Asia/Yakutsk": "Якутск",
    "Asia/Vladivostok": "Владивосток",
    "Asia/Magadan": "Магадан",
    "Asia/Kamchatka": "Камчатка",
}


def utc_offset(now: dt.datetime) -> str:
    offset = now.utcoffset() or dt.timedelta()
    hours, rest = divmod(int(offset.total_seconds()), 3600)
    minutes = abs(rest) // 60
    sign = "+" if hours >= 0 else "-"
    return f"UTC{sign}{abs(hours)}" + (f":{minutes:02d}" if minutes else "")


def zone_label(tz_name: str, now: dt.datetime) -> str:
    """«Екб, UTC+5»: the city, never the raw zone name."""
    city = ZONE_NAMES.get(tz_name) or tz_name.rsplit("/", 1)[-1].replace("_", " ")
    return f"{city}, {utc_offset(now)}"


def short_day(date: dt.date, locale: str) -> str:
    return format_date(date, "EEE, d MMMM", locale=locale)


def summary_lines(
    draft: Draft,
    *,
    presets: Presets,
    tz_name: str,
    now: dt.datetime,
    locale: str,
    default_interval: int,
) -> list[str]:
    """The campaign in at most 7 lines: nothing technical, no empty «—» lines."""
    assert draft.name and draft.date and draft.attempts
    date = dt.date.fromisoformat(draft.date)
    lines = [_("Name: {value}").format(value=html.bold(html.quote(draft.name)))]
    if draft.description:
        lines.append(
            _("Description: {value}").format(value=html.quote(clip(draft.description, 200)))
        )
    lines.append(
        _("Start: {day}, {start}–{end} ({zone})").format(
            day=short_day(date, locale),
            start=draft.start,
            end=draft.end,
            zone=zone_label(tz_name, now),
        )
    )
    if draft.attempts == 1:
        lines.append(_("Attempts: 1"))
    else:
        interval = draft.interval or default_interval
        lines.append(
            _("Attempts: {attempts} every {minutes} min").format(
                attempts=draft.attempts, minutes=interval
            )
        )
    phones = _("Numbers: {value}").format(value=number(draft.phones_count or 0, locale))
    if draft.add_data_keys:
        phones += " · " + _("data: {keys}").format(keys=join_keys(draft.add_data_keys, 200))
    lines.append(phones)
    # Titles only when there was a choice: a single preset says nothing to the reader.
    scenario = presets.scenario(draft.scenario)
    if scenario and len(presets.scenarios) > 1:
        lines.append(_("Scenario: {value}").format(value=html.quote(scenario.title)))
    caller = presets.caller(draft.caller)
    if caller and len(presets.callers) > 1:
        lines.append(_("Caller: {value}").format(value=html.quote(caller.title)))
    return lines


def summary_warnings(draft: Draft, *, presets: Presets, default_interval: int) -> list[str]:
    warnings = []
    assert draft.start and draft.end and draft.attempts
    window = Window(dt.time.fromisoformat(draft.start), dt.time.fromisoformat(draft.end))
    attempts = draft.attempts
    interval = draft.interval or default_interval
    if not attempts_fit(window, attempts, interval):
        warnings.append(
            _(
                "⚠️ {attempts} attempts {interval} min apart do not fit in the "
                "{window}-minute window: the last ones may not happen."
            ).format(attempts=attempts, interval=interval, window=window.minutes())
        )
    missing = missing_params(draft.scenario, draft.add_data_keys, presets)
    if missing:
        warnings.append(
            _("⚠️ The file lacks the scenario's parameters: {keys}").format(keys=join_keys(missing))
        )
    return warnings


def missing_params(scenario_key: str | None, keys: Iterable[str], presets: Presets) -> list[str]:
    scenario = presets.scenario(scenario_key)
    if scenario is None or not scenario.params:
        return []
    have = set(keys)
    return [p for p in scenario.params if p not in have]


def column_ordinal(index: int) -> str:
    return _("column {n}").format(n=index + 1)


def ingest_report(
    result: IngestResult, *, locale: str, mask: bool, describe: Callable[[str], str]
) -> str:
    """What became of the rows, in plain words; one short example row."""
    n = lambda value: number(value, locale)  # noqa: E731
    lines = [_("📄 List read")]
    lines.append(
        _("Rows: {rows} · accepted: {accepted}").format(
            rows=n(result.rows_read), accepted=html.bold(n(result.accepted))
        )
    )
    if result.fixed:
        lines.append(_("Brought to +7: {value}").format(value=n(result.fixed)))
        if result.multi_fixed:
            lines.append(
                "  • " + _("first of several numbers in a cell: {value}").format(
                    value=n(result.multi_fixed)
                )
            )
        if result.words_fixed:
            lines.append(
                "  • " + _("words around the number dropped: {value}").format(
                    value=n(result.words_fixed)
                )
            )
    if result.duplicates:
        lines.append(_("Repeats removed: {value}").format(value=n(result.duplicates)))
    if result.rejected_total:
        lines.append(_("Rejected: {value}").format(value=n(result.rejected_total)))
        for code, count in sorted(result.rejected.items(), key=lambda item: -item[1]):
            lines.append(f"  • {html.quote(describe(code))}: {n(count)}")
    if result.countries:
        total = sum(result.countries.values())
        codes = ", ".join(result.countries)
        lines.append(
            _("Foreign (will be called): {count} — {codes}").format(
                count=n(total), codes=html.quote(clip(codes, 100))
            )
        )
    if result.sheet:
        lines.append(_("Sheet: «{name}»").format(name=html.quote(clip(result.sheet, 100))))
    if len(result.phone_columns) > 1:
        lines.append(_("Phone columns, the first with a valid number is taken:"))
        for name, count in result.phone_columns:
            lines.append(f"  • «{html.quote(clip(name, 100))}»: {n(count)}")
    elif result.phone_column:
        lines.append(
            _("Numbers from the column «{value}»").format(
                value=html.quote(clip(result.phone_column, 100))
            )
        )
    elif not result.has_header and result.phone_column_index is not None:
        if result.source_kind != "text":
            lines.append(
                _("Numbers from {column}; columns without a header did not go to the scenario")
                .format(column=column_ordinal(result.phone_column_index))
            )
    if result.phones.keys:
        lines.append(
            _("Data for the scenario: {value}").format(value=join_keys(result.phones.keys))
        )
    samples = result.phones.sample(1)
    if samples:
        phone, add_data = samples[0]
        shown = mask_phone(phone) if mask else phone
        fields = [html.code(shown)] + [
            html.quote(clip(str(v), 40)) for v in list(add_data.values())[:2]
        ]
        lines.append(_("Example: {row}").format(row=" · ".join(fields)))
    return fit_message("\n".join(lines))


def reject_reason_text(code: str) -> str:
    texts = {
        "empty": _("no number"),
        "too_short": _("too short"),
        "too_long": _("too long"),
        "letters": _("letters in the number"),
        "invalid": _("no such number"),
        "several_numbers": _("several numbers in one cell"),
        "excel_rounded": _("Excel rounded the number"),
        "bad_format": _("not a phone number"),
        "cell_too_long": _("cell too long"),
        "left_out": _("another number in the same cell, not used"),
    }
    return texts.get(code, _("not a phone number"))


def ingest_error_text(error: IngestError) -> str:
    p = error.params
    texts = {
        "too_large": _("The file is too big: the limit is {limit} MB."),
        "unsupported_type": _(
            "This is not a table or a contact list. Accepted: "
            ".xlsx, .xls, .ods, .csv, .txt, .html, .vcf."
        ),
        "unreadable": _("The file is damaged and cannot be read. Save it again and resend."),
        "read_failed": _("The file could not be read. Save it as CSV and send it again."),
        "too_many_cells": _("The file holds too much data. Save it as CSV or split it up."),
        "empty": _("The file is empty."),
        "header_only": _("The file has a header but no rows."),
        "no_phone_column": _("No phone column found. Name it «Телефон» or «phone» and resend."),
        "too_many_rows": _("Too many rows: the limit is {limit}."),
        "too_many_columns": _("Too many columns: the limit is {limit}."),
        "cell_too_long": _("Row {row}: a cell is longer than {limit} characters."),
        "zip_bomb": _("The file unpacks to an unreasonable size and was refused."),
        "encrypted": _("The workbook is password-protected. Remove the password and resend."),
    }
    text = texts.get(error.code, _("The file cannot be read."))
    params = dict(p)
    if error.code == "too_large" and "limit" in params:
        params["limit"] = round(int(params["limit"]) / 1024 / 1024, 1)
    try:
        return text.format(**params)
    except (KeyError, IndexError):
        return text.replace("{", "(").replace("}", ")")


def answer_error_text(error: AnswerError) -> str:
    texts = {
        "name_empty": _("The name is empty. Type a name."),
        "name_too_long": _("The name is too long: {length} characters, at most {limit}."),
        "description_too_long": _(
            "The description is too long: {length} characters, at most {limit}."
        ),
        "date_format": _("I don't understand this date. Type 28.11, 28.11.2026 or 2026-11-28."),
        "date_impossible": _("There is no such date."),
        "date_past": _("This date has passed. Pick today or later."),
        "date_too_far": _("That is too far ahead: at most {days} days."),
        "window_format": _("I don't understand this time. Type 9-18 or 09:00-17:00."),
        "window_impossible": _("There is no such time of day."),
        "window_order": _("The end must be after the start."),
        "window_passed": _("For today the end must still be ahead: it is {now} now."),
        "attempts_format": _("Type a number from {low} to {high}."),
        "attempts_range": _("Attempts must be from {low} to {high}."),
        "interval_format": _("Type the minutes as a number, e.g. 15."),
        "interval_range": _("The interval must be from 1 to {limit} minutes."),
        "choice_unknown": _("Pick one of the buttons or type its number."),
    }
    params = {"low": MIN_ATTEMPTS, "high": MAX_ATTEMPTS, **error.params}
    return texts.get(error.code, _("I don't understand. Try again.")).format(**params)
