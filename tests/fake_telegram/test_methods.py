"""A real aiogram Bot against the fake: methods, Telegram's limits and error texts."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.methods import TelegramMethod
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BufferedInputFile,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
)

from tests.fakes.telegram_api import NOT_MODIFIED, Chat, FakeTelegram, User

from .conftest import make_bot


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=f"b{i}", callback_data=d)] for i, d in enumerate(data)
        ]
    )


def dump(markup: InlineKeyboardMarkup) -> dict:
    return markup.model_dump(exclude_none=True)


async def test_get_me(tg_bot: Bot, fake_telegram: FakeTelegram) -> None:
    me = await tg_bot.get_me()
    assert me.id == fake_telegram.bot_id
    assert me.username == "campaign_test_bot"
    assert me.is_bot
    assert me.can_read_all_group_messages is False  # privacy mode on
    assert fake_telegram.calls("getMe")[0].ok


async def test_wrong_token_is_unauthorized(fake_telegram: FakeTelegram) -> None:
    bot = make_bot(fake_telegram, token="123456:WRONG")
    try:
        with pytest.raises(TelegramUnauthorizedError, match="Unauthorized"):
            await bot.get_me()
    finally:
        await bot.session.close()


async def test_unknown_method_is_not_found(tg_bot: Bot) -> None:
    class NoSuchMethod(TelegramMethod[bool]):
        __returning__ = bool
        __api_method__ = "noSuchMethod"

    with pytest.raises(TelegramNotFound, match="Not Found"):
        await tg_bot(NoSuchMethod())


async def test_send_and_edit_message(
    tg_bot: Bot, fake_telegram: FakeTelegram, tg_private_chat: Chat
) -> None:
    sent = await tg_bot.send_message(
        tg_private_chat.id,
        "<b>Кампания</b> создана",
        parse_mode="HTML",
        reply_markup=keyboard("go"),
    )
    assert sent.text == "Кампания создана"
    assert sent.entities and sent.entities[0].type == "bold" and sent.entities[0].length == 8
    assert sent.from_user and sent.from_user.id == fake_telegram.bot_id
    assert sent.reply_markup
    assert sent.reply_markup.model_dump(exclude_none=True) == dump(keyboard("go"))

    edited = await tg_bot.edit_message_text(
        "Запущена",
        chat_id=tg_private_chat.id,
        message_id=sent.message_id,
        reply_markup=keyboard("stop"),
    )
    assert not isinstance(edited, bool) and edited.text == "Запущена"
    assert edited.edit_date is not None

    with pytest.raises(TelegramBadRequest) as error:
        await tg_bot.edit_message_text(
            "Запущена",
            chat_id=tg_private_chat.id,
            message_id=sent.message_id,
            reply_markup=keyboard("stop"),
        )
    assert error.value.message == f"Bad Request: {NOT_MODIFIED}"

    state = fake_telegram.last_message(tg_private_chat.id)
    assert state is not None
    assert state.text == "Запущена"
    assert state.callback_data("b0") == "stop"
    assert [h["text"] for h in state.history] == ["Кампания создана"]


async def test_edit_without_markup_drops_keyboard(
    tg_bot: Bot, fake_telegram: FakeTelegram, tg_private_chat: Chat
) -> None:
    sent = await tg_bot.send_message(tg_private_chat.id, "a", reply_markup=keyboard("x"))
    # Same text, keyboard omitted: Telegram removes the keyboard, so it *is* a modification.
    await tg_bot.edit_message_text("a", chat_id=tg_private_chat.id, message_id=sent.message_id)
    assert fake_telegram.message(tg_private_chat.id, sent.message_id).reply_markup is None

    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await tg_bot.edit_message_reply_markup(
            chat_id=tg_private_chat.id, message_id=sent.message_id
        )
    edited = await tg_bot.edit_message_reply_markup(
        chat_id=tg_private_chat.id, message_id=sent.message_id, reply_markup=keyboard("y")
    )
    assert not isinstance(edited, bool) and edited.reply_markup
    assert edited.reply_markup.model_dump(exclude_none=True) == dump(keyboard("y"))


async def test_edit_missing_message(tg_bot: Bot, tg_private_chat: Chat) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to edit not found"):
        await tg_bot.edit_message_text("x", chat_id=tg_private_chat.id, message_id=999)


async def test_text_limit_counts_after_html_parsing(tg_bot: Bot, tg_private_chat: Chat) -> None:
    # 4096 visible characters: the tags and the entity (&lt; is one character) do not count.
    text = "<b>" + "x" * 4090 + "</b>&lt;" + "y" * 5
    sent = await tg_bot.send_message(tg_private_chat.id, text, parse_mode="HTML")
    assert sent.text is not None and len(sent.text) == 4096

    with pytest.raises(TelegramBadRequest) as error:
        await tg_bot.send_message(tg_private_chat.id, text + "z", parse_mode="HTML")
    assert error.value.message == "Bad Request: message is too long"


async def test_malformed_html_is_rejected(tg_bot: Bot, tg_private_chat: Chat) -> None:
    with pytest.raises(TelegramBadRequest, match="can't parse entities: Unsupported start tag"):
        await tg_bot.send_message(tg_private_chat.id, "1 < 2", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="Can't find end tag corresponding to start"):
        await tg_bot.send_message(tg_private_chat.id, "<b>bold", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match='Unsupported start tag "br"'):
        await tg_bot.send_message(tg_private_chat.id, "a<br>b", parse_mode="HTML")


async def test_empty_text(tg_bot: Bot, tg_private_chat: Chat) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: message text is empty"):
        await tg_bot.send_message(tg_private_chat.id, "<b> </b>", parse_mode="HTML")


async def test_callback_data_limit(tg_bot: Bot, tg_private_chat: Chat) -> None:
    # 64 bytes is fine even when it is 32 Cyrillic letters; one byte more is not.
    await tg_bot.send_message(tg_private_chat.id, "ok", reply_markup=keyboard("д" * 32))
    with pytest.raises(TelegramBadRequest) as error:
        await tg_bot.send_message(tg_private_chat.id, "no", reply_markup=keyboard("x" * 65))
    assert error.value.message == "Bad Request: BUTTON_DATA_INVALID"


async def test_force_reply_and_remove_keyboard(
    tg_bot: Bot, fake_telegram: FakeTelegram, tg_private_chat: Chat
) -> None:
    asked = await tg_bot.send_message(
        tg_private_chat.id, "Название?", reply_markup=ForceReply(input_field_placeholder="...")
    )
    assert asked.reply_markup is None  # Message.reply_markup only carries inline keyboards
    assert fake_telegram.message(tg_private_chat.id, asked.message_id).force_reply
    await tg_bot.send_message(tg_private_chat.id, "ok", reply_markup=ReplyKeyboardRemove())


async def test_reply_parameters(
    tg_bot: Bot, fake_telegram: FakeTelegram, tg_private_chat: Chat, tg_user: User
) -> None:
    incoming = fake_telegram.send_text(tg_private_chat, tg_user, "привет")
    message_id = incoming["message"]["message_id"]
    sent = await tg_bot.send_message(
        tg_private_chat.id, "ответ", reply_parameters=ReplyParameters(message_id=message_id)
    )
    assert sent.reply_to_message and sent.reply_to_message.text == "привет"
    assert fake_telegram.message(tg_private_chat.id, sent.message_id).reply_to == message_id
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await tg_bot.send_message(
            tg_private_chat.id, "x", reply_parameters=ReplyParameters(message_id=777)
        )


async def test_chat_not_found_and_blocked(
    tg_bot: Bot, fake_telegram: FakeTelegram, tg_private_chat: Chat, tg_user: User
) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: chat not found"):
        await tg_bot.send_message(424242, "hi")
    fake_telegram.block_bot(tg_user)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await tg_bot.send_message(tg_private_chat.id, "hi")


async def test_retry_after_fault(
    tg_bot: Bot, fake_telegram: FakeTelegram, tg_private_chat: Chat
) -> None:
    fake_telegram.fail_next("sendMessage", retry_after=3)
    with pytest.raises(TelegramRetryAfter) as error:
        await tg_bot.send_message(tg_private_chat.id, "hi")
    assert error.value.retry_after == 3
    assert fake_telegram.calls("sendMessage")[0].response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    await tg_bot.send_message(tg_private_chat.id, "hi")  # only the next call failed


async def test_get_file_and_download(
    tg_bot: Bot, fake_telegram: FakeTelegram, tg_private_chat: Chat, tg_user: User
) -> None:
    payload = b"phone\n+79990000000\n"
    update = fake_telegram.send_document(tg_private_chat, tg_user, payload, "phones.csv")
    document = update["message"]["document"]
    assert document["mime_type"] == "text/csv"

    file = await tg_bot.get_file(document["file_id"])
    assert file.file_path and file.file_path.endswith(".csv")
    assert file.file_size == len(payload)
    downloaded = await tg_bot.download_file(file.file_path)
    assert downloaded is not None and downloaded.read() == payload


async def test_get_file_over_20_mb(
    tg_bot: Bot, fake_telegram: FakeTelegram, tg_private_chat: Chat, tg_user: User
) -> None:
    big = fake_telegram.send_document(
        tg_private_chat, tg_user, b"\0" * (21 * 1024 * 1024), "a.xlsx"
    )
    with pytest.raises(TelegramBadRequest) as error:
        await tg_bot.get_file(big["message"]["document"]["file_id"])
    assert error.value.message == "Bad Request: file is too big"
    with pytest.raises(TelegramBadRequest, match="invalid file_id"):
        await tg_bot.get_file("nope")


async def test_send_document_upload(
    tg_bot: Bot, fake_telegram: FakeTelegram, tg_private_chat: Chat
) -> None:
    sent = await tg_bot.send_document(
        tg_private_chat.id,
        BufferedInputFile(b"a,b\n1,2\n", filename="report.csv"),
        caption="<i>Отчёт</i>",
        parse_mode="HTML",
    )
    assert sent.document and sent.document.file_name == "report.csv"
    assert sent.caption == "Отчёт"
    state = fake_telegram.last_message(tg_private_chat.id)
    assert state and state.file and state.file.data == b"a,b\n1,2\n"
    # The bot can fetch its own upload back, as on Telegram.
    file = await tg_bot.get_file(sent.document.file_id)
    assert file.file_path
    downloaded = await tg_bot.download_file(file.file_path)
    assert downloaded is not None and downloaded.read() == b"a,b\n1,2\n"


async def test_chat_action(tg_bot: Bot, fake_telegram: FakeTelegram, tg_private_chat: Chat) -> None:
    assert await tg_bot.send_chat_action(tg_private_chat.id, "upload_document")
    assert fake_telegram.calls("sendChatAction")[0].params == {
        "chat_id": tg_private_chat.id,
        "action": "upload_document",
    }
    with pytest.raises(TelegramBadRequest, match="wrong parameter action"):
        await tg_bot.send_chat_action(tg_private_chat.id, "dancing")


async def test_my_commands_per_scope_and_language(
    tg_bot: Bot, fake_telegram: FakeTelegram, tg_private_chat: Chat
) -> None:
    await tg_bot.set_my_commands([BotCommand(command="new", description="Новая кампания")])
    await tg_bot.set_my_commands(
        [BotCommand(command="new", description="New campaign")], language_code="en"
    )
    admin = BotCommandScopeChat(chat_id=tg_private_chat.id)
    await tg_bot.set_my_commands(
        [BotCommand(command="stats", description="Статистика")], scope=admin
    )
    assert fake_telegram.commands_for()[0]["description"] == "Новая кампания"
    assert fake_telegram.commands_for(language_code="en")[0]["description"] == "New campaign"
    assert fake_telegram.commands_for({"type": "chat", "chat_id": tg_private_chat.id})
    got = await tg_bot.get_my_commands(language_code="en")
    assert [c.command for c in got] == ["new"]
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await tg_bot.set_my_commands([BotCommand(command="New", description="x")])
    await tg_bot.delete_my_commands()
    assert fake_telegram.commands_for() == []


async def test_delete_message(
    tg_bot: Bot, fake_telegram: FakeTelegram, tg_private_chat: Chat
) -> None:
    sent = await tg_bot.send_message(tg_private_chat.id, "temp")
    assert await tg_bot.delete_message(tg_private_chat.id, sent.message_id)
    assert fake_telegram.messages(tg_private_chat.id) == []
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await tg_bot.delete_message(tg_private_chat.id, sent.message_id)


async def test_webhook_methods(tg_bot: Bot, fake_telegram: FakeTelegram) -> None:
    assert await tg_bot.delete_webhook(drop_pending_updates=True)
    info = await tg_bot.get_webhook_info()
    assert info.url == "" and info.pending_update_count == 0


async def test_get_chat(tg_bot: Bot, tg_group: Chat) -> None:
    chat = await tg_bot.get_chat(tg_group.id)
    assert chat.type == "supergroup" and chat.title == "Операторы"


async def test_rate_limit(tg_bot: Bot, fake_telegram: FakeTelegram, tg_private_chat: Chat) -> None:
    fake_telegram.set_rate_limit(2, per_seconds=60)
    await tg_bot.send_message(tg_private_chat.id, "1")
    await tg_bot.send_message(tg_private_chat.id, "2")
    with pytest.raises(TelegramRetryAfter) as error:
        await tg_bot.send_message(tg_private_chat.id, "3")
    assert error.value.retry_after == 60
    fake_telegram.advance_time(61)
    await tg_bot.send_message(tg_private_chat.id, "3")


async def test_get_chat_member(
    tg_bot: Bot, fake_telegram: FakeTelegram, tg_group: Chat, tg_user: User
) -> None:
    stranger = User(id=2002, first_name="Чужой")
    fake_telegram.send_text(tg_group, tg_user, "привет")  # writing in a group makes a member
    fake_telegram.set_member(tg_group, stranger, "left")
    assert (await tg_bot.get_chat_member(tg_group.id, tg_user.id)).status == "member"
    assert (await tg_bot.get_chat_member(tg_group.id, stranger.id)).status == "left"
    for status in ("creator", "administrator", "restricted", "kicked"):
        fake_telegram.set_member(tg_group, stranger, status)
        assert (await tg_bot.get_chat_member(tg_group.id, stranger.id)).status == status
    with pytest.raises(TelegramBadRequest, match="user not found"):
        await tg_bot.get_chat_member(tg_group.id, 5555)
