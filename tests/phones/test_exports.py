"""Contact lists as CRMs, phones and forms export them (docs/phone-lists.md, "Exports").

Every fixture is written here, the way the tool writes it: Bitrix24's HTML table saved
as .xls, vCard 2.1 / 3.0 / 4.0 from phones, amoCRM's two phone columns, Google
Contacts and Google Forms CSVs, cells with several numbers or words around one.
"""

from __future__ import annotations

import io

import pytest
from python_calamine import CalamineWorkbook

from bot.phones import (
    NO_HEADER,
    IngestError,
    IngestLimits,
    build_report,
    detect_kind,
    ingest_bytes,
)

from .builders import csv_bytes, xlsx_bytes

# --- HTML tables -------------------------------------------------------------------------

BITRIX = """<html>
<head><meta http-equiv="Content-Type" content="text/html; charset=windows-1251"></head>
<body>
<table border="1"><tr><td>Контакты: выгрузка от 01.12.2026</td></tr></table>
<table border="1">
<tr><th>ID</th><th>Имя</th><th>Рабочий телефон</th><th>Мобильный телефон</th><th>Компания</th></tr>
<tr><td>1</td><td>Анна &laquo;Аня&raquo;</td><td></td><td>+7 (916) 123-45-67</td>
    <td>ООО &quot;Ромашка&quot; &amp; Ко</td></tr>
<tr><td>2</td><td>Борис</td><td>8 (351) 247-00-00</td><td>+7 916 765 43 21<br>+7 922 111 22 33</td>
    <td>&#1048;П</td></tr>
<tr><td>3</td><td>Вера</td><td>нет</td><td>&nbsp;</td><td>x</td></tr>
</table>
</body></html>
"""


def test_bitrix_html_saved_as_xls_cp1251_with_th_and_entities() -> None:
    data = BITRIX.encode("cp1251")
    assert detect_kind(data, "contacts.xls") == "html"
    res = ingest_bytes(data, "contacts.xls")
    assert res.source_kind == "html"
    assert res.phones.records() == [
        {
            "phone": "+79161234567",
            "add_data": {"ID": "1", "Имя": "Анна «Аня»", "Компания": 'ООО "Ромашка" & Ко'},
        },
        {"phone": "+73512470000", "add_data": {"ID": "2", "Имя": "Борис", "Компания": "ИП"}},
    ]
    # Both phone columns are used, neither is an add_data key.
    assert res.phone_columns == [("Рабочий телефон", 1), ("Мобильный телефон", 1)]
    assert res.keys == ["ID", "Имя", "Компания"]
    # Row numbers are the table's rows (the header is row 1).
    assert [(r.row, r.value, r.reason) for r in res.rejected_rows] == [(4, "нет", "letters")]


def test_html_charset_from_meta_charset_and_from_the_bytes() -> None:
    page = (
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body><table>'
        "<tr><th>Телефон</th><th>ФИО</th></tr>"
        "<tr><td>89161234567</td><td>Ёлкин Пётр</td></tr></table></body></html>"
    )
    res = ingest_bytes(page.encode(), "report.xlsx")
    assert res.phones.records() == [{"phone": "+79161234567", "add_data": {"ФИО": "Ёлкин Пётр"}}]
    # No declared charset, Windows-1251 bytes (1C's web reports): judged as for CSV.
    bare = (
        "<table><tr><td>Телефон</td><td>Город</td></tr>"
        "<tr><td>89161234567</td><td>Пермь</td></tr></table>"
    )
    res = ingest_bytes(bare.encode("cp1251"), "list.csv")
    assert res.source_kind == "html"
    assert res.phones.records() == [{"phone": "+79161234567", "add_data": {"Город": "Пермь"}}]


def test_html_without_header_row_and_a_br_between_two_numbers() -> None:
    page = (
        "<html><body><table>"
        "<tr><td>Анна</td><td>89161234567</td></tr>"
        "<tr><td>Борис</td><td>8 916 765 43 21<br/>8 922 111 22 33</td></tr>"
        "</table></body></html>"
    )
    res = ingest_bytes(page.encode(), "x.html")
    assert not res.has_header
    assert res.phones.phones == ["+79161234567", "+79167654321"]
    assert res.multi_fixed == 1 and res.fixed == 1
    assert [(r.row, r.value) for r in res.left_out] == [(2, "8 922 111 22 33")]


