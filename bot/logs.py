"""Logging setup with a filter that keeps secrets and phone numbers out of every line."""

from __future__ import annotations

import logging
import re
import threading

# Bot API URLs carry the token in the path: /bot123456:ABC.../sendMessage
_TOKEN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}")
# Bearer tokens and similar header values.
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s'\"]+")
# Anything that looks like a phone number: +7 916 123-45-67, 89161234567, …
# Not the values of our own id fields (user=7123456789, chat=-1001234567890, id=…):
# Telegram ids are as long as phone numbers, and a log that hides them is no use.
_ID_FIELD = r"(?<!id=)(?<!id=-)(?<!chat=)(?<!chat=-)(?<!user=)(?<!owner=)"
_PHONE = re.compile(_ID_FIELD + r"(?<![\w])\+?\d[\d\s().-]{8,}\d(?![\w])")

# Exact secrets of this process (BOT_TOKEN, API tokens): redacted whatever their shape.
_secrets: set[str] = set()
_secrets_lock = threading.Lock()
_secret_re: re.Pattern[str] | None = None


def register_secret(value: str | None) -> None:
    """Never let `value` into a log line (values shorter than 4 characters are ignored)."""
    global _secret_re
    if not value or len(value) < 4:
        return
    with _secrets_lock:
        _secrets.add(value)
        alternatives = sorted(_secrets, key=len, reverse=True)
        _secret_re = re.compile("|".join(re.escape(s) for s in alternatives))


def redact(text: str) -> str:
    pattern = _secret_re
    if pattern is not None:
        text = pattern.sub("<secret>", text)
    text = _TOKEN.sub("<token>", text)
    text = _BEARER.sub(r"\1<secret>", text)
    return _PHONE.sub(_mask, text)


def _mask(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match[0])
    if len(digits) < 10:
        return match[0]
    return f"{match[0][:3]}***{digits[-2:]}"


class RedactingFilter(logging.Filter):
    """On a handler: every record it writes, from any logger, is redacted first."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: let logging report it as usual
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def setup_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiohttp/httpx access lines carry URLs with the bot token: keep them at WARNING.
    # aiogram.event repeats our one line per update ("Update id=... is handled").
    for noisy in ("httpx", "httpcore", "aiohttp.access", "aiogram.event"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
