"""Every accepted format, read into the exact phones[] of the spec."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.phones import IngestError, ingest_bytes, ingest_text

from .builders import csv_bytes, ods_bytes, xls_bytes, xlsx_bytes


def test_cp1251_semicolon_csv_with_title_rows() -> None:
    rows = [
        ["Список клиентов на 15.12.2025", "", ""],
        ["", "", ""],
        ["ФИО", "Телефон клиента", "Сумма"],
        ["Иванов Иван", "8 (916) 123-45-67", "1500,00"],
        ["Петров Пётр", "+7 916 765-43-21", " 00123 "],
        ["", "", ""],
        ["Сидорова Анна", "89161234567", "15.12.2025"],  # duplicate of row 4
        ["Без номера", "", "1"],
        ["Кривой", "8916123", "2"],
    ]
    data = csv_bytes(rows, encoding="cp1251")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    res = ingest_bytes(data, "clients.csv")
    assert res.source_kind == "csv"
    assert res.has_header and res.phone_column == "Телефон клиента"
    assert res.keys == ["ФИО", "Сумма"]
    assert res.phones.records() == [
        {"phone": "+79161234567", "add_data": {"ФИО": "Иванов Иван", "Сумма": "1500,00"}},
        {"phone": "+79167654321", "add_data": {"ФИО": "Петров Пётр", "Сумма": "00123"}},
    ]
    assert (res.rows_read, res.accepted, res.duplicates, res.rejected_total) == (5, 2, 1, 2)
    assert res.rejected == {"empty": 1, "too_short": 1}
    assert [(r.row, r.value, r.reason) for r in res.rejected_rows] == [
        (8, "", "empty"),
        (9, "8916123", "too_short"),
    ]


def test_utf16_tab_text_with_bom() -> None:
    text = "Телефон\tИмя\tВремя\r\n+79161234567\tАнна\t10:00\r\n9161234568\tБорис\t\r\n"
    data = text.encode("utf-16")  # Excel's "Unicode text": UTF-16 with BOM, tabs
    assert data[:2] == b"\xff\xfe"
    res = ingest_bytes(data, "export.txt")
    assert res.phones.records() == [
        {"phone": "+79161234567", "add_data": {"Имя": "Анна", "Время": "10:00"}},
        {"phone": "+79161234568", "add_data": {"Имя": "Борис"}},
    ]


def test_utf8_bom_comma_csv_and_pipe_csv() -> None:
    data = "\ufeffphone,name\n79161234567,Anna\n".encode()
    res = ingest_bytes(data, "a.csv")
    assert res.phones.records() == [{"phone": "+79161234567", "add_data": {"name": "Anna"}}]
    res = ingest_bytes("Номер|Город\n89161234567|Москва\n".encode(), "b.csv")
    assert res.phones.records() == [{"phone": "+79161234567", "add_data": {"Город": "Москва"}}]


def test_quoted_fields_with_delimiters_and_line_breaks() -> None:
    data = (
        "Имя;Телефон;Адрес\r\n"
        '"Иванов; Иван";89161234567;"ул. Ленина, 1\r\nкв. 2"\r\n'
        '"Петров";"bad";"x"\r\n'
        '"Сидоров";"8 916 765 43 21";"многострочный\nадрес\nтут"\r\n'
        "Кузнецов;123;y\r\n"
    ).encode()
    res = ingest_bytes(data, "q.csv")
    assert res.phones.records() == [
        {
            "phone": "+79161234567",
            "add_data": {"Имя": "Иванов; Иван", "Адрес": "ул. Ленина, 1\r\nкв. 2"},
        },
        {
            "phone": "+79167654321",
            "add_data": {"Имя": "Сидоров", "Адрес": "многострочный\nадрес\nтут"},
        },
    ]
    # Row numbers are the lines where records start, across the quoted line breaks.
    assert [(r.row, r.value, r.reason) for r in res.rejected_rows] == [
        (4, "bad", "letters"),
        (8, "123", "too_short"),
    ]


def test_csv_without_header_found_by_values() -> None:
    data = b"Anna,89161234567\nBoris,+7 916 765 43 21\nCyril,not a phone\n"
    res = ingest_bytes(data, "n.csv")
    assert not res.has_header and res.phone_column is None and res.keys == []
    assert res.phones.phones == ["+79161234567", "+79167654321"]
    assert [(r.row, r.reason) for r in res.rejected_rows] == [(3, "letters")]


def test_header_by_values_when_name_is_unknown() -> None:
    data = "Отчёт\n\nКлиент;Контакт;Город\nАнна;89161234567;Москва\n".encode()
    res = ingest_bytes(data, "x.csv")
    assert res.phone_column == "Контакт"
    assert res.phones.records() == [
        {"phone": "+79161234567", "add_data": {"Клиент": "Анна", "Город": "Москва"}}
    ]


def test_xlsx_numeric_phones_time_and_date_cells() -> None:
    rows = [
        ["Клиентская база"],
        [],
        ["Имя", "Телефон", "Время", "Дата", "Визит", "Сумма", "Код", "Пусто"],
        [
            "Анна",
            79161234567,
            15 / 24 + 5 / 1440 - 1e-9,
            dt.date(2025, 12, 15),
            dt.datetime(2025, 12, 15, 9, 30),
            1500.5,
            123456.0,
            None,
        ],
        ["Борис", "8 916 765 43 21", dt.time(9, 0), None, None, 100, "00123", None],
        ["Вера", 79161234567.0, None, None, None, None, None, None],  # duplicate
        ["Гена", 7.91612e10, None, None, None, None, None, None],
        [],
        ["Дина", "7,91612E+10", None, None, None, None, None, None],
    ]
    data = xlsx_bytes(rows, formats={"C4": "hh:mm", "C5": "hh:mm"})
    res = ingest_bytes(data, "clients.xlsx")
    assert res.source_kind == "xlsx"
    assert res.phone_column == "Телефон"
    assert res.keys == ["Имя", "Время", "Дата", "Визит", "Сумма", "Код", "Пусто"]
    records = res.phones.records()
    assert records[0] == {
        "phone": "+79161234567",
        "add_data": {
            "Имя": "Анна",
            "Время": "15:05",  # the stored fraction truncates to 15:04: rounded
            "Дата": "2025-12-15",
            "Визит": "2025-12-15 09:30",
            "Сумма": 1500.5,
            "Код": 123456,
        },
    }
    assert isinstance(records[0]["add_data"]["Код"], int)
    assert records[1] == {
        "phone": "+79167654321",
        "add_data": {"Имя": "Борис", "Время": "09:00", "Сумма": 100, "Код": "00123"},
    }
    # 7.91612e10 is a whole number cell: a (rounded) phone that cannot be told apart.
    assert records[2]["phone"] == "+79161200000"
    assert res.duplicates == 1
    assert res.fixed == 2  # the two number cells accepted
    assert [(r.row, r.value, r.reason) for r in res.rejected_rows] == [
        (9, "7,91612E+10", "excel_rounded")
    ]


def test_xls_legacy_workbook() -> None:
    rows = [
        ["Телефон", "Имя", "Время", "Дата"],
        [79161234567.0, "Анна", 15 / 24 + 5 / 1440 - 1e-9, 46006],
        ["8(351)247-00-00", "Челябинск", None, None],
    ]
    data = xls_bytes(rows, styles={(1, 2): "hh:mm", (1, 3): "DD.MM.YYYY"})
    assert data[:4] == b"\xd0\xcf\x11\xe0"
    res = ingest_bytes(data, "old.xls")
    assert res.source_kind == "xls"
    assert res.phones.records() == [
        {
            "phone": "+79161234567",
            "add_data": {"Имя": "Анна", "Время": "15:05", "Дата": "2025-12-15"},
        },
        {"phone": "+73512470000", "add_data": {"Имя": "Челябинск"}},
    ]


def test_ods_spreadsheet() -> None:
    rows = [
        ["Телефон", "Имя", "Время", "Счёт"],
        [79161234567, "Анна", dt.time(15, 5), 12.0],
        ["+7 916 765 43 21", "Борис", None, 7.25],
    ]
    res = ingest_bytes(ods_bytes(rows), "list.ods")
    assert res.source_kind == "ods"
    assert res.phones.records() == [
        {"phone": "+79161234567", "add_data": {"Имя": "Анна", "Время": "15:05", "Счёт": 12}},
        {"phone": "+79167654321", "add_data": {"Имя": "Борис", "Счёт": 7.25}},
    ]


def test_xlsm_name_and_content_judged_by_content() -> None:
    data = xlsx_bytes([["Телефон"], ["89161234567"]])
    assert ingest_bytes(data, "macro.xlsm").accepted == 1
    assert ingest_bytes(data, "wrong-name.csv").source_kind == "xlsx"
    # A CSV named .xlsx is read as the CSV it is.
    res = ingest_bytes(b"phone\n89161234567\n", "fake.xlsx")
    assert (res.source_kind, res.accepted) == ("csv", 1)


def test_first_sheet_with_data_is_read() -> None:
    import io

    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.title = "Пусто"
    ws = wb.create_sheet("Данные")
    ws.append(["Телефон"])
    ws.append(["89161234567"])
    buf = io.BytesIO()
    wb.save(buf)
    assert ingest_bytes(buf.getvalue(), "two.xlsx").phones.phones == ["+79161234567"]


def test_text_file_of_numbers_is_pasted_text() -> None:
    data = b"89161234567, 8 916 765 43 21\n+7 916 111 22 33 +7 916 111 22 44\n123\n"
    res = ingest_bytes(data, "numbers.txt")
    assert res.source_kind == "text"
    assert res.phones.phones == ["+79161234567", "+79167654321", "+79161112233", "+79161112244"]
    assert [(r.row, r.reason) for r in res.rejected_rows] == [(4, "too_short")]


def test_pasted_text() -> None:
    res = ingest_text(
        "+7 (916) 123-45-67\n8 916 123 45 67; 9161234568 доб. 3, +44 20 7946 0958\nпривет"
    )
    assert res.phones.records() == [
        {"phone": "+79161234567", "add_data": {}},
        {"phone": "+79161234568", "add_data": {}},
        {"phone": "+442079460958", "add_data": {}},
    ]
    assert (res.rows_read, res.accepted, res.duplicates, res.fixed) == (5, 3, 1, 1)
    assert res.countries == {"GB": 1}
    assert res.rejected == {"letters": 1}
    with pytest.raises(IngestError) as err:
        ingest_text(" \n ,; ")
    assert err.value.code == "empty"


def test_duplicates_first_row_wins_and_counting() -> None:
    data = csv_bytes(
        [
            ["Телефон", "Имя"],
            ["89161234567", "первый"],
            ["+7 916 123-45-67", "второй"],
            ["", ""],  # empty row: not counted at all
            ["9161234567", "третий"],
            ["", "без номера"],
        ]
    )
    res = ingest_bytes(data, "d.csv")
    assert res.phones.records() == [{"phone": "+79161234567", "add_data": {"Имя": "первый"}}]
    assert (res.rows_read, res.accepted, res.duplicates, res.rejected) == (4, 1, 2, {"empty": 1})


def test_kazakhstan_and_foreign_counted_by_country() -> None:
    data = csv_bytes(
        [["Телефон"], ["+7 701 123 45 67"], ["87011234568"], ["+44 20 7946 0958"], ["89161234567"]]
    )
    res = ingest_bytes(data, "c.csv")
    assert res.accepted == 4
    assert res.countries == {"KZ": 2, "GB": 1}


def test_sample_rows() -> None:
    data = csv_bytes([["Телефон", "Имя"]] + [[f"8916123450{i}", f"n{i}"] for i in range(10)])
    res = ingest_bytes(data, "s.csv")
    assert res.phones.sample(2) == [
        ("+79161234500", {"Имя": "n0"}),
        ("+79161234501", {"Имя": "n1"}),
    ]


def test_title_row_naming_phones_does_not_win_over_the_real_header() -> None:
    data = csv_bytes(
        [
            ["Телефоны клиентов", "", ""],
            ["Номер договора", "Телефон", "Имя"],
            ["Д-1", "89161234567", "Анна"],
            ["Д-2", "89161234568", "Борис"],
        ]
    )
    res = ingest_bytes(data, "t.csv")
    assert res.phone_column == "Телефон"
    assert res.keys == ["Номер договора", "Имя"]
    assert res.phones.records()[0] == {
        "phone": "+79161234567",
        "add_data": {"Номер договора": "Д-1", "Имя": "Анна"},
    }
    assert res.rows_read == 2


def test_columns_without_header_are_ignored_and_duplicate_keys_keep_first() -> None:
    data = csv_bytes([["Телефон", "", "Имя", "Имя"], ["89161234567", "мусор", "Анна", "Другая"]])
    res = ingest_bytes(data, "k.csv")
    assert res.keys == ["Имя"]
    assert res.phones.records() == [{"phone": "+79161234567", "add_data": {"Имя": "Анна"}}]


def test_ragged_csv_rows_and_blank_lines() -> None:
    data = "Телефон;Имя;Город\n89161234567;Анна\n\n89161234568;Борис;Тверь;лишнее\n".encode()
    res = ingest_bytes(data, "r.csv")
    assert res.phones.records() == [
        {"phone": "+79161234567", "add_data": {"Имя": "Анна"}},
        {"phone": "+79161234568", "add_data": {"Имя": "Борис", "Город": "Тверь"}},
    ]
    assert res.rows_read == 2


def test_xlsx_row_numbers_are_sheet_rows() -> None:
    data = xlsx_bytes(
        [[], [], ["", "Телефон"], ["", "89161234567"], [], ["", "плохой"], ["", "8916"]]
    )
    res = ingest_bytes(data, "r.xlsx")
    assert [(r.row, r.value, r.reason) for r in res.rejected_rows] == [
        (6, "плохой", "letters"),
        (7, "8916", "too_short"),
    ]


def test_big_csv_uses_the_vectorized_path_and_agrees_with_python() -> None:
    rows = [["Телефон", "Имя"]]
    for i in range(5000):
        rows.append([f"8 (916) {i // 100:03d}-{i % 100:02d}-{i % 97:02d}", f"n{i}"])
        if i % 50 == 0:
            rows.append(["7,91612E+10", "bad"])
        if i % 70 == 0:
            rows.append([f"8 (916) {i // 100:03d}-{i % 100:02d}-{i % 97:02d}", "dup"])
    data = csv_bytes(rows)
    fast = ingest_bytes(data, "big.csv")
    slow = ingest_bytes(data, "big.csv", columnar=False)
    assert fast.phones.records() == slow.phones.records()
    assert (fast.rows_read, fast.accepted, fast.duplicates, fast.rejected) == (
        slow.rows_read,
        slow.accepted,
        slow.duplicates,
        slow.rejected,
    )
    assert fast.rejected_rows == slow.rejected_rows
    assert fast.rejected == {"excel_rounded": 100}
    assert (fast.accepted, fast.duplicates) == (5000, 72)


def test_cp1251_detected_after_a_long_ascii_start() -> None:
    # UTF-8 is guessed from the first megabyte; a later cp1251 byte restarts as cp1251.
    rows = [["phone", "name"]] + [[f"8916{i:07d}", "x" * 40] for i in range(25_000)]
    rows.append(["89169999999", "Щукин"])
    data = csv_bytes(rows, encoding="cp1251")
    assert len(data) > (1 << 20)
    res = ingest_bytes(data, "late.csv")
    assert res.accepted == 25_001
    assert res.phones.records()[-1] == {"phone": "+79169999999", "add_data": {"name": "Щукин"}}


def test_text_file_of_numbers_with_an_extension_is_read_as_pasted_text() -> None:
    from bot.phones import ingest_bytes

    data = "+79161234567\n89161234568, 9161234569;  +7 916 123 45 70 доб. 12\n".encode()
    result = ingest_bytes(data, "numbers.txt")
    assert result.source_kind == "text"
    assert result.phones.phones == ["+79161234567", "+79161234568", "+79161234569",
                                    "+79161234570"]
    assert result.fixed == 1 and result.rejected_total == 0
