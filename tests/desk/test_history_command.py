"""/history through the real dispatcher: the chat's last 10, the user's own in private,
paged with buttons, and the same after a restart (SQLite file or Redis)."""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.dialog.desk_buttons import HistoryPage
from bot.history import HistoryRecord, new_record_id
from tests.dialog.conftest import ANNA, BORIS, BotUnderTest
from tests.fakes.telegram_api import Chat


def record(i: int, *, chat: int, author: int = ANNA.id, name: str = "Анна") -> HistoryRecord:
    return HistoryRecord(
        id=new_record_id(), outcome="created" if i % 7 else "unknown",
        campaign_id=500 + i if i % 7 else None, name=f"Обзвон {i}", author_id=author,
        author_name=name, chat_id=chat, at=time.time() - 1000 + i, date="2026-11-28",
        start="09:00", end="18:00", attempts=2, interval=10, count=10 + i, scenario="1",
        caller="1",
    )


async def test_history_of_a_group_paged_and_kept_across_a_restart(
    make_bot_under_test: Callable[..., BotUnderTest],
) -> None:
    app = make_bot_under_test()
    group = app.fake.add_chat(Chat.group())
    for i in range(1, 13):
        assert app.deps.history is not None
        assert await app.deps.history.add(record(i, chat=group.id))
    await app.deps.history.add(record(3, chat=-1009, author=BORIS.id, name="Борис"))
    await app.close()

    again = make_bot_under_test()  # a restarted bot: same file / same Redis
    assert await again.say(group, ANNA, "/history", reply=False)
    text = again.last_text(group)
    assert "1–10 из 12" in text
    assert "№ 512 «Обзвон 12»" in text and "Обзвон 2»" not in text
    assert "⚠️ «Обзвон 7», результат неизвестен" in text
    assert "номеров: 22" in text and "Анна" in text
    listing = again.fake.last_message(group.id)
    assert listing is not None
    assert [b["text"] for b in listing.buttons][:10] == [f"🔁 {n}" for n in range(1, 11)]
    assert await again.press(group, ANNA, "Раньше ›")
    turned = again.fake.message(group.id, listing.message_id)  # edited in place
    assert "11–12 из 12" in (turned.text or "") and "Обзвон 1»" in (turned.text or "")
    assert len(again.fake.messages(group.id)) == 1  # one bot message: /history's answer
    assert any(b["text"] == "‹ Новее" for b in turned.buttons)


async def test_in_private_the_users_own_and_a_foreign_groups_history_refused(
    make_bot_under_test: Callable[..., BotUnderTest],
) -> None:
    app = make_bot_under_test()
    private = app.fake.add_chat(Chat.private(BORIS))
    assert app.deps.history is not None
    await app.deps.history.add(record(1, chat=-1001, author=ANNA.id))
    await app.deps.history.add(record(2, chat=-1002, author=BORIS.id, name="Борис"))
    assert await app.say(private, BORIS, "/history")
    text = app.last_text(private)
    assert "Ваши обзвоны" in text and "Обзвон 2" in text and "Обзвон 1»" not in text
    # A forged page of a group Boris is not in.
    forged = HistoryPage(chat=-1001, page=0).pack()
    listing = app.fake.last_message(private.id)
    assert listing is not None
    await app.deliver(app.fake.press_button(private, BORIS, listing.message_id, forged))
    assert "Обзвон 1»" not in app.last_text(private)


async def test_no_history_yet(make_bot_under_test: Callable[..., BotUnderTest]) -> None:
    app = make_bot_under_test()
    private = app.fake.add_chat(Chat.private(ANNA))
    assert await app.say(private, ANNA, "/history")
    assert "пока не запускали" in app.last_text(private)