@pytest.mark.parametrize(
    ("page", "limits", "code"),
    [
        (
            "<table>" + "<tr><td>Телефон</td></tr>" + "<tr><td>89161234567</td></tr>" * 40,
            IngestLimits(max_rows=10),
            "too_many_rows",
        ),
        (
            "<table><tr>" + "<td>x</td>" * 30 + "</tr><tr><td>89161234567</td></tr></table>",
            IngestLimits(max_columns=20),
            "too_many_columns",
        ),
        (
            "<table><tr><td>Телефон</td></tr><tr><td>" + "я" * 2000 + "</td></tr></table>",
            IngestLimits(max_cell_chars=1000),
            "cell_too_long",
        ),
        ("<html><body><p>нет таблицы</p></body></html>", IngestLimits(), "empty"),
    ],
)
def test_html_is_bounded_by_the_same_limits(page: str, limits: IngestLimits, code: str) -> None:
    with pytest.raises(IngestError) as info:
        ingest_bytes(page.encode(), "big.xls", limits)
    assert info.value.code == code


def test_html_cell_of_spaces_is_not_too_long() -> None:
    # Source indentation collapses to one space, as a browser shows it.
    page = "<table><tr><td>Телефон</td></tr><tr><td>" + " " * 5000 + "89161234567</td></tr></table>"
    assert ingest_bytes(page.encode(), "a.xls", IngestLimits(max_cell_chars=100)).accepted == 1


# --- vCard -------------------------------------------------------------------------------

VCARD_21 = (
    "BEGIN:VCARD\r\n"
    "VERSION:2.1\r\n"
    "N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=D0=98=D0=B2=D0=B0=D0=BD=D0=BE=D0=B2;"
    "=D0=98=D0=B2=D0=B0=D0=BD;;;\r\n"
    "FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=D0=98=D0=B2=D0=B0=D0=BD =D0=98=D0=B2=D0=B0=\r\n"
    "=D0=BD=D0=BE=D0=B2\r\n"
    "TEL;HOME:8 351 247 00 00\r\n"
    "TEL;CELL:+7 916 123-45-67\r\n"
    "PHOTO;ENCODING=BASE64;JPEG:/9j/4AAQSkZJRgABAQ\r\n"
    " AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n"
    " AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n"
    "\r\n"
    "END:VCARD\r\n"
    "BEGIN:VCARD\r\n"
    "VERSION:2.1\r\n"
    "N:;Без номера;;;\r\n"
    "TEL;CELL:123\r\n"
    "END:VCARD\r\n"
)
VCARD_30 = (
    "BEGIN:VCARD\r\n"
    "VERSION:3.0\r\n"
    "FN:Мария\r\n"
    "  Петрова\r\n"
    "N:Петрова;Мария;;;\r\n"
    "TEL;TYPE=HOME:+7 351 247 00 01\r\n"
    "item1.TEL:+7 922 111 22 33\r\n"
    "item1.X-ABLabel:_$!<Mobile>!$_\r\n"
    "END:VCARD\r\n"
    "BEGIN:VCARD\r\n"
    "VERSION:3.0\r\n"
    "FN:Иван\\, старший\r\n"
    "TEL;TYPE=WORK,VOICE:8 (916) 765-43-21\r\n"
    "END:VCARD\r\n"
)
VCARD_40 = (
    "BEGIN:VCARD\r\n"
    "VERSION:4.0\r\n"
    "FN:Uri\r\n"
    'TEL;VALUE=uri;TYPE="voice,home":tel:+7-351-247-00-02\r\n'
    'TEL;VALUE=uri;TYPE="cell,voice":tel:+7-916-111-22-33\r\n'
    "END:VCARD\r\n"
)


def test_vcard_21_quoted_printable_names_mobile_first() -> None:
    data = VCARD_21.encode()
    assert detect_kind(data, "contacts.txt") == "vcard"  # content decides
    res = ingest_bytes(data, "contacts.txt")
    assert res.source_kind == "vcard"
    assert res.phones.records() == [{"phone": "+79161234567", "add_data": {"Имя": "Иван Иванов"}}]
    # A contact without a valid number is a rejected row (at its BEGIN:VCARD line).
    assert [(r.row, r.value, r.reason) for r in res.rejected_rows] == [(13, "123", "too_short")]


