"""Logging setup with a filter that keeps secrets and phone numbers out of every line."""

from __future__ import annotations

import logging
import re
import threading
from urllib.parse import unquote, urlsplit

# Bot API URLs carry the token in the path: /bot123456:ABC.../sendMessage
_TOKEN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}")
# Bearer tokens and similar header values.
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s'\"]+")
# Phone numbers, however written: +7 916 123-45-67, 8 (916) 123 45 67, +7/916/1234567,
# +7–916–123–45–67 (any dash), glued to a word (tel79161234567). The rule that tells them
# from Telegram ids (docs/runtime.md, "Logs"): a run of 10-15 digits is a phone, except
#  - after a minus (chat ids: -1001234567890), and
#  - the bare value of an id field (id=, chat=, user=, owner=, update=, message=) unless it
#    starts with + or is 11 digits starting with 7 or 8 (a Russian number; user ids are 10
#    digits at most today). Longer runs (callback query ids) are not phones.
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d-"
_SEP = rf"[\s()./{_DASHES}]"
_PHONE = re.compile(
    r"(?P<field>(?<![A-Za-z_])(?:id|chat|user|owner|update|message)=)?"
    rf"(?P<neg>(?<![\w{_DASHES}])[{_DASHES}])?"
    rf"(?<!\d)(?P<num>\+?\d(?:{_SEP}{{0,3}}\d){{9,}})(?!\d)"
)
# Not phones although digits and separators: dates (2026-12-01 09) and IPv4 addresses.
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")

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


def register_url_password(url: str) -> None:
    """The password in a URL such as REDIS_URL (redis://user:password@host), as written
    and percent-decoded."""
    try:
        password = urlsplit(url).password
    except ValueError:
        return
    if password:
        register_secret(password)
        register_secret(unquote(password))


def redact(text: str) -> str:
    pattern = _secret_re
    if pattern is not None:
        text = pattern.sub("<secret>", text)
    text = _TOKEN.sub("<token>", text)
    text = _BEARER.sub(r"\1<secret>", text)
    return _PHONE.sub(_mask, text)


def _mask(match: re.Match[str]) -> str:
    number = match["num"]
    digits = re.sub(r"\D", "", number)
    if not 10 <= len(digits) <= 15 or match["neg"]:
        return match[0]
    if _DATE.search(number) or _IPV4.fullmatch(number):
        return match[0]
    if match["field"] and number.isdigit() and not (len(digits) == 11 and digits[0] in "78"):
        return match[0]  # a Telegram id
    return f"{match['field'] or ''}{number[:3]}***{digits[-2:]}"


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
