"""Limits and hostile inputs: each refused with its own code, never a crash or a hang."""

from __future__ import annotations

import io
import os
import time
import zipfile

import pytest

from bot.phones import ERROR_CODES, IngestError, IngestLimits, detect_kind, ingest_bytes

from .builders import PNG_HEADER, csv_bytes, ods_bytes, with_zip_entry, xlsx_bytes


def _code(data: bytes, name: str, limits: IngestLimits = IngestLimits()) -> IngestError:  # noqa: B008
    with pytest.raises(IngestError) as err:
        ingest_bytes(data, name, limits)
    assert err.value.code in ERROR_CODES
    return err.value


def test_too_large() -> None:
    err = _code(b"phone\n" + b"89161234567\n" * 100, "a.csv", IngestLimits(max_bytes=1000))
    assert (err.code, err.params["limit"]) == ("too_large", 1000)


def test_too_many_rows_csv_and_xlsx() -> None:
    rows = [["Телефон"]] + [[f"89161{i:06d}"] for i in range(30)]
    limits = IngestLimits(max_rows=20)
    assert _code(csv_bytes(rows), "a.csv", limits).params == {"limit": 20}
    assert _code(xlsx_bytes(rows), "a.xlsx", limits).code == "too_many_rows"
    # Exactly at the limit is fine; header, title and empty rows do not count.
    ok = [["Список"], [], ["Телефон"]] + rows[1:21] + [[""]] * 5
    assert ingest_bytes(csv_bytes(ok), "b.csv", limits).rows_read == 20


def test_too_many_columns() -> None:
    row = ["x"] * 12
    limits = IngestLimits(max_columns=10)
    err = _code(csv_bytes([["Телефон", *row[1:]], ["89161234567", *row[1:]]]), "a.csv", limits)
    assert err.code == "too_many_columns" and err.params["limit"] == 10
    assert _code(xlsx_bytes([["Телефон", *row[1:]]]), "a.xlsx", limits).code == "too_many_columns"


def test_cell_too_long_csv_any_column_and_xlsx() -> None:
    limits = IngestLimits(max_cell_chars=50)
    data = csv_bytes([["Телефон", "Комментарий"], ["89161234567", "ok"], ["89161234568", "я" * 51]])
    err = _code(data, "a.csv", limits)
    assert (err.code, err.params) == ("cell_too_long", {"row": 3, "limit": 50})
    err = _code(xlsx_bytes([["Телефон", "Имя"], ["89161234567", "x" * 51]]), "a.xlsx", limits)
    assert (err.code, err.params) == ("cell_too_long", {"row": 2, "limit": 50})
    # The default csv field limit is restored after the read.
    import csv

    assert csv.field_size_limit() == 131072


def test_zip_bomb_refused_from_directory_before_inflating() -> None:
    base = xlsx_bytes([["Телефон"], ["89161234567"]])
    # Total inflated size over the limit.
    bomb = with_zip_entry(base, "xl/media/image1.bin", 3 << 20)
    assert len(bomb) < 100_000
    err = _code(bomb, "a.xlsx", IngestLimits(max_inflated_bytes=2 << 20))
    assert (err.code, err.params) == ("zip_bomb", {"limit": 2 << 20})
    # A single huge entry compressed far beyond any real sheet, with default limits.
    started = time.perf_counter()
    bomb = with_zip_entry(base, "xl/worksheets/sheet2.xml", 17 << 20)
    assert _code(bomb, "a.xlsx").code == "zip_bomb"
    ods_bomb = with_zip_entry(ods_bytes([["Телефон"], ["89161234567"]]), "x.xml", 3 << 20)
    assert _code(ods_bomb, "a.ods", IngestLimits(max_inflated_bytes=2 << 20)).code == "zip_bomb"
    assert time.perf_counter() - started < 20


def test_png_named_xlsx_and_junk_named_csv() -> None:
    err = _code(PNG_HEADER + os.urandom(2000), "photo.xlsx")
    assert (err.code, err.params) == ("unsupported_type", {"detected": "png"})
    assert _code(b"%PDF-1.7\n" + os.urandom(500), "list.xls").code == "unsupported_type"
    junk = bytes(range(256)) * 40
    assert _code(junk, "list.csv").code == "unsupported_type"
    assert _code(os.urandom(5000), "list.csv").code == "unsupported_type"


