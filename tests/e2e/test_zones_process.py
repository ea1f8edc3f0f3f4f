"""End to end, the real `python -m bot` with a numbering-plan registry (NUMBERING_PLAN_DIR):
local calling hours as a supervisor meets them. A CSV whose numbers get their zones from
each source (the registry, libphonenumber's landline region, a zone column, a place
column, none), the zone spread and the registry's date in the import report, the
summary's warnings on a working day and on a day off, then the split by zones with one
part refused by the fake API and the retry sending only that one.

tests/dialog/test_calling_hours.py covers the same feature in process on a frozen clock;
here the zones are computed in the ingest worker the process forks (its own copy of the
registry), the draft goes through the real storage, the POSTs through the real client.
The clock is real, so the campaign dates are computed: the next working day and the
next day off of the production calendar (the `holidays` package, as the bot uses).
"""

from __future__ import annotations

import ast
import asyncio
import datetime as dt
import os
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest

from tests.calling.registry_files import write_registry
from tests.e2e.conftest import (
    ANNA,
    TOKEN,
    BotProcess,
    Supervisor,
    assert_clean_log,
    has_button,
)
from tests.fakes.campaign_api import FakeCampaignApi
from tests.fakes.telegram_api import BotMessage, Chat, FakeTelegram

pytestmark = pytest.mark.e2e

CENTRE = "Asia/Yekaterinburg"  # UTC+5, as the in-process tests
SKIP = "Пропустить"
CREATE = "✅ Создать"
SPLIT = "🕐 Разделить по часовым поясам"
CREATE_SET = "✅ Создать обзвоны"
CREATE_MISSING = "🔁 Создать недостающие"
SUMMARY = "Проверьте обзвон"
NAME = "Долги декабрь"
# The registry files' date, set on them: the report says it, whatever day the test runs.
PLAN_DATE = dt.date(2026, 11, 15)

# One number per source of its zone (docs/calling-hours.md, "A number's zone"):
#   914 000 00 01/02  mobile, the registry: Приморский край, UTC+10 (two: the biggest group)
#   4012 12-34-56     landline only libphonenumber places: Калининград, UTC+2
#   922 123 45 67     the «Часовой пояс» column: МСК = UTC+3
#   900 000 00 03     the «Регион» column, Новосибирская обл., UTC+7 (the registry says
#                     Краснодарский край, UTC+3: the file wins)
#   958 000 00 02     none: the registry's range spans all of Russia
ZONES_CSV = (
    "Телефон;Часовой пояс;Регион\n"
    "+7 914 000 00 01;;\n"
    "+7 914 000 00 02;;\n"
    "8 (4012) 12-34-56;;\n"
    "+7 922 123 45 67;МСК;\n"
    "+7 900 000 00 03;;Новосибирская обл.\n"
    "+7 958 000 00 02;;\n"
).encode()
PHONES = ["+79140000001", "+79140000002", "+74012123456", "+79221234567", "+79000000003",
          "+79580000002"]


def _future_day(working: bool) -> dt.date:
    """The first day after today (the call centre's today) that is, or is not, a working
    day of the Russian production calendar."""
    day = dt.datetime.now(ZoneInfo(CENTRE)).date()
    for _ in range(60):
        day += dt.timedelta(days=1)
        if holidays.country_holidays("RU", years=[day.year]).is_working_day(day) == working:
            return day
    raise AssertionError("no such day within 60 days")


@pytest.fixture
def plan_dir(tmp_path: Path) -> Path:
    plan = write_registry(tmp_path / "plan")
    stamp = dt.datetime.combine(PLAN_DATE, dt.time(12), dt.UTC).timestamp()
    for path in plan.iterdir():
        os.utime(path, (stamp, stamp))
    return plan


def _texts(fake: FakeTelegram, chat: Chat) -> list[str]:
    return [m.text or m.caption or "" for m in fake.messages(chat.id)]


async def walk_and_upload(s: Supervisor, day: dt.date, window: str) -> BotMessage:
    """/new -> name -> skip description -> a typed date -> window -> 1 attempt -> the CSV;
    returns the summary."""
    await s.say("/new", "Как назовём обзвон", reply=False)
    await s.say(NAME, has_button(SKIP))
    await s.press(SKIP, has_button("Завтра"))
    await s.say(day.strftime("%d.%m.%Y"), "В какие часы звонить")
    await s.say(window, "Сколько попыток")
    await s.say("1", "Пришлите список")  # one attempt: no interval asked
    return await s.upload(ZONES_CSV, "list.csv", has_button(CREATE))


