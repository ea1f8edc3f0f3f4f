"""End to end: exports as CRMs and phones write them (Bitrix24's HTML "Excel" file, a
phone's vCard) uploaded to the real `python -m bot` process, read by its worker, and the
import report and the campaign's phones[] as the supervisor expects them."""

from __future__ import annotations

from typing import Any

import pytest

from tests.dialog.test_export_uploads import BITRIX_XLS, CONTACTS_VCF
from tests.e2e.conftest import ANNA, TOKEN, BotProcess, Supervisor, assert_clean_log, has_button
from tests.e2e.test_bot_process import CREATE, CREATED, walk_to_phones
from tests.fakes.campaign_api import FakeCampaignApi
from tests.fakes.telegram_api import Chat, FakeTelegram

pytestmark = pytest.mark.e2e


def _texts(fake: FakeTelegram, chat: Chat) -> str:
    return "\n".join(m.text or m.caption or "" for m in fake.messages(chat.id))


async def test_html_export_and_vcard_through_the_bot_process(
    fake: FakeTelegram, api: FakeCampaignApi, start_bot: Any
) -> None:
    bot: BotProcess = await start_bot()
    anna = Supervisor(fake, fake.add_chat(Chat.private(ANNA)), ANNA)
    try:
        await walk_to_phones(anna, name="Битрикс", attempts="1", window="9-18")
        await anna.upload(BITRIX_XLS, "Контакты.xls", has_button(CREATE), timeout=20)
        texts = _texts(fake, anna.chat)
        assert "принято: 3" in texts
        assert "«Рабочий телефон»: 1" in texts and "«Мобильный телефон»: 2" in texts
        # The rejected-rows file, built by the worker, with its caption.
        [report] = [m for m in fake.messages(anna.chat.id) if m.document]
        assert report.document["file_name"].endswith(".xlsx")
        assert "Отклонённые строки: 1" in (report.caption or "")
        await anna.press(CREATE, CREATED)
        [html_request] = api.campaign_requests
        assert html_request.json["phones"] == [
            {"phone": "+79161234567", "add_data": {"Имя": "Анна", "Компания": "ООО «Ромашка»"}},
            {"phone": "+79167654321", "add_data": {"Имя": "Борис"}},
            {"phone": "+73512470000", "add_data": {"Имя": "Вера", "Компания": "ИП"}},
        ]

        await walk_to_phones(anna, name="Контакты телефона", attempts="1", window="10-19")
        mark = max(m.message_id for m in fake.messages(anna.chat.id))
        await anna.upload(CONTACTS_VCF, "contacts.vcf", has_button(CREATE), timeout=20)
        later = "\n".join(
            m.text or "" for m in fake.messages(anna.chat.id) if m.message_id > mark
        )
        assert "принято: 2" in later
        # The first campaign's card also says «created»: wait for a newer message.
        await anna.press(CREATE, lambda m: m.message_id > mark and CREATED in (m.text or ""))
        _html, vcf_request = api.campaign_requests
        assert vcf_request.json["phones"] == [
            {"phone": "+79161234567", "add_data": {"Имя": "Иван"}},
            {"phone": "+79221112233", "add_data": {"Имя": "Мария"}},
        ]
    finally:
        code = await bot.stop()
    assert code == 0, bot.log[-3000:]
    log = bot.log
    assert log.count("list read download_ms=") == 2 and log.count("campaign created id=") == 2
    assert_clean_log(
        log, TOKEN, ["+79161234567", "+79167654321", "+73512470000", "+79221112233"]
    )
