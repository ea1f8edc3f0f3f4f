"""Through the real Dispatcher and the real worker pool: a file on which a worker dies is
refused in Russian with the same question again, and the next file is read."""

from __future__ import annotations

import pytest

import bot.phones.executor as ex
from bot.deps import _ingest_off_loop
from bot.phones import shutdown_executor
from tests.dialog.conftest import ANNA, BotUnderTest
from tests.dialog.flows import CREATE, SKIP, TOMORROW, contacts_xlsx
from tests.fakes.telegram_api import Chat
from tests.phones.worker_jobs import crash_or_ingest


@pytest.fixture
def real_pool(monkeypatch: pytest.MonkeyPatch):
    shutdown_executor()
    monkeypatch.setattr(ex, "_pool_broken", False)
    monkeypatch.setattr(ex, "_job", crash_or_ingest)
    yield
    shutdown_executor()


@pytest.mark.parametrize("storage_kind", ["memory"], indirect=True)
async def test_a_file_that_kills_a_worker_is_refused_and_asked_again(
    make_bot_under_test, real_pool: None
) -> None:
    app: BotUnderTest = make_bot_under_test()
    app.deps.ingest = _ingest_off_loop  # the bot's own: worker processes
    chat = app.fake.add_chat(Chat.private(ANNA))
    assert await app.say(chat, ANNA, "/new")
    assert await app.say(chat, ANNA, "Тест")
    assert await app.press(chat, ANNA, SKIP)
    assert await app.press(chat, ANNA, TOMORROW)
    assert await app.say(chat, ANNA, "9-18")
    assert await app.say(chat, ANNA, "1")
    assert await app.upload(chat, ANNA, b"ABORT" + bytes(100), "list.xlsx")
    texts = "\n".join(m.text or "" for m in app.fake.messages(chat.id))
    assert "Файл не удалось прочитать" in texts
    assert "Пришлите список" in app.last_text(chat)
    assert await app.upload(chat, ANNA, contacts_xlsx(), "list.xlsx")
    assert any(CREATE in b.get("text", "") for m in app.fake.messages(chat.id)
               for b in m.buttons)
