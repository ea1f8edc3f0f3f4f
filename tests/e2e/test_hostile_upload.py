"""End to end: a 1.6 KB spreadsheet whose grid is huge is refused by the running bot, which
lives on (same pid) and reads the next, good, file.

Before the fix the worker aborted on it, the bot parsed it again in its own process and
aborted too (exit -6): every supervisor's dialog was gone.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.dialog.flows import contacts_xlsx
from tests.e2e.conftest import ANNA, BotProcess, Supervisor, has_button
from tests.e2e.test_bot_process import CREATE, walk_to_phones
from tests.fakes.telegram_api import Chat, FakeTelegram
from tests.phones.sparse import sparse_xlsx

pytestmark = pytest.mark.e2e


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
# The far cell written with a line break for the space: the reader places it all the same.
_LINE_BREAK_BOMB = sparse_xlsx([], sheet_xml=(
    f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{_MAIN}"><sheetData>'
    '<row r="1"><c r="A1" t="inlineStr"><is><t>Телефон</t></is></c></row>'
    '<row r="2"><c r="A2"><v>79161234567</v></c><c\nr="XFD1048576"><v>1</v></c></row>'
    "</sheetData></worksheet>"
))


@pytest.mark.parametrize(
    "bomb",
    [
        sparse_xlsx([("A1", "Телефон"), ("A2", 79161234567), ("XFD1048576", 1)]),
        _LINE_BREAK_BOMB,
    ],
    ids=["far-cell", "far-cell-after-a-line-break"],
)
async def test_a_sparse_xlsx_is_refused_and_the_bot_lives_on(
    fake: FakeTelegram, start_bot: Any, bomb: bytes
) -> None:
    bot: BotProcess = await start_bot()
    pid = bot.process.pid
    anna = Supervisor(fake, fake.add_chat(Chat.private(ANNA)), ANNA)
    await walk_to_phones(anna, name="Разреженный", attempts="1", window="9-18")

    assert len(bomb) < 2000
    refusal = await anna.upload(bomb, "Клиенты.xlsx", lambda m: "❗" in (m.text or ""))
    assert "Слишком много строк" in refusal.text
    # The same question again, in the same live process.
    await anna.wait_text("Пришлите список")
    assert bot.process.returncode is None and bot.process.pid == pid

    summary = await anna.upload(contacts_xlsx(), "Клиенты.xlsx", has_button(CREATE))
    assert "Номеров: 2" in summary.text
    assert bot.process.returncode is None