def test_vcard_30_item_grouping_and_folded_lines() -> None:
    res = ingest_bytes(VCARD_30.encode(), "icloud.vcf")
    assert res.phones.records() == [
        {"phone": "+79221112233", "add_data": {"Имя": "Мария Петрова"}},
        {"phone": "+79167654321", "add_data": {"Имя": "Иван, старший"}},
    ]


def test_vcard_40_uri_numbers_and_a_bom() -> None:
    res = ingest_bytes(b"\xef\xbb\xbf" + VCARD_40.encode(), "c.vcf")
    assert res.phones.records() == [{"phone": "+79161112233", "add_data": {"Имя": "Uri"}}]


def test_vcard_cp1251_and_limits() -> None:
    card = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Пётр\r\nTEL:89161234567\r\nEND:VCARD\r\n"
    res = ingest_bytes(card.encode("cp1251"), "a.vcf")
    assert res.phones.records() == [{"phone": "+79161234567", "add_data": {"Имя": "Пётр"}}]
    many = "".join(
        f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:n{i}\r\nTEL:8916123{i:04d}\r\nEND:VCARD\r\n"
        for i in range(30)
    )
    with pytest.raises(IngestError) as info:
        ingest_bytes(many.encode(), "a.vcf", IngestLimits(max_rows=10))
    assert info.value.code == "too_many_rows"
    long_name = "BEGIN:VCARD\r\nFN:" + "я" * 3000 + "\r\nTEL:89161234567\r\nEND:VCARD\r\n"
    with pytest.raises(IngestError) as info:
        ingest_bytes(long_name.encode(), "a.vcf", IngestLimits(max_cell_chars=1000))
    assert info.value.code == "cell_too_long"


def test_vcard_photo_of_any_size_is_skipped_not_gathered() -> None:
    photo = "PHOTO;ENCODING=b;TYPE=JPEG:" + "A" * 70 + "\r\n" + (" " + "A" * 74 + "\r\n") * 5000
    card = (
        f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Фото\r\n{photo}"
        "TEL;TYPE=CELL:89161234567\r\nEND:VCARD\r\n"
    )
    res = ingest_bytes(card.encode(), "p.vcf", IngestLimits(max_cell_chars=100))
    assert res.phones.records() == [{"phone": "+79161234567", "add_data": {"Имя": "Фото"}}]


# --- several phone columns -----------------------------------------------------------------


def test_amocrm_two_phone_columns_per_row() -> None:
    rows = [
        ["Имя", "Рабочий телефон", "Мобильный телефон", "Город"],
        ["Анна", "", "89161234567", "Москва"],
        ["Борис", "+7 351 247 00 00", "89161234568", "Пермь"],
        ["Вера", "нет", "8 916 123 45 69", ""],
        ["Глеб", "", "", "Казань"],
    ]
    res = ingest_bytes(xlsx_bytes(rows), "amo.xlsx")
    assert res.phones.records() == [
        {"phone": "+79161234567", "add_data": {"Имя": "Анна", "Город": "Москва"}},
        {"phone": "+73512470000", "add_data": {"Имя": "Борис", "Город": "Пермь"}},
        {"phone": "+79161234569", "add_data": {"Имя": "Вера"}},
    ]
    assert res.phone_columns == [("Рабочий телефон", 1), ("Мобильный телефон", 2)]
    # A row is rejected only when no phone column gives a number.
    assert [(r.row, r.reason) for r in res.rejected_rows] == [(5, "empty")]


def test_google_contacts_type_column_is_not_a_phone_column() -> None:
    rows = [
        ["Name", "Phone 1 - Type", "Phone 1 - Value", "Phone 2 - Type", "Phone 2 - Value"],
        ["Anna", "Mobile", "+7 916 123-45-67 ::: +7 916 123-45-68", "", ""],
        ["Boris", "Work", "", "Mobile", "8 916 765 43 21"],
    ]
    res = ingest_bytes(csv_bytes(rows, delimiter=","), "contacts.csv")
    assert res.phones.phones == ["+79161234567", "+79167654321"]
    assert res.phone_columns == [("Phone 1 - Value", 1), ("Phone 2 - Value", 1)]
    assert res.keys == ["Name", "Phone 1 - Type", "Phone 2 - Type"]
    assert [(r.row, r.value, r.reason) for r in res.left_out] == [
        (2, "+7 916 123-45-68", "left_out")
    ]