async def test_zones_report_warnings_and_a_split_with_one_part_retried(
    fake: FakeTelegram, api: FakeCampaignApi, start_bot: Any, plan_dir: Path
) -> None:
    day = _future_day(working=True)
    bot: BotProcess = await start_bot(NUMBERING_PLAN_DIR=str(plan_dir), TIMEZONE=CENTRE)
    anna = Supervisor(fake, fake.add_chat(Chat.private(ANNA)), ANNA)
    try:
        summary = await walk_and_upload(anna, day, "9-18")
        text = summary.text or ""
        assert SUMMARY in text and "Номеров: 6" in text, text

        # The import report (its own message): the spread, biggest first, unknown last.
        spread = ("Часовые пояса: UTC+10 — 33 %, UTC+2 — 17 %, UTC+3 — 17 %, "
                  "UTC+7 — 17 %, неизвестно — 17 %")
        reports = [t for t in _texts(fake, anna.chat) if spread in t and SUMMARY not in t]
        assert reports, _texts(fake, anna.chat)
        assert f"Реестр нумерации от {PLAN_DATE:%d.%m.%Y}" in reports[-1]

        # The summary: 09:00-18:00 at UTC+5 lands at 14-23 at UTC+10, 06-15 at UTC+2,
        # 07-16 at UTC+3, all outside a working day's 08-22; 11-20 at UTC+7 is inside.
        assert spread in text
        assert "UTC+10: номеров: 2, звонки придутся на 14:00–23:00" in text
        assert "UTC+2: номеров: 1, звонки придутся на 06:00–15:00" in text
        assert "UTC+3: номеров: 1, звонки придутся на 07:00–16:00" in text
        assert "в этот рабочий день разрешено 08:00–22:00" in text
        assert "UTC+7: номеров" not in text
        assert "Пояс не определён у номеров: 1; для них берётся пояс колл-центра." in text
        assert api.campaign_requests == []

        # The split: the window read as each group's local 09-18, shifted into UTC+5.
        preview = await anna.press(SPLIT, "Разделение по часовым поясам, обзвонов: 5")
        names = [f"{NAME} · {zone}"
                 for zone in ("UTC+10", "UTC+2", "UTC+3", "UTC+7", "пояс неизвестен")]
        windows = [("04:00", "13:00"), ("12:00", "21:00"), ("11:00", "20:00"),
                   ("07:00", "16:00"), ("09:00", "18:00")]
        counts = [2, 1, 1, 1, 1]
        for name, count, (start, end) in zip(names, counts, windows, strict=True):
            assert f"«{name}»: номеров: {count}, {start}–{end}" in (preview.text or "")

        # The parts go one after another, biggest group first: the third (UTC+3) refused.
        api.fail_next(times=2)  # no fault: answered normally
        api.fail_next(status=422, json={"message": "лимит обзвонов на день"})
        status = await anna.press(CREATE_SET, "Создано обзвонов: 4 из 5", timeout=20)
        bodies = [r.json for r in api.campaign_requests]
        assert [b["campaign"]["name"] for b in bodies] == names
        for body, (start, end) in zip(bodies, windows, strict=True):
            schedule = body["campaign"]["schedule"]
            assert (schedule["date"], schedule["start_time"], schedule["end_time"]) == (
                day.isoformat(), start, end)
        assert [sorted(p["phone"] for p in b["phones"]) for b in bodies] == [
            ["+79140000001", "+79140000002"], ["+74012123456"], ["+79221234567"],
            ["+79000000003"], ["+79580000002"],
        ]
        ids = {body["campaign"]["name"]: cid for cid, body in api.created.items()}
        assert sorted(ids) == sorted(n for i, n in enumerate(names) if i != 2)
        text = status.text or ""
        for index in (0, 1, 3, 4):
            assert f"«{names[index]}» ({counts[index]}): ID {ids[names[index]]}" in text
        assert f"«{names[2]}» (1): отклонён: лимит обзвонов на день" in text

        # The retry sends the refused part alone: parts + 1 POSTs in all.
        done = await anna.press(CREATE_MISSING, "✅ Создано обзвонов: 5", timeout=20)
        await asyncio.sleep(0.5)  # a stray resend would have arrived by now
        assert len(api.campaign_requests) == len(names) + 1
        last = api.campaign_requests[-1].json
        assert last["campaign"]["name"] == names[2]
        assert (last["campaign"]["schedule"]["start_time"],
                last["campaign"]["schedule"]["end_time"]) == windows[2]
        assert [p["phone"] for p in last["phones"]] == ["+79221234567"]
        assert len(api.created) == len(names)
        for campaign_id in api.created:
            assert f"ID {campaign_id}" in (done.text or "")
    finally:
        code = await bot.stop()
    assert code == 0, bot.log[-3000:]
    # Every source of a zone was used, in the worker the process forked for the file.
    [sources] = re.findall(r"zones dialog=\w+ groups=5 sources=(\{.*\})", bot.log)
    assert ast.literal_eval(sources) == {"registry": 2, "landline": 1, "column": 2,
                                         "unknown": 1}
    assert_clean_log(bot.log, TOKEN, PHONES)


async def test_warnings_on_a_day_off(
    fake: FakeTelegram, api: FakeCampaignApi, start_bot: Any, plan_dir: Path
) -> None:
    """A day off allows 09:00-20:00 only: 08-19 at UTC+5 is early there, 10-21 at UTC+7
    late; creating anyway (the default «warn») sends one campaign."""
    day = _future_day(working=False)
    bot: BotProcess = await start_bot(NUMBERING_PLAN_DIR=str(plan_dir), TIMEZONE=CENTRE)
    anna = Supervisor(fake, fake.add_chat(Chat.private(ANNA)), ANNA)
    try:
        summary = await walk_and_upload(anna, day, "8-19")
        text = summary.text or ""
        assert "UTC+7: номеров: 1, звонки придутся на 10:00–21:00" in text
        assert "в этот выходной разрешено 09:00–20:00" in text
        # The unknown number is judged as the centre's zone: 08:00 is before 09:00.
        assert "Пояс не определён у номеров: 1" in text
        assert has_button(SPLIT)(summary)
        await anna.press(CREATE, "Обзвон №", timeout=20)
        [request] = api.campaign_requests
        assert request.json["campaign"]["name"] == NAME
        assert request.json["campaign"]["schedule"]["date"] == day.isoformat()
        assert len(request.json["phones"]) == len(PHONES)
    finally:
        code = await bot.stop()
    assert code == 0, bot.log[-3000:]
    assert_clean_log(bot.log, TOKEN, PHONES)
