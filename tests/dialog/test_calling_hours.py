"""Local calling hours through the real Dispatcher: the zone spread in the import report
and the summary, warnings on a working day and on a day off, the strict check, and the
split by zones with one campaign rejected by the fake API and retried alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.calling.registry_files import write_registry
from tests.dialog.conftest import ANNA, BotUnderTest
from tests.dialog.flows import CREATE, SKIP, SUMMARY
from tests.fakes.telegram_api import Chat

SPLIT = "🕐 Разделить по часовым поясам"
CREATE_SET = "✅ Создать обзвоны"
CREATE_MISSING = "🔁 Создать недостающие"

# Five zones and an unknown: a landline in the registry (UTC+5), a landline only
# libphonenumber knows (Kaliningrad, UTC+2), mobile numbers of the registry (UTC+10,
# UTC+7), a zone column (МСК = UTC+3), one the registry cannot place (unknown).
FIVE_ZONES_CSV = (
    "Телефон;Часовой пояс\n"
    "+7 351 212-34-56;\n"
    "8 (4012) 12-34-56;\n"
    "+7 914 000 00 01;\n"
    "+7 922 123 45 67;МСК\n"
    "+7 923 123 45 67;\n"
    "+7 958 000 00 02;\n"
).encode()

# Three groups: UTC+5 (three numbers), UTC+3 (two, by the column), UTC+10 (one).
THREE_ZONES_CSV = (
    "Телефон;Часовой пояс\n"
    "+7 351 212-34-56;\n"
    "+7 351 212-34-57;\n"
    "+7 343 312-34-58;\n"
    "+7 922 123 45 67;UTC+3\n"
    "+7 922 123 45 68;МСК\n"
    "+7 914 000 00 01;\n"
).encode()


@pytest.fixture
def zoned_app(make_bot_under_test, tmp_path: Path):
    def make(**overrides) -> BotUnderTest:
        plan = write_registry(tmp_path / "plan")
        return make_bot_under_test(numbering_plan_dir=plan, **overrides)

    return make


async def walk(app: BotUnderTest, chat: Chat, *, date: str, window: str, csv: bytes,
               name: str = "Долги декабрь") -> None:
    user = ANNA
    assert await app.say(chat, user, "/new", reply=False)
    assert await app.say(chat, user, name)
    assert await app.press(chat, user, SKIP)
    assert await app.say(chat, user, date)
    assert await app.say(chat, user, window)
    assert await app.say(chat, user, "1")  # one attempt: no interval asked
    assert await app.upload(chat, user, csv, "list.csv")
    assert SUMMARY in app.last_text(chat), app.last_text(chat)


async def tap(app: BotUnderTest, chat: Chat, message_id: int, data: str) -> bool:
    """A press on a button as a client still showing it sends it (taken off since)."""
    return await app.deliver(app.fake.press_button(chat, ANNA, message_id, data))


def report_text(app: BotUnderTest, chat: Chat) -> str:
    return next(t for t in reversed(app.texts(chat)) if "Часовые пояса:" in t
                and SUMMARY not in t)


async def test_spread_and_warnings_on_a_working_day(zoned_app) -> None:
    app = zoned_app()
    chat = Chat.private(ANNA)
    # Tuesday 1 December, 08:00-19:00 in Yekaterinburg (UTC+5).
    await walk(app, chat, date="01.12.2026", window="8-19", csv=FIVE_ZONES_CSV)
    report = report_text(app, chat)
    assert ("Часовые пояса: UTC+2 — 17 %, UTC+3 — 17 %, UTC+5 — 17 %, UTC+7 — 17 %, "
            "UTC+10 — 17 %, неизвестно — 17 %") in report
    assert "Реестр нумерации от" in report
    summary = app.last_text(chat)
    assert "Часовые пояса: UTC+2 — 17 %" in summary
    # UTC+2 gets 05:00-16:00, UTC+3 06:00-17:00, UTC+10 13:00-24:00: outside 08-22.
    assert "UTC+2: номеров: 1, звонки придутся на 05:00–16:00" in summary
    assert "UTC+3: номеров: 1, звонки придутся на 06:00–17:00" in summary
    assert "UTC+10: номеров: 1, звонки придутся на 13:00–24:00" in summary
    assert "в этот рабочий день разрешено 08:00–22:00" in summary
    # 08-19 at UTC+5 and 10-21 at UTC+7 are inside a working day's hours.
    assert "UTC+5: номеров" not in summary and "UTC+7: номеров" not in summary
    assert "Пояс не определён у номеров: 1; для них берётся пояс колл-центра." in summary
    assert app.message_with_button(chat, SPLIT)


async def test_warnings_on_a_day_off_of_the_production_calendar(zoned_app) -> None:
    app = zoned_app()
    chat = Chat.private(ANNA)
    # Thursday 31 December 2026 is a day off (moved from 3 January): 09:00-20:00.
    await walk(app, chat, date="31.12.2026", window="8-19", csv=FIVE_ZONES_CSV)
    summary = app.last_text(chat)
    assert "UTC+5: номеров: 1, звонки придутся на 08:00–19:00" in summary
    assert "UTC+7: номеров: 1, звонки придутся на 10:00–21:00" in summary
    assert "в этот выходной разрешено 09:00–20:00" in summary
    # Creating anyway is allowed under the default «warn»: one campaign.
    assert await app.press(chat, ANNA, CREATE)
    await app.settle()
    assert len(app.api.campaign_requests) == 1
    assert "Обзвон №" in app.last_text(chat)


async def test_strict_check_refuses_one_campaign_and_offers_the_split(zoned_app) -> None:
    app = zoned_app(calling_hours_check="strict")
    chat = Chat.private(ANNA)
    await walk(app, chat, date="01.12.2026", window="9-18", csv=THREE_ZONES_CSV)
    assert await app.press(chat, ANNA, CREATE)
    await app.settle()
    assert app.api.campaign_requests == []
    text = app.last_text(chat)
    assert "Вне разрешённых часов звонков: UTC+3, UTC+10." in text
    assert app.message_with_button(chat, SPLIT)


async def test_split_into_three_one_rejected_then_retried_alone(zoned_app) -> None:
    app = zoned_app()
    chat = Chat.private(ANNA)
    await walk(app, chat, date="01.12.2026", window="9-18", csv=THREE_ZONES_CSV)
    assert await app.press(chat, ANNA, SPLIT)
    preview = app.last_text(chat)
    assert "«Долги декабрь · UTC+5»: номеров: 3, 09:00–18:00" in preview
    assert "«Долги декабрь · UTC+3»: номеров: 2, 11:00–20:00" in preview
    assert "«Долги декабрь · UTC+10»: номеров: 1, 04:00–13:00" in preview
    # The first two pass, the third is refused by the API.
    app.api.fail_next(times=2)
    app.api.fail_next(status=503, json={"message": "overloaded"})
    confirm = app.message_with_button(chat, CREATE_SET)
    confirm_data = confirm.button(CREATE_SET)["callback_data"]
    assert await app.press(chat, ANNA, CREATE_SET)
    # A second tap on the same confirmation (a client that still shows it), while the set
    # is in flight: nothing more is sent.
    assert await tap(app, chat, confirm.message_id, confirm_data)
    await app.settle()
    bodies = [r.json for r in app.api.campaign_requests]
    assert [b["campaign"]["name"] for b in bodies] == [
        "Долги декабрь · UTC+5", "Долги декабрь · UTC+3", "Долги декабрь · UTC+10"
    ]
    assert [(b["campaign"]["schedule"]["start_time"], b["campaign"]["schedule"]["end_time"])
            for b in bodies] == [("09:00", "18:00"), ("11:00", "20:00"), ("04:00", "13:00")]
    assert [sorted(p["phone"] for p in b["phones"]) for b in bodies] == [
        ["+73433123458", "+73512123456", "+73512123457"],
        ["+79221234567", "+79221234568"],
        ["+79140000001"],
    ]
    ids = sorted(app.api.created)
    assert len(ids) == 2
    status = app.last_text(chat)
    assert "Создано обзвонов: 2 из 3" in status
    assert f"«Долги декабрь · UTC+5» (3): ID {ids[0]}" in status
    assert f"«Долги декабрь · UTC+3» (2): ID {ids[1]}" in status
    assert "«Долги декабрь · UTC+10» (1): отклонён: overloaded" in status

    # The retry sends only the missing one.
    retry = app.message_with_button(chat, CREATE_MISSING)
    retry_data = retry.button(CREATE_MISSING)["callback_data"]
    assert await app.press(chat, ANNA, CREATE_MISSING, message=retry)
    await app.settle()
    assert len(app.api.campaign_requests) == 4
    last = app.api.campaign_requests[-1].json
    assert last["campaign"]["name"] == "Долги декабрь · UTC+10"
    assert len(app.api.created) == 3
    card = app.last_text(chat)
    assert "✅ Создано обзвонов: 3" in card
    for campaign_id in sorted(app.api.created):
        assert f"ID {campaign_id}" in card
    # The set is done and its draft gone: a late tap on the old button creates nothing.
    assert await tap(app, chat, retry.message_id, retry_data)
    assert await tap(app, chat, confirm.message_id, confirm_data)
    await app.settle()
    assert len(app.api.campaign_requests) == 4


async def test_a_split_cut_by_a_dead_sender_resends_only_what_cannot_exist(zoned_app) -> None:
    """The sender died after the first campaign was created and while the second's POST
    was out: that one may exist (never resent), the third was not sent (sent on retry)."""
    from aiogram.fsm.storage.base import StorageKey

    app = zoned_app()
    chat = Chat.private(ANNA)
    await walk(app, chat, date="01.12.2026", window="9-18", csv=THREE_ZONES_CSV)
    assert await app.press(chat, ANNA, SPLIT)
    key = StorageKey(bot_id=app.bot.id, chat_id=chat.id, user_id=ANNA.id)
    data = await app.backend.storage.get_data(key)
    parts = data["split"]
    assert [p["status"] for p in parts] == ["pending"] * 3
    parts[0].update(status="created", id=900)
    parts[1]["status"] = "sending"
    data.update(split=parts, submit="in_flight", submit_started=1.0,
                submit_holder="host-1-dead", submit_key="campaign-bot:inflight:dead")
    await app.backend.storage.set_data(key, data)

    # Any tap finds the dead submission: the set's state is told, nothing is sent.
    assert await app.press(chat, ANNA, CREATE_SET)
    await app.settle()
    assert app.api.campaign_requests == []
    text = app.last_text(chat)
    assert "Бот перезапустился во время создания обзвонов" in text
    assert "«Долги декабрь · UTC+5» (3): ID 900" in text
    assert "«Долги декабрь · UTC+3» (2): ответа нет, обзвон МОГ создаться" in text
    assert "«Долги декабрь · UTC+10» (1): ещё не отправлен" in text

    assert await app.press(chat, ANNA, CREATE_MISSING)
    await app.settle()
    assert [r.json["campaign"]["name"] for r in app.api.campaign_requests] == [
        "Долги декабрь · UTC+10"
    ]
    final = app.last_text(chat)
    assert "Создано обзвонов: 2 из 3" in final
    assert "ID 900" in final and "МОГ создаться" in final
    # Only the part that may exist is left: no button sends anything any more.
    with pytest.raises(LookupError):
        app.message_with_button(chat, CREATE_MISSING)


async def test_a_scenario_preset_turns_the_check_off(zoned_app, tmp_path: Path) -> None:
    presets = tmp_path / "presets.toml"
    presets.write_text(
        '[[scenarios]]\ntitle = "Оповещение сотрудников"\nproject_id = 1\n'
        'start_block_id = 10\ncalling_hours = "off"\n\n'
        '[[callers]]\ntitle = "Основной"\nphone_id = 5\n',
        encoding="utf-8",
    )
    app = zoned_app(presets_file=presets)
    chat = Chat.private(ANNA)
    await walk(app, chat, date="01.12.2026", window="8-19", csv=FIVE_ZONES_CSV)
    summary = app.last_text(chat)
    assert "Часовые пояса: UTC+2 — 17 %" in summary  # the spread is still told
    assert "звонки придутся" not in summary and "Пояс не определён" not in summary
    with pytest.raises(LookupError):
        app.message_with_button(chat, SPLIT)


async def test_typed_words_split_and_retry_only_the_missing(zoned_app) -> None:
    app = zoned_app()
    chat = Chat.private(ANNA)
    await walk(app, chat, date="01.12.2026", window="9-18", csv=THREE_ZONES_CSV)
    assert await app.say(chat, ANNA, "разделить")
    assert "Разделение по часовым поясам, обзвонов: 3" in app.last_text(chat)
    app.api.fail_next(status=500, json={"message": "boom"})
    assert await app.say(chat, ANNA, "создать")
    await app.settle()
    assert len(app.api.campaign_requests) == 3 and len(app.api.created) == 2
    assert "Создано обзвонов: 2 из 3" in app.last_text(chat)
    # A field name now does not reopen the draft: the set's state is shown again.
    assert await app.say(chat, ANNA, "время")
    assert "Создано обзвонов: 2 из 3" in app.last_text(chat)
    # «повторить» sends only the refused one, never the whole list once more.
    assert await app.say(chat, ANNA, "повторить")
    await app.settle()
    assert [r.json["campaign"]["name"] for r in app.api.campaign_requests[3:]] == [
        "Долги декабрь · UTC+5"
    ]
    assert "✅ Создано обзвонов: 3" in app.last_text(chat)


async def test_unknown_numbers_left_out_of_a_split_when_set_so(zoned_app) -> None:
    app = zoned_app(calling_unknown_zone="exclude")
    chat = Chat.private(ANNA)
    await walk(app, chat, date="01.12.2026", window="9-18", csv=FIVE_ZONES_CSV)
    assert "при разделении они не войдут ни в один обзвон" in app.last_text(chat)
    assert await app.press(chat, ANNA, SPLIT)
    preview = app.last_text(chat)
    assert "Разделение по часовым поясам, обзвонов: 5" in preview
    assert "пояс неизвестен" not in preview
    assert await app.press(chat, ANNA, CREATE_SET)
    await app.settle()
    sent = sorted(p["phone"] for r in app.api.campaign_requests for p in r.json["phones"])
    assert len(app.api.campaign_requests) == 5 and "+79580000002" not in sent and len(sent) == 5


async def test_split_in_a_group_and_another_supervisor_cannot_press_it(zoned_app) -> None:
    from tests.dialog.conftest import BORIS

    app = zoned_app()
    group = app.fake.add_chat(Chat.group(78, "Операторы"))
    user = ANNA
    assert await app.say(group, user, "/new", reply=False)
    assert await app.say(group, user, "Долги декабрь")
    assert await app.press(group, user, SKIP)
    assert await app.say(group, user, "01.12.2026")
    assert await app.say(group, user, "9-18")
    assert await app.say(group, user, "1")
    assert await app.upload(group, user, THREE_ZONES_CSV, "list.csv")
    assert SUMMARY in app.last_text(group)
    assert await app.press(group, BORIS, SPLIT)  # someone else's button: refused
    assert "Разделение по часовым поясам" not in app.last_text(group)
    assert await app.press(group, user, SPLIT)
    assert "Разделение по часовым поясам, обзвонов: 3" in app.last_text(group)
    assert await app.press(group, BORIS, CREATE_SET)
    await app.settle()
    assert app.api.campaign_requests == []
    assert await app.press(group, user, CREATE_SET)
    await app.settle()
    assert len(app.api.campaign_requests) == 3
    card = app.last_text(group)
    assert "✅ Создано обзвонов: 3" in card and "Анна" in card
