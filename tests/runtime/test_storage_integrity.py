"""Values in Redis are signed: one written by someone else is refused, never trusted and
never a crash. Against the real redis-server, through the real Dispatcher."""

from __future__ import annotations

from collections.abc import Callable

import orjson
import pytest
from aiogram.fsm.storage.base import StorageKey

from bot.app import DraftRedisStorage
from bot.drafts import Signer
from bot.phones import PhoneList
from tests.dialog.conftest import BotUnderTest
from tests.dialog.flows import CREATE, SUMMARY, fill_to_summary
from tests.fakes.telegram_api import Chat
from tests.runtime.conftest import ANNA, BORIS

pytestmark = pytest.mark.redis

DROPPED = "не удалось проверить"
LIST_AGAIN = "Срок хранения списка номеров истёк"


def _draft_key(app: BotUnderTest, chat: Chat, user_id: int) -> StorageKey:
    return StorageKey(bot_id=app.bot.id, chat_id=chat.id, user_id=user_id)


def _storage(app: BotUnderTest) -> DraftRedisStorage:
    storage = app.backend.storage
    assert isinstance(storage, DraftRedisStorage)
    return storage


async def test_a_forged_list_is_refused_and_the_list_asked_for_again(
    make_bot_under_test: Callable[..., BotUnderTest], redis_prefix: str
) -> None:
    app = make_bot_under_test()
    redis = app.backend.redis
    assert redis is not None
    chat = app.fake.add_chat(Chat.private(ANNA))
    await fill_to_summary(app, chat, ANNA)
    data = await _storage(app).get_data(_draft_key(app, chat, ANNA.id))
    list_key = f"{redis_prefix}:list:{data['phones_ref']}"
    # Someone with access to Redis swaps in numbers of their own, well-formed but unsigned.
    await redis.set(list_key, PhoneList(["+79990000001"], [], []).to_bytes())

    assert await app.press(chat, ANNA, CREATE)
    await app.settle()
    assert app.api.campaign_requests == []
    texts = "\n".join(app.texts(chat)[-3:])
    assert LIST_AGAIN in texts
    assert await redis.exists(list_key) == 0  # refused and deleted
    # The supervisor sends the list again and the campaign goes out with it.
    assert await app.say(chat, ANNA, "+79161234567")
    assert SUMMARY in app.last_text(chat)
    assert await app.press(chat, ANNA, CREATE)
    await app.settle()
    [request] = app.api.campaign_requests
    assert [p["phone"] for p in request.json["phones"]] == ["+79161234567"]


@pytest.mark.parametrize("forge", ["data", "state", "copied"])
async def test_a_forged_draft_is_dropped_with_a_message(
    make_bot_under_test: Callable[..., BotUnderTest], forge: str
) -> None:
    app = make_bot_under_test()
    redis = app.backend.redis
    assert redis is not None
    storage = _storage(app)
    chat = app.fake.add_chat(Chat.private(ANNA))
    await fill_to_summary(app, chat, ANNA)
    key = _draft_key(app, chat, ANNA.id)
    data_key = storage.key_builder.build(key, "data")
    state_key = storage.key_builder.build(key, "state")
    if forge == "data":
        data = await storage.get_data(key)
        await redis.set(data_key, orjson.dumps({**data, "attempts": 99}))
    elif forge == "state":
        await redis.set(state_key, "CampaignForm:summary")
    else:
        # Boris's own, correctly signed draft copied over Anna's: bound to its key, refused.
        boris_chat = app.fake.add_chat(Chat.private(BORIS))
        await fill_to_summary(app, boris_chat, BORIS)
        boris = storage.key_builder.build(_draft_key(app, boris_chat, BORIS.id), "data")
        await redis.set(data_key, await redis.get(boris) or b"")

    assert await app.press(chat, ANNA, CREATE)
    assert app.fake.callback_answers, "the press was answered"
    assert DROPPED in app.fake.callback_answers[-1].get("text", "")
    assert app.api.campaign_requests == []
    assert await redis.exists(data_key, state_key) == 0
    # Nothing left to be tricked with: the next answer is no dialog, /new starts afresh.
    assert await app.say(chat, ANNA, "/new", reply=False)
    assert "Название" in app.last_text(chat) or "назов" in app.last_text(chat).lower()


async def test_a_forged_message_answer_is_told_once_and_a_command_still_works(
    make_bot_under_test: Callable[..., BotUnderTest],
) -> None:
    app = make_bot_under_test()
    redis = app.backend.redis
    assert redis is not None
    storage = _storage(app)
    chat = app.fake.add_chat(Chat.private(ANNA))
    await fill_to_summary(app, chat, ANNA)
    key = _draft_key(app, chat, ANNA.id)
    await redis.set(storage.key_builder.build(key, "data"), b'{"name": "x"}')
    before = len(app.fake.messages(chat.id))
    assert await app.say(chat, ANNA, "создать")
    new = app.texts(chat)[before:]
    assert len(new) == 1 and DROPPED in new[0]
    assert app.api.campaign_requests == []


def test_the_signature_is_bound_to_key_and_value() -> None:
    signer = Signer.from_secret(None, "123456:TEST")
    sealed = signer.seal("p:list:a", b"blob")
    assert signer.open("p:list:a", sealed) == b"blob"
    assert signer.open("p:list:b", sealed) is None  # moved to another key
    assert signer.open("p:list:a", sealed[:-1] + b"x") is None  # altered
    assert signer.open("p:list:a", b"short") is None
    text = signer.seal_text("k", '{"a": 1}')
    assert signer.open_text("k", text) == '{"a": 1}'
    assert signer.open_text("k", text.encode()) == '{"a": 1}'
    assert signer.open_text("k", '{"a": 1}') is None
    assert signer.open_text("k", "zz" * 32 + '.{"a": 1}') is None
    # Another token, another key; an explicit STORAGE_HMAC_KEY wins over the token.
    assert Signer.from_secret(None, "654321:OTHER").open("p:list:a", sealed) is None
    explicit = Signer.from_secret("0123456789abcdef", "123456:TEST")
    assert explicit.open("p:list:a", sealed) is None
    assert explicit.open("p:list:a", explicit.seal("p:list:a", b"x")) == b"x"