def test_zip_that_is_not_a_spreadsheet() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("word/document.xml", "<w/>")
        zf.writestr("[Content_Types].xml", "<Types/>")
    assert _code(buf.getvalue(), "a.xlsx").params == {"detected": "zip"}


def test_broken_spreadsheets_are_unreadable() -> None:
    data = xlsx_bytes([["Телефон"], ["89161234567"]])
    assert _code(data[: len(data) // 2], "a.xlsx").code == "unreadable"
    # A valid zip with a workbook part that is not XML.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "garbage")
        zf.writestr("xl/workbook.xml", "not xml at all <<<")
    assert _code(buf.getvalue(), "a.xlsx").code == "unreadable"
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600 + "Workbook".encode("utf-16-le")
    assert _code(ole, "a.xls").code == "unreadable"


def test_encrypted_workbook() -> None:
    # Password-protected OOXML is an OLE container with these two streams.
    ole = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
        + b"\x00" * 500
        + "EncryptionInfo".encode("utf-16-le")
        + b"\x00" * 50
        + "EncryptedPackage".encode("utf-16-le")
    )
    assert _code(ole, "secret.xlsx").code == "encrypted"
    assert detect_kind(ole[:8] + b"\x00" * 10 + "Workbook".encode("utf-16-le")) == "xls"


def test_empty_and_blank_files() -> None:
    for data, name in [
        (b"", "a.csv"),
        (b"\n\r\n  \n", "a.csv"),
        (b";;;\n;;\n", "a.csv"),
        ("\ufeff".encode(), "a.csv"),
        (xlsx_bytes([]), "a.xlsx"),
        (b"", "a.txt"),
    ]:
        assert _code(data, name).code == "empty", (data, name)


def test_header_only() -> None:
    assert _code("Телефон;Имя\r\n".encode(), "a.csv").code == "header_only"
    assert _code("Телефон;Имя\r\n;\r\n\r\n".encode(), "a.csv").code == "header_only"
    assert _code(xlsx_bytes([["Имя", "Телефон"]]), "a.xlsx").code == "header_only"
    assert _code("ФИО;Город\r\n".encode(), "a.csv").code == "header_only"


def test_no_phone_column() -> None:
    data = csv_bytes([["ФИО", "Город"], ["Анна", "Москва"], ["Борис", "Тверь"]])
    assert _code(data, "a.csv").code == "no_phone_column"
    data = csv_bytes([["ФИО", "Город"], ["Анна", "12"], ["Борис", "13"]])
    assert _code(data, "a.csv").code == "no_phone_column"


def test_header_named_column_with_bad_values_is_still_the_phone_column() -> None:
    data = csv_bytes([["Телефон", "Имя"], ["нет", "Анна"], ["123", "Борис"]])
    res = ingest_bytes(data, "a.csv")
    assert res.accepted == 0 and res.rejected == {"letters": 1, "too_short": 1}


def test_many_tiny_rows_bounded_by_row_limit() -> None:
    # 20 MB of short lines must be refused by the row limit, not read into memory.
    data = b"phone\n" + b"8\n" * 200_000
    err = _code(data, "a.csv", IngestLimits(max_rows=50_000))
    assert err.code == "too_many_rows"


def test_long_cell_in_pasted_text_and_paste_row_limit() -> None:
    from bot.phones import ingest_text

    with pytest.raises(IngestError) as err:
        ingest_text("8" * 60, IngestLimits(max_cell_chars=50))
    assert err.value.code == "cell_too_long"
    with pytest.raises(IngestError) as err:
        ingest_text("89161234567\n" * 30, IngestLimits(max_rows=10))
    assert err.value.code == "too_many_rows"


def test_every_error_code_is_documented_in_the_tuple() -> None:
    import bot.phones.errors as errors_mod

    source = open(errors_mod.__file__, encoding="utf-8").read()
    for code in ERROR_CODES:
        assert f"#   {code}" in source
    with pytest.raises(AssertionError):
        IngestError("no_such_code")


def test_error_pickles_with_code_and_params() -> None:
    import pickle

    err = pickle.loads(pickle.dumps(IngestError("cell_too_long", row=3, limit=10)))
    assert (err.code, err.params) == ("cell_too_long", {"row": 3, "limit": 10})
