"""Updates: long polling, offsets, privacy mode, callback queries and a real Dispatcher."""

from __future__ import annotations

import asyncio

import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.exceptions import TelegramBadRequest, TelegramConflictError
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from tests.fakes.telegram_api import QUERY_TOO_OLD, Chat, FakeTelegram, User


async def test_long_poll_returns_when_update_arrives(
    tg_bot: Bot, fake_telegram: FakeTelegram, tg_private_chat: Chat, tg_user: User
) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    poll = asyncio.create_task(tg_bot.get_updates(timeout=10))
    await fake_telegram.wait_polling()
    await asyncio.sleep(0.1)
    assert not poll.done()  # held open while there is nothing to deliver

    sent = fake_telegram.send_text(tg_private_chat, tg_user, "привет")
    updates = await asyncio.wait_for(poll, 3)
    assert loop.time() - started < 3
    assert [u.update_id for u in updates] == [sent["update_id"]]
    assert updates[0].message and updates[0].message.text == "привет"

    # Not confirmed yet: delivered again; an offset past it confirms it.
    again = await tg_bot.get_updates(timeout=0)
    assert [u.update_id for u in again] == [sent["update_id"]]
    assert await tg_bot.get_updates(offset=sent["update_id"] + 1, timeout=0) == []
    assert fake_telegram.pending_updates == []


async def test_long_poll_times_out_empty(tg_bot: Bot) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await asyncio.wait_for(tg_bot.get_updates(timeout=1), 3) == []
    assert loop.time() - started >= 0.9


async def test_limit_and_order(
    tg_bot: Bot, fake_telegram: FakeTelegram, tg_private_chat: Chat, tg_user: User
) -> None:
    ids = [fake_telegram.send_text(tg_private_chat, tg_user, str(i))["update_id"] for i in range(5)]
    first = await tg_bot.get_updates(limit=2, timeout=0)
    assert [u.update_id for u in first] == ids[:2]
    rest = await tg_bot.get_updates(offset=ids[1] + 1, timeout=0)
    assert [u.message.text for u in rest if u.message] == ["2", "3", "4"]
    message_ids = [u.message.message_id for u in first + rest if u.message]
    assert message_ids == sorted(message_ids)


async def test_second_poll_terminates_first(tg_bot: Bot) -> None:
    first = asyncio.create_task(tg_bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    second = asyncio.create_task(tg_bot.get_updates(timeout=1))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
        await asyncio.wait_for(first, 3)
    assert await asyncio.wait_for(second, 3) == []


async def test_allowed_updates_filter(
    tg_bot: Bot, fake_telegram: FakeTelegram, tg_private_chat: Chat, tg_user: User
) -> None:
    sent = await tg_bot.send_message(
        tg_private_chat.id,
        "?",
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="ok", callback_data="ok")]]
        ),
    )
    fake_telegram.press_button(tg_private_chat, tg_user, sent.message_id, "ok")
    fake_telegram.send_text(tg_private_chat, tg_user, "text")
    updates = await tg_bot.get_updates(timeout=0, allowed_updates=["message"])
    assert [u.message.text for u in updates if u.message] == ["text"]
    assert all(u.callback_query is None for u in updates)


async def test_privacy_mode_in_groups(
    tg_bot: Bot, fake_telegram: FakeTelegram, tg_group: Chat, tg_user: User
) -> None:
    plain = fake_telegram.send_text(tg_group, tg_user, "всем привет")
    other_bot = fake_telegram.send_text(tg_group, tg_user, "/new@other_bot")
    for_us = fake_telegram.send_text(tg_group, tg_user, "/new@Campaign_Test_Bot список")
    bare = fake_telegram.send_text(tg_group, tg_user, "/help")
    bot_message = await tg_bot.send_message(tg_group.id, "Ответьте на это сообщение")
    reply = fake_telegram.send_text(tg_group, tg_user, "ответ", reply_to=bot_message.message_id)
    reply_to_user = fake_telegram.send_text(
        tg_group, tg_user, "не боту", reply_to=plain["message"]["message_id"]
    )

    assert "update_id" not in plain and "update_id" not in other_bot
    assert fake_telegram.dropped == [plain, other_bot, reply_to_user]
    updates = await tg_bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [
        for_us["update_id"],
        bare["update_id"],
        reply["update_id"],
    ]
    command = updates[0].message
    assert command and command.entities and command.entities[0].type == "bot_command"
    assert command.entities[0].length == len("/new@Campaign_Test_Bot")


