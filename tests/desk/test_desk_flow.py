"""The team desk through the real dispatcher (memory + SQLite history, and Redis): a group's
/new handed over by a deep link, one POST, at most 3 bot messages in the group; two
supervisors at once; a stranger's link refused; history after a restart; repeat straight
to the summary; four-eyes approval."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.dialog.conftest import ANNA, BORIS, STRANGER, BotUnderTest
from tests.dialog.flows import SKIP, SUMMARY, TOMORROW
from tests.fakes.telegram_api import BotMessage, Chat, User

VERA = User(id=1003, first_name="Вера", username="vera")
GROUP_ID = -1001000000042
PHONES = "+79161234567, 8 916 123-45-68"
FULL_NUMBERS = ("79161234567", "9161234567", "916 123-45-68", "9161234568")


@pytest.fixture
def desk(make_bot_under_test: Callable[..., BotUnderTest]) -> Callable[..., BotUnderTest]:
    """A bot with the default group wizard: the handoff to the private chat."""

    def make(**overrides: Any) -> BotUnderTest:
        overrides.setdefault("group_wizard", "private")
        overrides.setdefault("allowed_user_ids", [ANNA.id, BORIS.id, VERA.id])
        return make_bot_under_test(**overrides)

    return make


def group_messages(app: BotUnderTest, group: Chat) -> list[BotMessage]:
    """Every bot message the group ever got, deleted ones included."""
    return app.fake.messages(group.id, include_deleted=True)


def link_token(message: BotMessage) -> str:
    url = message.buttons[0]["url"]
    found = re.fullmatch(r"https://t\.me/campaign_test_bot\?start=([A-Za-z0-9_-]{1,64})", url)
    assert found, url
    return found[1]


async def new_in_group(app: BotUnderTest, group: Chat, user: User,
                       thread: int | None = None) -> str:
    fields: dict[str, Any] = {"text": "/new",
                              "entities": [{"type": "bot_command", "offset": 0, "length": 4}]}
    if thread is not None:
        fields.update(message_thread_id=thread, is_topic_message=True)
    assert await app.deliver(app.fake.send_message(group, user, fields))
    handoff = app.fake.last_message(group.id)
    assert handoff is not None and user.first_name in (handoff.text or "")
    return link_token(handoff)


async def fill_in_private(app: BotUnderTest, user: User, token: str,
                          name: str = "Долги ноябрь") -> Chat:
    private = app.fake.add_chat(Chat.private(user))
    assert await app.say(private, user, f"/start {token}")
    assert await app.say(private, user, name)
    assert await app.press(private, user, SKIP)
    assert await app.press(private, user, TOMORROW)
    assert await app.say(private, user, "9-18")
    assert await app.say(private, user, "3")
    assert await app.say(private, user, "15")
    assert await app.say(private, user, PHONES)
    assert SUMMARY in app.last_text(private)
    return private


def assert_group_is_quiet(app: BotUnderTest, group: Chat, *, at_most: int) -> None:
    messages = group_messages(app, group)
    assert len(messages) <= at_most, [m.text for m in messages]
    assert not [c for c in app.fake.calls("sendDocument") if c.params.get("chat_id") == group.id]
    for message in messages:
        for number in FULL_NUMBERS:
            assert number not in (message.text or ""), message.text


async def test_a_group_campaign_via_the_deep_link(desk: Callable[..., BotUnderTest]) -> None:
    app = desk()
    group = app.fake.add_chat(Chat.group(GROUP_ID, "Отдел взыскания"))
    token = await new_in_group(app, group, ANNA, thread=7)
    handoff = app.fake.last_message(group.id)
    assert handoff is not None
    sent = [c for c in app.fake.calls("sendMessage") if c.params.get("chat_id") == group.id]
    assert int(sent[-1].params["message_thread_id"]) == 7  # the topic /new came from
    private = await fill_in_private(app, ANNA, token)
    assert "Результат в: «Отдел взыскания»" in app.last_text(private)
    assert await app.press(private, ANNA, "✅ Создать")
    await app.settle()
    assert len(app.api.campaign_requests) == 1
    card = app.fake.message(group.id, handoff.message_id)  # the handoff became the card
    assert card.text and card.text.startswith("✅ Обзвон №")
    assert "Долги ноябрь" in card.text and "номеров: 2" in card.text
    assert "Автор: Анна" in card.text
    assert {b["text"] for b in card.buttons} == {"🔁 Повторить", "📜 История"}
    assert_group_is_quiet(app, group, at_most=1)
    assert "Обзвон №" in app.last_text(private)


async def test_two_supervisors_at_once_from_one_group(desk: Callable[..., BotUnderTest]) -> None:
    app = desk()
    group = app.fake.add_chat(Chat.group(GROUP_ID, "Отдел"))
    anna_token = await new_in_group(app, group, ANNA)
    boris_token = await new_in_group(app, group, BORIS)
    anna_chat, boris_chat = await asyncio.gather(
        fill_in_private(app, ANNA, anna_token, "Анны"),
        fill_in_private(app, BORIS, boris_token, "Бориса"),
    )
    await asyncio.gather(app.press(anna_chat, ANNA, "✅ Создать"),
                         app.press(boris_chat, BORIS, "✅ Создать"))
    await app.settle()
    assert len(app.api.campaign_requests) == 2
    cards = [m for m in group_messages(app, group) if (m.text or "").startswith("✅ Обзвон №")]
    assert len(cards) == 2
    by_name = {("Анны" in (c.text or "")): c for c in cards}
    assert "Анна" in (by_name[True].text or "") and "Борис" in (by_name[False].text or "")
    assert_group_is_quiet(app, group, at_most=2)


async def test_a_strangers_deep_link_is_refused(desk: Callable[..., BotUnderTest]) -> None:
    app = desk()
    group = app.fake.add_chat(Chat.group(GROUP_ID, "Отдел"))
    token = await new_in_group(app, group, ANNA)
    boris = app.fake.add_chat(Chat.private(BORIS))
    assert await app.say(boris, BORIS, f"/start {token}")
    assert "другого супервайзера" in app.last_text(boris)
    assert await app.dp.fsm.get_context(app.bot, BORIS.id, BORIS.id).get_state() is None
    stranger = app.fake.add_chat(Chat.private(STRANGER))
    await app.say(stranger, STRANGER, f"/start {token}")
    assert "Обзвон" not in app.last_text(stranger)  # no access at all: not even the wizard
    await fill_in_private(app, ANNA, token)  # still Anna's
    anna = Chat.private(ANNA)
    assert await app.say(anna, ANNA, f"/start {token}")  # single use
    assert "устарела или уже использована" in app.last_text(anna)


async def test_history_after_a_restart(desk: Callable[..., BotUnderTest]) -> None:
    app = desk()
    group = app.fake.add_chat(Chat.group(GROUP_ID, "Отдел"))
    private = await fill_in_private(app, ANNA, await new_in_group(app, group, ANNA))
    assert await app.press(private, ANNA, "✅ Создать")
    await app.settle()
    campaign_id = next(iter(app.api.created))
    await app.close()
    again = desk()  # a restart: SQLite file or Redis, the same
    assert await again.say(group, BORIS, "/history", reply=False)
    text = again.last_text(group)
    assert f"№ {campaign_id} «Долги ноябрь»" in text and "номеров: 2" in text
    assert await again.say(private, ANNA, "/history")
    assert f"№ {campaign_id}" in again.last_text(private) and "Ваши обзвоны" in again.last_text(
        private
    )


async def test_repeat_goes_straight_to_the_summary(desk: Callable[..., BotUnderTest]) -> None:
    app = desk()
    group = app.fake.add_chat(Chat.group(GROUP_ID, "Отдел"))
    private = await fill_in_private(app, ANNA, await new_in_group(app, group, ANNA))
    assert await app.press(private, ANNA, "✅ Создать")
    await app.settle()
    card = app.message_with_button(group, "🔁 Повторить")
    # In the group «Repeat» opens the private chat by a link of the presser's own.
    assert await app.press(group, BORIS, "🔁 Повторить", message=card)
    url = app.fake.callback_answers[-1]["url"]
    token = re.fullmatch(r"https://t\.me/campaign_test_bot\?start=(\S+)", url or "")
    assert token, url
    boris = app.fake.add_chat(Chat.private(BORIS))
    assert await app.say(boris, BORIS, f"/start {token[1]}")
    assert "Повтор «Долги ноябрь»" in app.last_text(boris)
    assert await app.press(boris, BORIS, TOMORROW)
    assert await app.press(boris, BORIS, "Тот же список")
    summary = app.last_text(boris)
    assert SUMMARY in summary and "Долги ноябрь" in summary and "2" in summary
    assert await app.press(boris, BORIS, "✅ Создать")
    await app.settle()
    requests = app.api.campaign_requests
    assert len(requests) == 2
    first, second = (r.json for r in requests)
    assert first["campaign"]["name"] == second["campaign"]["name"] == "Долги ноябрь"
    assert first["phones"] == second["phones"] and len(second["phones"]) == 2
    assert first["campaign"]["schedule"]["start_time"] == "09:00"
    assert_group_is_quiet(app, group, at_most=2)


def approval_presets(tmp_path: Path) -> Path:
    path = tmp_path / "presets.toml"
    path.write_text(
        '[[scenarios]]\nkey = "debt"\ntitle = "Долги"\nproject_id = 1\nstart_block_id = 10\n'
        '[[callers]]\nkey = "main"\ntitle = "Основной"\nphone_id = 5\n'
        f'[chats."{GROUP_ID}"]\napproval = true\n',
        "utf-8",
    )
    return path


async def test_approval_by_a_second_member_once(
    desk: Callable[..., BotUnderTest], tmp_path: Path
) -> None:
    app = desk(presets_file=approval_presets(tmp_path))
    group = app.fake.add_chat(Chat.group(GROUP_ID, "Отдел"))
    private = await fill_in_private(app, ANNA, await new_in_group(app, group, ANNA))
    assert await app.press(private, ANNA, "📨 Отправить на согласование")
    assert "ждёт согласования" in app.last_text(private)
    card = app.message_with_button(group, "✅ Одобрить")
    assert (card.text or "").startswith("🕓 Ждёт согласования")
    assert app.api.campaign_requests == []
    # The author's own approval is refused.
    assert await app.press(group, ANNA, "✅ Одобрить", message=card)
    assert app.fake.callback_answers[-1]["show_alert"] is True
    assert "Свой обзвон одобрить нельзя" in app.fake.callback_answers[-1]["text"]
    assert app.api.campaign_requests == []
    # Two colleagues at once: one POST.
    data = card.button("✅ Одобрить")["callback_data"]
    await asyncio.gather(
        app.deliver(app.fake.press_button(group, BORIS, card.message_id, data)),
        app.deliver(app.fake.press_button(group, VERA, card.message_id, data)),
    )
    await app.settle()
    assert len(app.api.campaign_requests) == 1
    final = app.fake.message(group.id, card.message_id)
    assert (final.text or "").startswith("✅ Обзвон №")
    assert "Одобрено:" in (final.text or "")
    assert "Обзвон №" in app.last_text(private)  # the author is told privately
    answers = [a["text"] or "" for a in app.fake.callback_answers[-2:]]
    assert any("Одобрено: обзвон создаётся" in a for a in answers)
    # The other one was second: told it is decided (or closed, once the draft is gone).
    assert any("Уже решено" in a or "закрыто" in a for a in answers)
    assert_group_is_quiet(app, group, at_most=3)


async def test_a_declined_campaign_is_not_sent(
    desk: Callable[..., BotUnderTest], tmp_path: Path
) -> None:
    app = desk(presets_file=approval_presets(tmp_path))
    group = app.fake.add_chat(Chat.group(GROUP_ID, "Отдел"))
    private = await fill_in_private(app, ANNA, await new_in_group(app, group, ANNA))
    assert await app.press(private, ANNA, "📨 Отправить на согласование")
    assert await app.press(group, BORIS, "✖️ Отклонить")
    card = app.fake.last_message(group.id)
    assert card is not None and (card.text or "").startswith("✖️ Отклонено")
    assert "Отклонено: " in (card.text or "") and "Борис" in (card.text or "")
    assert "отклонил" in app.last_text(private) or "Борис" in app.last_text(private)
    assert app.api.campaign_requests == []


async def test_cancel_in_private_leaves_nothing_in_the_group(
    desk: Callable[..., BotUnderTest],
) -> None:
    app = desk()
    group = app.fake.add_chat(Chat.group(GROUP_ID, "Отдел"))
    private = await fill_in_private(app, ANNA, await new_in_group(app, group, ANNA))
    assert await app.say(private, ANNA, "/cancel")
    assert app.fake.messages(group.id) == []  # the handoff message is gone
    assert app.api.campaign_requests == []


async def test_withdrawn_approval_request_says_so(
    desk: Callable[..., BotUnderTest], tmp_path: Path
) -> None:
    app = desk(presets_file=approval_presets(tmp_path))
    group = app.fake.add_chat(Chat.group(GROUP_ID, "Отдел"))
    private = await fill_in_private(app, ANNA, await new_in_group(app, group, ANNA))
    assert await app.press(private, ANNA, "📨 Отправить на согласование")
    card = app.message_with_button(group, "✅ Одобрить")
    assert await app.press(private, ANNA, "✖️ Отменить")
    withdrawn = app.fake.message(group.id, card.message_id)
    assert (withdrawn.text or "").startswith("✖️ Автор отменил обзвон")
    assert not any(b["text"] == "✅ Одобрить" for b in withdrawn.buttons)
    assert await app.press(group, BORIS, "📜 История", message=withdrawn) or True
    assert app.api.campaign_requests == []


async def test_a_private_campaign_with_an_approval_scenario_is_sent_to_a_group(
    desk: Callable[..., BotUnderTest], tmp_path: Path
) -> None:
    path = tmp_path / "presets.toml"
    path.write_text(
        '[[scenarios]]\nkey = "debt"\ntitle = "Долги"\nproject_id = 1\nstart_block_id = 10\n'
        'approval = true\n[[callers]]\nkey = "main"\ntitle = "Основной"\nphone_id = 5\n',
        "utf-8",
    )
    app = desk(presets_file=path)
    private = app.fake.add_chat(Chat.private(ANNA))
    assert await app.say(private, ANNA, "/new")
    for answer in ("Долги", None, None, "9-18", "1", PHONES):
        if answer is None:
            label = SKIP if SKIP in str(app.fake.last_message(private.id).keyboard) else TOMORROW
            assert await app.press(private, ANNA, label)
        else:
            assert await app.say(private, ANNA, answer)
    assert await app.press(private, ANNA, "📨 Отправить на согласование")
    assert "запустите его из группы" in app.last_text(private)
    assert app.api.campaign_requests == []


async def test_the_in_group_wizard_leaves_no_helper_messages(
    make_bot_under_test: Callable[..., BotUnderTest],
) -> None:
    """The per-chat option: the wizard in the group; each «✍️ Или ответьте на это
    сообщение.» companion is deleted once its question is answered."""
    app = make_bot_under_test(group_wizard="group")
    group = app.fake.add_chat(Chat.group(GROUP_ID, "Отдел"))
    fake = app.fake
    assert await app.say(group, ANNA, "/new", reply=False)
    for answer in ("Тест", None, None, "9-18", "1", "+79161234567"):
        if answer is None:
            helper = fake.messages(group.id)[-1]
            assert "Или ответьте" in (helper.text or "") and helper.force_reply
            label = SKIP if SKIP in str(fake.messages(group.id)[-2].keyboard) else TOMORROW
            assert await app.press(group, ANNA, label)
        else:
            assert await app.say(group, ANNA, answer)
    assert SUMMARY in app.last_text(group)
    assert not [m for m in fake.messages(group.id) if "Или ответьте" in (m.text or "")]
    deleted = [m for m in fake.messages(group.id, include_deleted=True)
               if "Или ответьте" in (m.text or "")]
    assert deleted  # they were sent (the ForceReply opens the reply), then removed
