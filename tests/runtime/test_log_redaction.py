"""The log filter's rule for phone numbers against Telegram ids (docs/runtime.md, "Logs"),
both sides, and the Redis URL's password as a secret."""

from __future__ import annotations

import io
import logging

import pytest

from bot.logs import RedactingFilter, redact, register_url_password

DASHES = ["-", "\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2015", "\u2212", "\uff0d"]


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


@pytest.mark.parametrize("dash", DASHES)
def test_a_phone_with_any_kind_of_dash_is_hidden(dash: str) -> None:
    text = f"row 3: +7{dash}916{dash}123{dash}45{dash}67 rejected"
    cleaned = redact(text)
    assert "9161234567" not in _digits(cleaned)
    assert cleaned.endswith("***67 rejected")


@pytest.mark.parametrize(
    "phone",
    [
        "+7/916/1234567",
        "+7 (916) 123 45 67",
        "8 (916) 123-45-67",
        "8.916.123.45.67",
        "+7\u00a0916\u00a0123\u00a045\u00a067",  # no-break spaces
        "+7 - 916 - 123 - 45 - 67",
        "+49 30 1234 5678",
    ],
)
def test_a_phone_in_any_spelling_is_hidden(phone: str) -> None:
    cleaned = redact(f"value {phone} rejected")
    assert _digits(phone)[-8:] not in _digits(cleaned)


@pytest.mark.parametrize(
    "text",
    [
        "user=79161234567",
        "chat=89161234567",
        "id=+79161234567",
        "tel79161234567",
        "тел.89161234567,",
        "phone:+79161234567;",
        "x+79161234567y",
    ],
)
def test_a_phone_glued_to_a_word_or_in_an_id_field_is_hidden(text: str) -> None:
    assert "9161234567" not in _digits(redact(text))


@pytest.mark.parametrize(
    "text",
    [
        "chat=-1001234567890",  # a supergroup
        "update id=9 chat=-1001234567890 user=7123456789 outcome=ok",  # a 10-digit user id
        "user=8123456789 owner=5123456789",
        "update id=123456789012",  # ids that are not 11 digits starting with 7/8
        "message=12345678901",
        "group -1001234567890 added the bot",  # negative: a chat id anywhere
        "callback query 4000000000000000001 too old",  # longer than any phone
        "duration_ms=1234.5 phones=100000 rows=2",
        "date 2026-12-01 09:00",
        "from 192.168.100.200",
    ],
)
def test_telegram_ids_and_other_numbers_stay_readable(text: str) -> None:
    assert redact(text) == text


def test_the_redis_url_password_is_a_secret() -> None:
    register_url_password("rediss://campaign-bot:S3cr%2Fet-pass@redis.example.org:6380/0")
    line = "cannot connect to rediss://campaign-bot:S3cr%2Fet-pass@redis.example.org:6380/0"
    assert "S3cr" not in redact(line)
    assert "S3cr" not in redact("password S3cr/et-pass")  # as decoded, too
    register_url_password("redis://127.0.0.1:6379/0")  # none: nothing registered, no error
    assert redact("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


def test_the_filter_applies_the_rule_to_formatted_records() -> None:
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("test.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("user=%s chat=%s name=%r", 7123456789, -1001234567890, "+7–916–1234567")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    output = buffer.getvalue()
    assert "user=7123456789 chat=-1001234567890" in output
    assert "1234567'" not in output and "***67" in output
