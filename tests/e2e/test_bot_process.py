"""End to end: `python -m bot` as a process, polling the fake Telegram, posting to the fake
campaign API. What a supervisor sees, and what the process logs.

A restart mid-dialog with Redis is covered by tests/runtime (another suite), not here.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.dialog.flows import contacts_xlsx
from tests.e2e.conftest import (
    ANNA,
    BORIS,
    TOKEN,
    BotProcess,
    Supervisor,
    assert_clean_log,
    has_button,
)
from tests.fakes.campaign_api import FakeCampaignApi
from tests.fakes.telegram_api import Chat, FakeTelegram

pytestmark = pytest.mark.e2e

CREATE = "✅ Создать"
RETRY = "🔁 Повторить"
RESEND = "⚠️ Отправить ещё раз"
EDIT = "✏️ Изменить"
SKIP = "Пропустить"
TOMORROW = "Завтра"
CREATED = "Обзвон №"
SUMMARY = "Проверьте обзвон"
PHONES = ["+79161234567", "+79161234568", "+79161234569"]


async def walk_to_phones(s: Supervisor, *, name: str, window: str, attempts: str) -> None:
    """/new -> name -> skip description -> tomorrow -> window -> attempts (-> 15 min)."""
    await s.say("/new", "Как назовём обзвон", reply=False)
    await s.say(name, has_button(SKIP))
    await s.press(SKIP, has_button(TOMORROW))
    await s.press(TOMORROW, "В какие часы звонить")
    await s.say(window, "Сколько попыток")
    if attempts == "1":
        await s.say(attempts, "Пришлите список")
    else:
        await s.say(attempts, "Сколько минут между попытками")
        await s.say("15", "Пришлите список")


async def test_full_campaign_in_private_chat_with_xlsx(
    fake: FakeTelegram, api: FakeCampaignApi, start_bot: Any
) -> None:
    bot: BotProcess = await start_bot()
    anna = Supervisor(fake, fake.add_chat(Chat.private(ANNA)), ANNA)
    try:
        # The process registered its command menu on start.
        assert {"new", "cancel"} <= {c["command"] for c in fake.commands_for()}
        await walk_to_phones(anna, name="Долги ноябрь", attempts="3", window="9-18")

        summary = await anna.upload(contacts_xlsx(), "Клиенты.xlsx", has_button(CREATE))
        # The file went through getFile and a download from the file URL, as with Telegram.
        assert fake.calls("getFile")
        assert SUMMARY in summary.text and "Номеров: 2" in summary.text
        assert "09:00–18:00" in summary.text
        report = [m for m in fake.messages(anna.chat.id) if m.document]
        assert report and report[-1].document["file_name"].endswith(".xlsx")
        assert "принято: 2" in "\n".join(m.text or "" for m in fake.messages(anna.chat.id))

        # The "⏳ Creating" message is edited into the outcome.
        done = await anna.press(CREATE, CREATED)
        [campaign_id] = api.created
        assert f"{CREATED} {campaign_id}" in done.text
        [request] = api.campaign_requests
        body = request.json
        assert body["campaign"]["name"] == "Долги ноябрь"
        assert body["campaign"]["schedule"]["attempts"] == {"id": 3, "title": "3"}
        assert body["campaign"]["schedule"]["interval"] == "15"
        assert body["phones"] == [
            {"phone": "+79161234567", "add_data": {"name": "Иванов Иван", "time": "10:00"}},
            {"phone": "+79161234568", "add_data": {"name": "Петрова Анна", "time": "15:05"}},
        ]
    finally:
        code = await bot.stop()
    assert code == 0, bot.log[-3000:]
    log = bot.log
    assert "list accepted" in log and "campaign created id=" in log
    assert_clean_log(log, TOKEN, PHONES)


async def test_two_supervisors_in_one_group_at_once(
    fake: FakeTelegram, api: FakeCampaignApi, start_bot: Any
) -> None:
    # The in-group wizard, a per-chat option (the default hands /new over to private).
    bot: BotProcess = await start_bot(GROUP_WIZARD="group")
    group = fake.add_chat(Chat.group(-1001234567890, "Операторы"))
    anna, boris = Supervisor(fake, group, ANNA), Supervisor(fake, group, BORIS)

    # Two in-group wizards at once send more than Telegram's 20 messages a minute to one
    # group: the bot queues the rest (bot/ratelimit.py), so a step may wait up to a minute.
    wait = 75.0

    async def campaign(s: Supervisor, name: str, window: str, numbers: str) -> str:
        await s.say("/new@campaign_test_bot", "Как назовём обзвон", reply=False, timeout=wait)
        assert s.last_question is not None and s.last_question.force_reply
        await s.say(name, has_button(SKIP), timeout=wait)
        await s.press(SKIP, has_button(TOMORROW), timeout=wait)
        await s.press(TOMORROW, "В какие часы звонить", timeout=wait)
        await s.say(window, "Сколько попыток", timeout=wait)
        await s.say("1", "Пришлите список", timeout=wait)
        summary = await s.say(numbers, has_button(CREATE), timeout=wait)
        assert summary.reply_to is not None
        return (await s.press(CREATE, CREATED, timeout=wait)).text or ""

    try:
        results = await asyncio.gather(
            campaign(anna, "Обзвон Анны", "9-18", "+79161234567"),
            campaign(boris, "Обзвон Бориса", "10-19", "+79161234568, 8 916 123-45-69"),
        )
        assert all(CREATED in text for text in results)
        bodies = {r.json["campaign"]["name"]: r.json for r in api.campaign_requests}
        assert set(bodies) == {"Обзвон Анны", "Обзвон Бориса"}
        assert bodies["Обзвон Анны"]["campaign"]["schedule"]["start_time"] == "09:00"
        assert bodies["Обзвон Бориса"]["campaign"]["schedule"]["start_time"] == "10:00"
        assert [p["phone"] for p in bodies["Обзвон Бориса"]["phones"]] == PHONES[1:]
        # A group sees masked numbers only.
        group_text = "\n".join(m.text or "" for m in fake.messages(group.id))
        assert "+79161234567" not in group_text and "+7916***4567" in group_text
        # Never more than 20 new messages in the group within a minute, and no 429.
        sent = sorted(c.time for c in fake.calls("sendMessage") + fake.calls("sendDocument")
                      if str(c.params.get("chat_id")) == str(group.id))
        assert all(c.ok for c in fake.calls("sendMessage"))
        assert all(later - sent[i] >= 59.0 for i, later in enumerate(sent[20:]))
        # The «✍️ Или ответьте» companions are gone once answered.
        assert not [m for m in fake.messages(group.id) if "Или ответьте" in (m.text or "")]
    finally:
        code = await bot.stop()
    assert code == 0, bot.log[-3000:]
    assert_clean_log(bot.log, TOKEN, PHONES)


async def test_every_campaign_api_outcome_as_the_user_sees_it(
    fake: FakeTelegram, api: FakeCampaignApi, start_bot: Any
) -> None:
    """Rejected with the API's message, unreachable, outcome unknown, then success: one
    draft, each answer shown in the chat, the right buttons offered, no silent resend."""
    bot: BotProcess = await start_bot()
    anna = Supervisor(fake, fake.add_chat(Chat.private(ANNA)), ANNA)
    port = api.port
    try:
        await walk_to_phones(anna, name="Исходы", attempts="1", window="9-18")
        await anna.say("+79161234567", has_button(CREATE))

        # 1. Rejected (4xx): the API's own message, a setting for the administrator, the
        #    draft kept; no «Retry», since retrying cannot help.
        api.fail_next(status=422, json={"message": "Неверный project_id <x>"})
        rejected = await anna.press(CREATE, "Обзвон не создан")
        assert "Неверный project_id <x>" in rejected.text and "администратор" in rejected.text
        assert has_button(EDIT)(rejected) and not has_button(RETRY)(rejected)
        assert len(api.campaign_requests) == 1

        # 2. Unreachable: nothing listens; retried with backoff, then said so (typed
        #    «создать» sends again where no button offers it).
        await api.stop()
        await anna.say("создать", "временно недоступен", timeout=15)
        await fake.wait_for_message(anna.chat.id, has_button(RETRY))
        api.port = port
        await api.start()

        # 3. Outcome unknown: the API answers later than the read timeout (1.5 s).
        api.fail_next(delay=5.0)
        unknown = await anna.press(RETRY, "возможно, уже создан")
        assert "проверьте" in unknown.text
        last = await fake.wait_for_message(anna.chat.id, has_button(RESEND))
        assert not has_button(CREATE)(last) and not has_button(RETRY)(last)
        await asyncio.sleep(0.5)
        # Rejected + this one; the unreachable attempts never reached it; no silent resend.
        assert len(api.campaign_requests) == 2

        # 4. The user checked and sends again: created.
        done = await anna.press(RESEND, CREATED)
        assert len(api.campaign_requests) == 3
        [campaign_id] = api.created
        assert f"{CREATED} {campaign_id}" in done.text
    finally:
        code = await bot.stop()
    assert code == 0, bot.log[-3000:]
    log = bot.log
    assert "outcome unknown" in log and "unreachable" in log and "-> 422" in log
    assert_clean_log(log, TOKEN, PHONES)