# --- cells people fill in ------------------------------------------------------------------

GOOGLE_FORM = (
    '"Отметка времени","Ваше имя","Ваш номер телефона","Удобное время"\r\n'
    '"01.12.2026 10:00:00","Анна","тел. 8 902 123 45 67","после 18"\r\n'
    '"01.12.2026 10:05:00","Борис","+7 912 345 67 89, +7 922 111 22 33","утро"\r\n'
    '"01.12.2026 10:07:00","Вера","8 912 345 67 80 (Вера)",""\r\n'
    '"01.12.2026 10:09:00","Глеб","89161234567 — жена",""\r\n'
    '"01.12.2026 10:11:00","Дина","8-999-123-45-6O",""\r\n'
)


def test_google_forms_answers_are_data_and_repaired() -> None:
    res = ingest_bytes(GOOGLE_FORM.encode(), "Ответы.csv")
    assert res.phone_column == "Ваш номер телефона"
    assert res.keys == ["Отметка времени", "Ваше имя", "Удобное время"]
    assert res.rows_read == 5
    assert res.phones.records()[0] == {
        "phone": "+79021234567",
        "add_data": {
            "Отметка времени": "01.12.2026 10:00:00",
            "Ваше имя": "Анна",
            "Удобное время": "после 18",
        },
    }
    assert res.phones.phones == ["+79021234567", "+79123456789", "+79123456780", "+79161234567"]
    assert (res.fixed, res.multi_fixed, res.words_fixed) == (4, 1, 3)
    # Letters inside the digits still make it invalid.
    assert [(r.row, r.reason) for r in res.rejected_rows] == [(6, "letters")]
    assert [(r.row, r.value) for r in res.left_out] == [(3, "+7 922 111 22 33")]


def test_a_number_with_words_around_it_is_never_the_header() -> None:
    # No header row: the first answer used to become the header and name the column.
    rows = [
        ["Анна", "тел. 8 902 123 45 67"],
        ["Борис", "т. 89161234568"],
        ["Вера", "89161234569"],
    ]
    res = ingest_bytes(csv_bytes(rows), "a.csv")
    assert not res.has_header and res.keys == []
    assert res.phones.phones == ["+79021234567", "+79161234568", "+79161234569"]


def test_header_names_of_the_specification() -> None:
    rows = [
        ["Номер договора", "Контактный телефон (мобильный)", "Tel"],
        ["Д-1", "89161234567", "x"],
    ]
    res = ingest_bytes(csv_bytes(rows), "a.csv")
    assert res.phone_column == "Контактный телефон (мобильный)"
    assert res.keys == ["Номер договора", "Tel"]


def test_left_out_numbers_in_the_report_file() -> None:
    rows = [
        ["Телефон"],
        ["89161234567; 89161234568"],
        ["нет"],
        ["8 916 123 45 69 / 8 916 123 45 70"],
    ]
    res = ingest_bytes(csv_bytes(rows), "a.csv")
    assert res.phones.phones == ["+79161234567", "+79161234569"]
    names = {"left_out": "другой номер из ячейки", "letters": "буквы"}
    wb = CalamineWorkbook.from_filelike(io.BytesIO(build_report(res, names.get)))
    assert wb.sheet_names == ["Report", "Другие номера"]
    assert wb.get_sheet_by_index(0).to_python()[1] == [3.0, "нет", "буквы"]
    assert wb.get_sheet_by_index(1).to_python() == [
        ["Строка", "Значение", "Причина"],
        [2.0, "89161234568", "другой номер из ячейки"],
        [4.0, "8 916 123 45 70", "другой номер из ячейки"],
    ]
    text = build_report(res, names.get, fmt="csv").decode("utf-8-sig")
    assert '"Другие номера"' in text and '"2";"89161234568";"другой номер из ячейки"' in text


# --- alternatives: the same file read another way ------------------------------------------


