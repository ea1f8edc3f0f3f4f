"""CRM and phone exports uploaded at the list step, through the real Dispatcher and the
fake Bot API: Bitrix24's HTML "Excel" file and a phone's .vcf."""

from __future__ import annotations

import io

import pytest
from python_calamine import CalamineWorkbook

from tests.dialog.conftest import ANNA, BotUnderTest
from tests.dialog.flows import CREATE, SUMMARY, fill_until_phones
from tests.fakes.telegram_api import Chat

BITRIX_XLS = """<html>
<head><meta http-equiv="Content-Type" content="text/html; charset=windows-1251"></head>
<body><table border="1">
<tr><th>Имя</th><th>Рабочий телефон</th><th>Мобильный телефон</th><th>Компания</th></tr>
<tr><td>Анна</td><td></td><td>+7 (916) 123-45-67</td><td>ООО &laquo;Ромашка&raquo;</td></tr>
<tr><td>Борис</td><td></td><td>+7 916 765 43 21, +7 922 111 22 33</td><td></td></tr>
<tr><td>Вера</td><td>8 (351) 247-00-00</td><td>-</td><td>ИП</td></tr>
<tr><td>Глеб</td><td>нет</td><td></td><td></td></tr>
</table></body></html>
""".encode("cp1251")

CONTACTS_VCF = (
    "BEGIN:VCARD\r\nVERSION:2.1\r\n"
    "FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=D0=98=D0=B2=D0=B0=D0=BD\r\n"
    "TEL;HOME:8 351 247 00 00\r\nTEL;CELL:+7 916 123-45-67\r\nEND:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Мария\r\n"
    "item1.TEL:+7 922 111 22 33\r\nitem1.X-ABLabel:_$!<Mobile>!$_\r\nEND:VCARD\r\n"
).encode()


@pytest.fixture
def chat(app: BotUnderTest) -> Chat:
    return app.fake.add_chat(Chat.private(ANNA))


async def test_bitrix_html_xls_through_the_list_step(app: BotUnderTest, chat: Chat) -> None:
    await fill_until_phones(app, chat, ANNA)
    assert await app.upload(chat, ANNA, BITRIX_XLS, "Контакты.xls")
    texts = "\n".join(app.texts(chat))
    assert "принято: 3" in texts
    assert "«Рабочий телефон»: 1" in texts and "«Мобильный телефон»: 2" in texts
    assert "первый из нескольких номеров в ячейке: 1" in texts
    # Глеб's row is rejected; the number left out of Борис's cell is in the file too.
    [report] = [m for m in app.fake.messages(chat.id) if m.document]
    assert "Отклонённые строки: 1" in report.caption and "не использованы: 1" in report.caption
    book = CalamineWorkbook.from_filelike(io.BytesIO(report.file.data))
    assert book.get_sheet_by_index(1).to_python()[1][1] == "+7 922 111 22 33"
    assert SUMMARY in app.last_text(chat)
    assert await app.press(chat, ANNA, CREATE)
    await app.settle()
    [request] = app.api.campaign_requests
    assert request.json["phones"] == [
        {"phone": "+79161234567", "add_data": {"Имя": "Анна", "Компания": "ООО «Ромашка»"}},
        {"phone": "+79167654321", "add_data": {"Имя": "Борис"}},
        {"phone": "+73512470000", "add_data": {"Имя": "Вера", "Компания": "ИП"}},
    ]


async def test_vcf_through_the_list_step(app: BotUnderTest, chat: Chat) -> None:
    await fill_until_phones(app, chat, ANNA)
    assert await app.upload(chat, ANNA, CONTACTS_VCF, "contacts.vcf")
    assert "принято: 2" in "\n".join(app.texts(chat))
    assert SUMMARY in app.last_text(chat)
    assert await app.press(chat, ANNA, CREATE)
    await app.settle()
    [request] = app.api.campaign_requests
    assert request.json["phones"] == [
        {"phone": "+79161234567", "add_data": {"Имя": "Иван"}},
        {"phone": "+79221112233", "add_data": {"Имя": "Мария"}},
    ]


async def test_refusal_names_the_accepted_formats(app: BotUnderTest, chat: Chat) -> None:
    await fill_until_phones(app, chat, ANNA)
    assert await app.upload(chat, ANNA, b"%PDF-1.7\n" + b"\0" * 300, "list.xlsx")
    [refusal] = [t for t in app.texts(chat)[-3:] if "не таблица" in t.lower()]
    line = next(x for x in refusal.splitlines() if ".vcf" in x)
    assert all(ext in line for ext in (".xlsx", ".xls", ".ods", ".csv", ".txt", ".html"))
    # The same question again: the list is still wanted.
    assert await app.say(chat, ANNA, "+79161234567")
    assert SUMMARY in app.last_text(chat)


def _amo_xlsx() -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Имя", "Рабочий телефон", "Мобильный телефон"])
    sheet.append(["Анна", "+7 351 247 00 00", "89161234567"])
    sheet.append(["Борис", "", "89161234568"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def test_an_alternative_reads_the_same_file_again(app: BotUnderTest, chat: Chat) -> None:
    await fill_until_phones(app, chat, ANNA)
    assert await app.upload(chat, ANNA, _amo_xlsx(), "amo.xlsx")
    # The wizard's live message moves below each report: new messages are told by id.
    uploads = app.fake.messages(chat.id)[-1].message_id
    report = app.message_with_button(chat, "Взять номера из «Мобильный телефон»")
    assert "Колонки с телефонами" in (report.text or "")
    data = report.button("Взять номера из «Мобильный телефон»")["callback_data"]
    assert len(data.encode()) <= 64
    assert SUMMARY in app.last_text(chat)
    # One tap: no new upload, the file is downloaded again by its file_id.
    assert await app.press(chat, ANNA, "Взять номера из «Мобильный телефон»", message=report)
    later = "\n".join(
        m.text or "" for m in app.fake.messages(chat.id) if m.message_id > uploads
    )
    assert "Номера из колонки «Мобильный телефон»" in later
    assert "Взять номера из «Рабочий телефон»" in str(
        app.message_with_button(chat, "Взять номера из «Рабочий телефон»").buttons
    )
    assert SUMMARY in app.last_text(chat)
    assert await app.press(chat, ANNA, CREATE)
    await app.settle()
    [request] = app.api.campaign_requests
    assert [p["phone"] for p in request.json["phones"]] == ["+79161234567", "+79161234568"]
    assert request.json["phones"][0]["add_data"] == {"Имя": "Анна"}


async def test_an_alternative_of_a_replaced_file_is_stale(app: BotUnderTest, chat: Chat) -> None:
    await fill_until_phones(app, chat, ANNA)
    assert await app.upload(chat, ANNA, _amo_xlsx(), "amo.xlsx")
    old = app.message_with_button(chat, "Взять номера из «Мобильный телефон»")
    data = old.button("Взять номера из «Мобильный телефон»")["callback_data"]
    # A new list through «Edit» replaces the file; the old report's button changes nothing.
    assert await app.press(chat, ANNA, "✏️ Изменить")
    assert await app.press(chat, ANNA, "Список")
    assert await app.say(chat, ANNA, "+79161234569")
    assert SUMMARY in app.last_text(chat)
    assert await app.deliver(app.fake.press_button(chat, ANNA, old.message_id, data))
    assert "заменён" in (app.fake.callback_answers[-1].get("text") or "").lower()
    assert await app.press(chat, ANNA, CREATE)
    await app.settle()
    [request] = app.api.campaign_requests
    assert [p["phone"] for p in request.json["phones"]] == ["+79161234569"]
