"""The result card: every state's text in Russian, its buttons, Telegram's limits."""

from __future__ import annotations

import dataclasses

import pytest

from bot.dialog.card import CardState, CardView, render_card
from bot.dialog.desk_buttons import HistoryPage, Repeat, Vote
from bot.i18n import create_i18n

BASE = CardView(
    state=CardState.CREATED, name="Опрос <удовлетворённости>", count=1234, date="2026-12-02",
    start="09:00", end="18:00", attempts=3, interval=10, author_id=1001, author_name="Алиса",
    campaign_id=12345, record_id="AbCdEfGhIjKl", chat_id=-1001234567890, dialog="a1b2c3",
)


def render(view: CardView) -> tuple[str, list[list[dict]]]:
    i18n = create_i18n()
    with i18n.context(), i18n.use_locale("ru"):
        text, rows = render_card(view, locale="ru", tz="Екб", default_interval=5)
    return text, [[b.model_dump(exclude_none=True) for b in row] for row in rows]


def test_created_card_reads_as_in_the_screens_spec() -> None:
    text, rows = render(BASE)
    lines = text.split("\n")
    assert lines[0] == "✅ Обзвон № <b>12345</b> создан"
    assert lines[1] == "«<b>Опрос &lt;удовлетворённости&gt;</b>» · номеров: 1\xa0234"
    assert lines[2] == "Старт: ср, 2 дек., 09:00–18:00 (Екб)"
    assert lines[3] == "Попытки: 3 через 10 мин"
    assert lines[4] == 'Автор: <a href="tg://user?id=1001">Алиса</a>'
    assert [b["text"] for b in rows[0]] == ["🔁 Повторить", "📜 История"]
    assert Repeat.unpack(rows[0][0]["callback_data"]).rec == "AbCdEfGhIjKl"
    page = HistoryPage.unpack(rows[0][1]["callback_data"])
    assert (page.chat, page.page) == (-1001234567890, 0)


@pytest.mark.parametrize("state, heading, buttons", [
    (CardState.AWAITING, "🕓 Ждёт согласования", ["✅ Одобрить", "✖️ Отклонить"]),
    (CardState.CREATING, "⏳ Создаю обзвон…", []),
    (CardState.FAILED, "❌ Обзвон не создан", ["📜 История"]),
    (CardState.UNKNOWN, "⚠️ Сервис не ответил вовремя", ["🔁 Повторить", "📜 История"]),
    (CardState.DECLINED, "✖️ Отклонено", ["📜 История"]),
    (CardState.EXPIRED, "⌛ Срок согласования истёк", ["📜 История"]),
])
def test_every_state(state: CardState, heading: str, buttons: list[str]) -> None:
    view = dataclasses.replace(BASE, state=state, reason="Номер 5 не подключён",
                               approver_id=1002, approver_name="Борис")
    text, rows = render(view)
    assert text.startswith(heading)
    assert [b["text"] for row in rows for b in row] == buttons
    assert "Алиса" in text
    if state == CardState.DECLINED:
        assert 'Отклонено: <a href="tg://user?id=1002">Борис</a>' in text
    elif state != CardState.AWAITING:
        assert 'Одобрено: <a href="tg://user?id=1002">Борис</a>' in text
    assert ("Ответ сервиса: «Номер 5 не подключён»" in text) == (state == CardState.FAILED)
    if state == CardState.AWAITING:
        vote = Vote.unpack(rows[0][0]["callback_data"])
        assert (vote.owner, vote.dialog, vote.vote) == (1001, "a1b2c3", "y")
        assert "кроме автора" in text or "не автор" in text


def test_limits_hold_for_the_longest_values() -> None:
    view = dataclasses.replace(
        BASE, name="Я" * 5000, author_name="<b>" * 300, reason="x" * 9000,
        author_id=-(10**13), campaign_id=10**15, record_id="Z" * 12, chat_id=-(10**13),
        dialog="ffffff", state=CardState.FAILED, approver_id=10**13, approver_name="Б" * 500,
    )
    for state in CardState:
        text, rows = render(dataclasses.replace(view, state=state))
        assert len(text) < 4096
        for row in rows:
            for button in row:
                assert len(button["callback_data"].encode()) <= 64
    one = render(dataclasses.replace(BASE, attempts=1))[0]
    assert "Попытки: 1" in one and "через" not in one