async def test_private_chat_gets_everything(
    tg_bot: Bot, fake_telegram: FakeTelegram, tg_private_chat: Chat, tg_user: User
) -> None:
    fake_telegram.send_text(tg_private_chat, tg_user, "просто текст")
    fake_telegram.send_sticker(tg_private_chat, tg_user)
    fake_telegram.send_voice(tg_private_chat, tg_user)
    fake_telegram.send_photo(tg_private_chat, tg_user, caption="фото")
    updates = await tg_bot.get_updates(timeout=0)
    messages = [u.message for u in updates if u.message]
    assert messages[0].text == "просто текст"
    assert messages[1].sticker and messages[1].sticker.emoji == "👍"
    assert messages[2].voice and messages[2].voice.duration == 2
    assert messages[3].photo and messages[3].caption == "фото"


async def test_privacy_mode_off(fake_telegram: FakeTelegram, tg_user: User) -> None:
    fake = FakeTelegram(privacy_mode=False)
    group = Chat.group(5, "g")
    assert "update_id" in fake.send_text(group, tg_user, "hello")
    assert fake.dropped == []


async def test_callback_query_answer_rules(
    tg_bot: Bot, fake_telegram: FakeTelegram, tg_private_chat: Chat, tg_user: User
) -> None:
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Запустить", callback_data="run:1")]]
    )
    sent = await tg_bot.send_message(tg_private_chat.id, "Готово?", reply_markup=markup)
    update = fake_telegram.press(tg_private_chat, tg_user, sent.message_id, "Запустить")
    query = update["callback_query"]
    assert query["data"] == "run:1"
    assert query["message"]["reply_markup"] == markup.model_dump(exclude_none=True)

    assert await tg_bot.answer_callback_query(query["id"], text="Запускаю")
    assert fake_telegram.callback_answer(query["id"])["text"] == "Запускаю"
    with pytest.raises(TelegramBadRequest) as error:
        await tg_bot.answer_callback_query(query["id"])
    assert error.value.message == f"Bad Request: {QUERY_TOO_OLD}"

    late = fake_telegram.press_button(tg_private_chat, tg_user, sent.message_id, "run:1")
    fake_telegram.advance_time(16)
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await tg_bot.answer_callback_query(late["callback_query"]["id"])

    with pytest.raises(LookupError):
        fake_telegram.press_button(tg_private_chat, tg_user, 999, "run:1")
    with pytest.raises(LookupError):
        fake_telegram.press_button(tg_private_chat, tg_user, sent.message_id, "x", strict=True)


async def test_dispatcher_polling_loop(
    tg_bot: Bot, fake_telegram: FakeTelegram, tg_private_chat: Chat, tg_user: User
) -> None:
    dp = Dispatcher()

    @dp.message(Command("start"))
    async def start(message: Message) -> None:
        await message.answer(
            "Привет! <b>Начнём?</b>",
            parse_mode="HTML",
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[[InlineKeyboardButton(text="Да", callback_data="yes")]]
            ),
        )

    @dp.callback_query(F.data == "yes")
    async def yes(query: CallbackQuery) -> None:
        await query.answer("Поехали")
        assert isinstance(query.message, Message)
        await query.message.edit_text("Поехали!")

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "?")

    polling = asyncio.create_task(
        dp.start_polling(tg_bot, handle_signals=False, close_bot_session=False, polling_timeout=5)
    )
    try:
        await fake_telegram.wait_polling()
        fake_telegram.send_text(tg_private_chat, tg_user, "/start")
        greeting = await fake_telegram.wait_for_message(
            tg_private_chat.id, lambda m: m.text == "Привет! Начнём?"
        )
        fake_telegram.press(tg_private_chat, tg_user, greeting.message_id, "Да")
        await fake_telegram.wait_for(
            lambda: (
                fake_telegram.message(tg_private_chat.id, greeting.message_id).text == "Поехали!"
            )
        )
        assert fake_telegram.callback_answers[0]["text"] == "Поехали"

        fake_telegram.send_text(tg_private_chat, tg_user, "эхо")
        echoed = await fake_telegram.wait_for_message(tg_private_chat.id, lambda m: m.text == "эхо")
        assert echoed.message_id > greeting.message_id
        await fake_telegram.wait_confirmed()
    finally:
        await dp.stop_polling()
        await asyncio.wait_for(polling, 10)
    assert fake_telegram.calls("getMe")
    assert all(r.ok for r in fake_telegram.requests if r.response)
