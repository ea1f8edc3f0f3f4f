"""Who may use the bot where: groups, membership and its cache, senders that are chats.

Each test goes through the real Dispatcher, the fake Telegram over HTTP (getChatMember,
sendMessage, answerCallbackQuery) and memory or Redis storage.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.middlewares.access import AccessPolicy, TtlCache
from tests.dialog.conftest import ANNA, BORIS, STRANGER, BotUnderTest
from tests.fakes.telegram_api import Chat, User

TEAM = Chat.group(55, "Команда")
OTHER = Chat.group(88, "Клиенты и мы")
CHANNEL = Chat(id=-1009999000001, type="channel", title="Новости")
GROUP_ANONYMOUS_BOT = User(id=1087968824, first_name="Group", username="GroupAnonymousBot",
                           is_bot=True, language_code=None)
CHANNEL_BOT = User(id=136817688, first_name="Channel", username="Channel_Bot", is_bot=True,
                   language_code=None)
TELEGRAM = User(id=777000, first_name="Telegram", language_code=None)
NAME_QUESTION = "назов"
NOT_HERE = "В этой группе обзвоны не создаются"
ANONYMOUS = (
    "Вы пишете от имени группы — отключите анонимность в настройках администратора, "
    "чтобы создавать обзвоны"
)


def membership_bot(make_bot_under_test: Any, **overrides: Any) -> BotUnderTest:
    """Nobody is allowed by id: only members of TEAM."""
    values: dict[str, Any] = {"allowed_user_ids": [], "allowed_chat_ids": [TEAM.id]}
    values.update(overrides)
    app: BotUnderTest = make_bot_under_test(**values)
    app.fake.add_chat(TEAM)
    return app


async def state_of(app: BotUnderTest, chat: Chat, user: User) -> str | None:
    context = app.dp.fsm.get_context(app.bot, chat_id=chat.id, user_id=user.id)
    return await context.get_state()


def policy_of(app: BotUnderTest) -> AccessPolicy:
    policy = app.dp.workflow_data["access_policy"]
    assert isinstance(policy, AccessPolicy)
    return policy


# ---------------------------------------------------------------- 1. where membership counts


async def test_membership_does_not_open_other_groups(make_bot_under_test: Any) -> None:
    app = membership_bot(make_bot_under_test)
    app.fake.set_member(TEAM, BORIS)
    other = app.fake.add_chat(OTHER)
    assert await app.say(other, BORIS, "/new", reply=False)
    assert NOT_HERE in app.last_text(other)
    assert NAME_QUESTION not in app.last_text(other).lower()
    assert await state_of(app, other, BORIS) is None
    # In private and in the team group membership still works.
    private = app.fake.add_chat(Chat.private(BORIS))
    assert await app.say(private, BORIS, "/new")
    assert NAME_QUESTION in app.last_text(private).lower()
    assert await app.say(TEAM, BORIS, "/new", reply=False)
    assert NAME_QUESTION in app.last_text(TEAM).lower()


async def test_membership_user_cannot_press_buttons_in_other_groups(
    make_bot_under_test: Any,
) -> None:
    """Boris, allowed by membership, would have a draft in the other group only if he got
    in; a press there is refused before any dialog code runs."""
    app = membership_bot(make_bot_under_test, allowed_user_ids=[ANNA.id])
    app.fake.set_member(TEAM, BORIS)
    other = app.fake.add_chat(OTHER)
    assert await app.say(other, ANNA, "/new", reply=False)
    assert await app.say(other, ANNA, "Обзвон")
    question = app.message_with_button(other, "Пропустить")
    data = question.button("Пропустить")["callback_data"].replace(str(ANNA.id), str(BORIS.id))
    assert await app.deliver(app.fake.press_button(other, BORIS, question.message_id, data))
    assert NOT_HERE in app.fake.callback_answers[-1]["text"]
    assert await state_of(app, other, BORIS) is None


async def test_an_allowed_user_may_work_in_any_group(make_bot_under_test: Any) -> None:
    """ALLOWED_USER_IDS is trust in the person: they post the list in that group themselves."""
    app = membership_bot(make_bot_under_test, allowed_user_ids=[ANNA.id])
    other = app.fake.add_chat(OTHER)
    assert await app.say(other, ANNA, "/new", reply=False)
    assert NAME_QUESTION in app.last_text(other).lower()


async def test_a_stranger_in_another_group_gets_their_id(make_bot_under_test: Any) -> None:
    app = membership_bot(make_bot_under_test)
    other = app.fake.add_chat(OTHER)
    assert await app.say(other, STRANGER, "/new", reply=False)
    assert str(STRANGER.id) in app.last_text(other)
    assert await state_of(app, other, STRANGER) is None


# ---------------------------------------------------------------- 2. membership is checked


async def test_restricted_user_who_left_has_no_access(make_bot_under_test: Any) -> None:
    app = membership_bot(make_bot_under_test)
    app.fake.set_member(TEAM, BORIS, "restricted", is_member=False)
    private = app.fake.add_chat(Chat.private(BORIS))
    assert await app.say(private, BORIS, "/new")
    assert str(BORIS.id) in app.last_text(private)
    assert await state_of(app, private, BORIS) is None


async def test_restricted_user_still_in_the_chat_has_access(make_bot_under_test: Any) -> None:
    app = membership_bot(make_bot_under_test)
    app.fake.set_member(TEAM, BORIS, "restricted", is_member=True)
    private = app.fake.add_chat(Chat.private(BORIS))
    assert await app.say(private, BORIS, "/new")
    assert NAME_QUESTION in app.last_text(private).lower()


async def test_chat_member_update_ends_access_at_once(make_bot_under_test: Any) -> None:
    app = membership_bot(make_bot_under_test)
    assert "chat_member" in app.dp.resolve_used_update_types()
    app.fake.set_member(TEAM, BORIS)
    private = app.fake.add_chat(Chat.private(BORIS))
    assert await app.say(private, BORIS, "/new")
    assert NAME_QUESTION in app.last_text(private).lower()
    # Removed from the team: the cached "yes" must not outlive the update.
    assert await app.deliver(app.fake.change_member(TEAM, BORIS, "kicked"))
    assert await app.say(private, BORIS, "Обзвон")
    assert str(BORIS.id) in app.last_text(private)
    # And back in: at once too (the cached "no" is dropped as well).
    assert await app.deliver(app.fake.change_member(TEAM, BORIS, "member"))
    assert await app.say(private, BORIS, "/new")
    assert NAME_QUESTION in app.last_text(private).lower()


async def test_an_update_of_another_chat_changes_nothing(make_bot_under_test: Any) -> None:
    app = membership_bot(make_bot_under_test)
    app.fake.set_member(TEAM, BORIS)
    private = app.fake.add_chat(Chat.private(BORIS))
    assert await app.say(private, BORIS, "/new")
    assert await app.deliver(app.fake.change_member(app.fake.add_chat(OTHER), BORIS, "left"))
    asked = len(app.fake.calls("getChatMember"))
    assert await app.say(private, BORIS, "/new")
    assert NAME_QUESTION in app.last_text(private).lower()
    assert len(app.fake.calls("getChatMember")) == asked  # still the cached answer


async def test_membership_is_remembered_for_at_most_a_minute(make_bot_under_test: Any) -> None:
    """Without chat_member updates (the bot is not an admin) a removal counts after 60 s."""
    app = membership_bot(make_bot_under_test)
    now = [1000.0]
    cache = policy_of(app).membership
    cache.clock = lambda: now[0]
    app.fake.set_member(TEAM, BORIS)
    private = app.fake.add_chat(Chat.private(BORIS))
    assert await app.say(private, BORIS, "/new")
    app.fake.set_member(TEAM, BORIS, "left")  # no update reaches the bot
    now[0] += 59
    assert await app.say(private, BORIS, "/new")
    assert NAME_QUESTION in app.last_text(private).lower()
    now[0] += 2
    assert await app.say(private, BORIS, "/new")
    assert str(BORIS.id) in app.last_text(private)


def test_membership_cache_is_bounded() -> None:
    policy = AccessPolicy([], [TEAM.id])
    assert policy.membership.ttl <= 60
    assert policy.membership.max_size <= 10_000
    now = [0.0]
    cache = TtlCache(60, 3, clock=lambda: now[0])
    for user_id in range(5):
        cache.put(user_id, True)
    assert len(cache) == 3
    assert cache.get(0) is None and cache.get(1) is None
    assert cache.get(2) is True  # now the most recently used
    cache.put(5, False)
    assert cache.get(3) is None and cache.get(2) is True and cache.get(5) is False
    now[0] = 60
    assert cache.get(2) is None and len(cache) == 2


# ---------------------------------------------------------------- 3. chats as senders


def _as_chat(app: BotUnderTest, chat: Chat, sender: User, sender_chat: Chat, text: str,
             **extra: Any) -> dict:
    fields = {"text": text, "sender_chat": sender_chat.to_dict(), **extra}
    if text.startswith("/"):
        fields["entities"] = [{"type": "bot_command", "offset": 0,
                               "length": len(text.split()[0])}]
    return app.fake.send_message(chat, sender, fields)


@pytest.mark.parametrize("listed", ["team group", "user id"])
async def test_anonymous_admin_is_told_to_turn_off_anonymity(
    make_bot_under_test: Any, listed: str
) -> None:
    if listed == "team group":
        app = membership_bot(make_bot_under_test)
        group = TEAM
    else:
        app = make_bot_under_test(allowed_user_ids=[ANNA.id])
        group = app.fake.add_chat(OTHER)
    assert await app.deliver(_as_chat(app, group, GROUP_ANONYMOUS_BOT, group, "/new"))
    text = app.last_text(group)
    assert text == ANONYMOUS
    assert str(GROUP_ANONYMOUS_BOT.id) not in text
    assert await state_of(app, group, GROUP_ANONYMOUS_BOT) is None
    assert not any(NAME_QUESTION in t.lower() for t in app.texts(group))


async def test_writing_as_a_channel_is_not_a_user(make_bot_under_test: Any) -> None:
    app = membership_bot(make_bot_under_test)
    assert await app.deliver(_as_chat(app, TEAM, CHANNEL_BOT, CHANNEL, "/new"))
    assert "от имени канала" in app.last_text(TEAM)
    assert str(CHANNEL_BOT.id) not in app.last_text(TEAM)
    assert await state_of(app, TEAM, CHANNEL_BOT) is None


async def test_linked_channel_forward_is_ignored(make_bot_under_test: Any) -> None:
    app = membership_bot(make_bot_under_test)
    update = _as_chat(app, TEAM, TELEGRAM, CHANNEL, "/new", is_automatic_forward=True)
    assert await app.deliver(update)
    assert app.fake.messages(TEAM.id) == []
    assert await state_of(app, TEAM, TELEGRAM) is None


async def test_anonymous_admin_answer_to_a_question_does_not_reach_a_draft(
    make_bot_under_test: Any,
) -> None:
    """A reply "as the group" to Anna's question is nobody's answer, Anna's draft included."""
    app = membership_bot(make_bot_under_test)
    assert await app.say(TEAM, ANNA, "/new", reply=False)
    question = app.fake.last_message(TEAM.id)
    update = app.fake.send_message(
        TEAM, GROUP_ANONYMOUS_BOT,
        {"text": "Чужое название", "sender_chat": TEAM.to_dict()},
        reply_to=question.message_id,
    )
    assert await app.deliver(update)
    assert app.fake.last_message(TEAM.id).message_id == question.message_id  # no answer
    assert await state_of(app, TEAM, GROUP_ANONYMOUS_BOT) is None
    context = app.dp.fsm.get_context(app.bot, chat_id=TEAM.id, user_id=ANNA.id)
    assert "name" not in await context.get_data()