def test_two_phone_columns_offer_each_alone() -> None:
    rows = [
        ["Имя", "Рабочий телефон", "Мобильный телефон"],
        ["Анна", "+7 351 247 00 00", "89161234567"],
        ["Борис", "", "89161234568"],
    ]
    data = csv_bytes(rows)
    res = ingest_bytes(data, "amo.csv")
    assert res.phones.phones == ["+73512470000", "+79161234568"]
    assert res.alternatives == [("col", 1, "Рабочий телефон"), ("col", 2, "Мобильный телефон")]
    again = ingest_bytes(data, "amo.csv", choice=("col", 2))
    assert again.phones.phones == ["+79161234567", "+79161234568"]
    assert again.phone_column == "Мобильный телефон"
    assert again.phone_columns == [("Мобильный телефон", 2)]
    assert again.keys == ["Имя"]  # the other phone column is no add_data key
    assert again.alternatives == [("col", 1, "Рабочий телефон")]
    # One phone column: nothing to choose.
    assert ingest_bytes(csv_bytes([["Телефон"], ["89161234567"]]), "a.csv").alternatives == []


def _two_sheets() -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    first = book.active
    first.title = "Сводка"
    first.append(["Телефон", "Итог"])
    first.append(["89161234567", "1"])
    book.create_sheet("Пустой")
    second = book.create_sheet("Клиенты")
    second.append(["Телефон", "Имя"])
    second.append(["89161234568", "Анна"])
    second.append(["89161234569", "Борис"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_several_sheets_with_data_offer_the_others() -> None:
    data = _two_sheets()
    res = ingest_bytes(data, "book.xlsx")
    assert res.sheet == "Сводка" and res.phones.phones == ["+79161234567"]
    assert res.alternatives == [("sheet", 2, "Клиенты")]
    again = ingest_bytes(data, "book.xlsx", choice=("sheet", 2))
    assert again.sheet == "Клиенты"
    assert again.phones.records() == [
        {"phone": "+79161234568", "add_data": {"Имя": "Анна"}},
        {"phone": "+79161234569", "add_data": {"Имя": "Борис"}},
    ]
    assert again.alternatives == [("sheet", 0, "Сводка")]
    with pytest.raises(IngestError) as info:  # a forged index: an empty sheet
        ingest_bytes(data, "book.xlsx", choice=("sheet", 1))
    assert info.value.code == "empty"


def test_a_file_without_a_header_offers_its_first_row_as_one() -> None:
    # Read without a header: the columns are nobody's data; the first row may name them.
    data = csv_bytes([["+79161234567", "Анна", "10:00"], ["89161234568", "Борис", "11:00"]])
    res = ingest_bytes(data, "list.csv")
    assert not res.has_header and res.keys == [] and res.accepted == 2
    assert res.alternatives == [("hdr", 0, "")]
    again = ingest_bytes(data, "list.csv", choice=("hdr", 0))
    # The supervisor's header: its number is a name now, its texts name the data.
    assert again.has_header and again.accepted == 1 and again.rows_read == 1
    assert again.phone_column == "+79161234567"
    assert again.phones.records() == [
        {"phone": "+79161234568", "add_data": {"Анна": "Борис", "10:00": "11:00"}}
    ]
    assert again.alternatives == [("hdr", NO_HEADER, "")]  # and back
    # A lone column of numbers has nothing to name.
    assert ingest_bytes(csv_bytes([["89161234567"], ["89161234568"]]), "a.csv").alternatives == []


def test_a_header_guessed_from_its_texts_can_be_read_as_data() -> None:
    # The first row's phone cell is text, so it was taken for a header: it may be a row
    # whose number is missing, and its texts another person's answers.
    data = csv_bytes([["Иванов", "—", "10:00"], ["Петров", "+79161234567", "11:00"]])
    res = ingest_bytes(data, "list.csv")
    assert res.has_header and res.keys == ["Иванов", "10:00"]
    assert res.alternatives == [("hdr", NO_HEADER, "")]
    again = ingest_bytes(data, "list.csv", choice=("hdr", NO_HEADER))
    assert not again.has_header and again.keys == [] and again.rows_read == 2
    assert again.phones.phones == ["+79161234567"] and again.rejected_total == 1
    assert again.alternatives == [("hdr", 0, "")]
    # A header naming the phone column is the only reasonable reading.
    named = csv_bytes([["Фамилия", "Телефон"], ["Петров", "+79161234567"]])
    assert ingest_bytes(named, "a.csv").alternatives == []
    # A forged row index changes nothing.
    forged = ingest_bytes(data, "list.csv", choice=("hdr", 999))
    assert forged.keys == res.keys and forged.phones == res.phones
