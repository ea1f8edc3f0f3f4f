"""Logs: a line per update and per API call, an audit line per campaign, no secrets and
no full phone numbers. The command menu in Russian and English."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator

import pytest

from bot.app import set_commands
from bot.i18n import create_i18n
from bot.logs import RedactingFilter, redact, register_secret, setup_logging
from tests.dialog.conftest import BotUnderTest
from tests.dialog.flows import CREATE, contacts_xlsx, fill_until_phones
from tests.fakes.telegram_api import Chat
from tests.runtime.conftest import ANNA, FULL_PHONES, TOKEN, assert_clean_log

REAL_LOOKING_TOKEN = "7123456789:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0"


@pytest.fixture
def storage_kind() -> str:
    return "memory"  # nothing here needs Redis


@pytest.fixture
def root_logging() -> Iterator[io.StringIO]:
    """setup_logging for real on the root logger, writing into a buffer; undone after."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    saved_levels = {
        name: logging.getLogger(name).level
        for name in ("httpx", "httpcore", "aiohttp.access", "aiogram.event")
    }
    buffer = io.StringIO()
    try:
        setup_logging("INFO")
        [handler] = root.handlers
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(buffer)
        yield buffer
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        for name, level in saved_levels.items():
            logging.getLogger(name).setLevel(level)


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        (f"POST https://api.telegram.org/bot{REAL_LOOKING_TOKEN}/sendMessage", "AAHfiqks"),
        ("Authorization: Bearer abc.def-ghi", "abc.def-ghi"),
        ("phone +79161234567 rejected", "9161234567"),
        ("row 3: 8 (916) 123-45-67", "123-45-67"),
        ("numbers 89161234567, +7 916 123 45 68", "916123456"),
    ],
)
def test_redact_hides_tokens_and_phone_numbers(text: str, hidden: str) -> None:
    cleaned = redact(text)
    assert hidden not in cleaned.replace(" ", "").replace("-", "").replace("(", "")
    assert hidden not in cleaned


def test_redact_keeps_telegram_ids_and_short_numbers() -> None:
    line = "update id=123456789012 chat=-1001234567890 user=7123456789 duration_ms=1234.5"
    assert redact(line) == line
    assert redact("phones=100000 rows=2") == "phones=100000 rows=2"
    assert redact("+79161234567") == "+79***67"


def test_a_registered_secret_is_redacted_whatever_its_shape() -> None:
    register_secret(TOKEN)  # the fake's "123456:TEST" is too short for the token pattern
    assert TOKEN not in redact(f"url=http://127.0.0.1/bot{TOKEN}/getMe")
    register_secret("")  # ignored
    assert redact("nothing secret") == "nothing secret"


def test_setup_logging_redacts_every_logger_and_tracebacks(root_logging: io.StringIO) -> None:
    register_secret(TOKEN)
    logging.getLogger("aiogram.dispatcher").info("bot %s user +79161234567", TOKEN)
    try:
        raise RuntimeError(f"bad phone 8 916 123-45-67 at /bot{TOKEN}/x")
    except RuntimeError:
        logging.getLogger("some.library").exception("failed for 89161234567")
    logging.getLogger("aiogram.event").info("Update id=1 is handled")  # quietened
    output = root_logging.getvalue()
    assert_clean_log(output)
    assert "123-45-67" not in output
    assert "RuntimeError" in output and "+79***67" in output
    assert "is handled" not in output
    assert any(isinstance(f, RedactingFilter) for f in logging.getLogger().handlers[0].filters)


async def test_a_whole_dialog_logs_each_update_each_call_and_the_campaign(
    make_bot_under_test: Callable[..., BotUnderTest],
    root_logging: io.StringIO,
) -> None:
    app = make_bot_under_test()
    chat = app.fake.add_chat(Chat.private(ANNA))
    await fill_until_phones(app, chat, ANNA)
    assert await app.upload(chat, ANNA, contacts_xlsx(), "Клиенты.xlsx")
    assert await app.press(chat, ANNA, CREATE)
    await app.settle()
    [campaign_id] = app.api.created

    lines = root_logging.getvalue().splitlines()
    updates = [line for line in lines if "bot.updates: update id=" in line]
    assert len(updates) == len(app.fake.updates)
    for update, line in zip(app.fake.updates, updates, strict=True):
        assert f"update id={update['update_id']} " in line
        assert f"chat={chat.id} user={ANNA.id} state=" in line and "duration_ms=" in line
    api_calls = [line for line in lines if "bot.api: api method=" in line]
    assert len(api_calls) == len(app.fake.requests)
    # Calls made while handling an update name it (the submission's too: it inherits it).
    assert all("update=-" not in c for c in api_calls if "method=getMe" not in c)
    audit = [line for line in lines if "bot.audit: campaign created" in line]
    assert len(audit) == 1
    assert (
        f"campaign created id={campaign_id} user={ANNA.id} chat={chat.id} phones=2 "
        "name='Долги ноябрь'" in audit[0]
    )
    assert_clean_log("\n".join(lines))


async def test_the_raw_log_messages_hold_no_full_phone_number(
    make_bot_under_test: Callable[..., BotUnderTest], caplog: pytest.LogCaptureFixture
) -> None:
    """Not even before the filter: the bot's own messages are written without numbers."""
    caplog.set_level(logging.DEBUG, logger="bot")
    app = make_bot_under_test()
    chat = app.fake.add_chat(Chat.private(ANNA))
    await fill_until_phones(app, chat, ANNA)
    assert await app.say(chat, ANNA, "+79161234567, 8 916 123-45-68")
    assert await app.press(chat, ANNA, CREATE)
    await app.settle()
    text = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("bot"))
    assert "campaign created id=" in text
    for phone in FULL_PHONES:
        assert phone not in text


async def test_the_command_menu_is_set_in_russian_and_english(
    make_bot_under_test: Callable[..., BotUnderTest],
) -> None:
    app = make_bot_under_test()
    await set_commands(app.bot, create_i18n("ru"))
    ru = {c["command"]: c["description"] for c in app.fake.commands_for(language_code="")}
    en = {c["command"]: c["description"] for c in app.fake.commands_for(language_code="en")}
    assert set(ru) == set(en) == {"new", "cancel", "history", "help", "language"}
    assert ru["new"] == "Новый обзвон"
    assert en["new"] == "New campaign"
    assert all(ru[c] != en[c] for c in ru)