async def test_a_press_by_a_placeholder_id_is_refused(make_bot_under_test: Any) -> None:
    app = membership_bot(make_bot_under_test)
    assert await app.say(TEAM, ANNA, "/new", reply=False)
    assert await app.say(TEAM, ANNA, "Обзвон")
    question = app.message_with_button(TEAM, "Пропустить")
    data = question.button("Пропустить")["callback_data"].replace(
        str(ANNA.id), str(GROUP_ANONYMOUS_BOT.id))
    update = app.fake.press_button(TEAM, GROUP_ANONYMOUS_BOT, question.message_id, data)
    assert await app.deliver(update)
    answer = app.fake.callback_answers[-1]
    assert answer["text"] == ANONYMOUS and answer.get("show_alert") is True
    assert await state_of(app, TEAM, GROUP_ANONYMOUS_BOT) is None
    assert app.fake.message(TEAM.id, question.message_id).buttons


async def test_a_user_listed_in_allowed_chat_ids_keeps_private_access(
    make_bot_under_test: Any,
) -> None:
    """A private chat's id is its user's id: listing it there has always let them in."""
    app = membership_bot(make_bot_under_test, allowed_chat_ids=[TEAM.id, BORIS.id])
    private = app.fake.add_chat(Chat.private(BORIS))
    assert await app.say(private, BORIS, "/new")
    assert NAME_QUESTION in app.last_text(private).lower()
