"""End to end: a CSV read by the columnar path in the worker of `python -m bot` (plain-digit
cells beside formatted ones, repeats, invalid numbers, add_data cells with spaces around
them, a text that JSON escapes, no quote character) gives the report and the POST body
the plain reference reading gives, row for row."""

from __future__ import annotations

import random
from typing import Any

import pytest

from bot.phones import IngestLimits, ingest_bytes
from bot.phones.readers import read_frame
from tests.e2e.conftest import ANNA, TOKEN, BotProcess, Supervisor, assert_clean_log, has_button
from tests.e2e.test_bot_process import CREATE, CREATED, walk_to_phones
from tests.fakes.campaign_api import FakeCampaignApi
from tests.fakes.telegram_api import Chat, FakeTelegram

pytestmark = pytest.mark.e2e


def _mixed_csv(rows: int = 900, seed: int = 3) -> bytes:
    rng = random.Random(seed)
    lines = ["Телефон;Имя;Комментарий"]
    seen: list[str] = []
    for i in range(rows):
        nat = f"9{rng.randrange(10**9):09d}"
        form = rng.random()
        if seen and form < 0.05:
            phone = rng.choice(seen)  # a repeat
        elif form < 0.08:
            phone = f"7000{rng.randrange(10**7):07d}"  # no such range
        elif form < 0.10:
            phone = "-8" + nat  # an integer to polars, not a plain number
        elif form < 0.25:
            phone = f"8 ({nat[:3]}) {nat[3:6]}-{nat[6:8]}-{nat[8:]}"
        else:
            phone = rng.choice(["7", "8", "+7", ""]) + nat
        seen.append(phone)
        comment = rng.choice(["", "перезвонить", "долг\\пеня", " утром "])
        lines.append(f"{phone};  Клиент {i % 40} ;{comment}")
    data = ("\n".join(lines) + "\n").encode()
    assert b'"' not in data
    return data


async def test_a_mixed_csv_reads_in_the_bot_as_the_plain_reference_reads_it(
    fake: FakeTelegram, api: FakeCampaignApi, start_bot: Any
) -> None:
    data = _mixed_csv()
    assert read_frame(data, ";", IngestLimits()) is not None  # polars' reader takes it
    reference = ingest_bytes(data, "list.csv", columnar=False)
    assert reference.duplicates and reference.rejected_total and reference.accepted < 1000
    bot: BotProcess = await start_bot()
    anna = Supervisor(fake, fake.add_chat(Chat.private(ANNA)), ANNA)
    try:
        await walk_to_phones(anna, name="Смешанный", attempts="1", window="9-18")
        summary = await anna.upload(data, "Клиенты.csv", has_button(CREATE))
        assert f"Номеров: {reference.accepted}" in summary.text
        texts = "\n".join(m.text or m.caption or "" for m in fake.messages(anna.chat.id))
        assert f"принято: {reference.accepted}" in texts
        assert [m for m in fake.messages(anna.chat.id) if m.document]  # rejected rows
        await anna.press(CREATE, CREATED)
        [request] = api.campaign_requests
        assert request.json["phones"] == reference.phones.records()
    finally:
        code = await bot.stop()
    assert code == 0, bot.log[-3000:]
    assert_clean_log(bot.log, TOKEN, reference.phones.phones[:20])
