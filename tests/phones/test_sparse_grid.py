"""A tiny spreadsheet whose grid is huge is refused before any reader builds the grid.

python-calamine builds a sheet densely: A1 plus XFD1048576 in a 1.6 KB xlsx asked for
549 GB and aborted the process. Every test here makes the reader unreachable, so a bound
that did not hold would fail the test instead of taking pytest down with it.
"""

from __future__ import annotations

import pytest

import bot.phones.readers as readers
from bot.phones import IngestError, IngestLimits, ingest_bytes
from bot.phones.extent import _Cfb, check_extent

from .builders import ods_bytes, xls_bytes, xlsx_bytes
from .sparse import (
    ods_empty,
    ods_row,
    ods_text,
    sparse_ods,
    sparse_xlsx,
    with_xls_dimensions,
    xls_cells,
)


class ReaderReached(BaseException):
    """Not an Exception: the reader's own error handling must not swallow it."""


@pytest.fixture
def no_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    class Unreachable:
        @staticmethod
        def from_filelike(*_a, **_k):
            raise ReaderReached("the reader was reached: the grid was not bounded first")

    monkeypatch.setattr(readers, "CalamineWorkbook", Unreachable)


def _refused(data: bytes, name: str, limits: IngestLimits = IngestLimits()) -> IngestError:  # noqa: B008
    with pytest.raises(IngestError) as err:
        ingest_bytes(data, name, limits)
    return err.value


def test_two_far_cells_in_a_tiny_xlsx_are_refused(no_reader: None) -> None:
    data = sparse_xlsx([("A1", "Телефон"), ("XFD1048576", 1)])
    assert len(data) < 2000
    err = _refused(data, "list.xlsx")
    assert err.code == "too_many_rows"  # 1,048,576 rows from A1 on; columns would fail too


def test_a_grid_within_rows_and_columns_but_over_the_cell_budget(no_reader: None) -> None:
    # 1,001,000 rows x 200 columns passes both old checks and needed ~6.4 GB.
    err = _refused(sparse_xlsx([("A1", "Телефон"), ("GR1001000", 1)]), "list.xlsx")
    assert err.code == "too_many_cells"
    assert _refused(sparse_xlsx([("A1", "x"), ("IV2", 1)]), "w.xlsx").code == "too_many_columns"


def test_a_far_cell_written_with_a_line_break_for_the_space_is_counted(
    no_reader: None,
) -> None:
    """`<c\nr="XFD1048576">` is a cell for the reader as much as `<c r=...>`."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    xml = (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{main}"><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>Телефон</t></is></c>'
        '<c\nr="XFD1048576"><v>1</v></c></row></sheetData></worksheet>'
    )
    assert _refused(sparse_xlsx([], sheet_xml=xml), "list.xlsx").code in (
        "too_many_rows",
        "too_many_columns",
        "too_many_cells",
    )


def test_the_declared_dimension_is_not_trusted(no_reader: None) -> None:
    lying = sparse_xlsx([("A1", "Телефон"), ("GR1001000", 1)], dimension="A1:A2")
    assert _refused(lying, "list.xlsx").code == "too_many_cells"


def test_cells_without_references_are_placed_as_the_reader_places_them(no_reader: None) -> None:
    # No r= anywhere: row 1 holds 300 cells one after another -> 300 columns.
    cells = "<c><v>1</v></c>" * 300
    xml = (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData><row>{cells}</row></sheetData></worksheet>"
    )
    assert _refused(sparse_xlsx([], sheet_xml=xml), "x.xlsx").code == "too_many_columns"


def test_prefixed_tags_and_a_tag_cut_by_the_read_chunk(monkeypatch) -> None:
    import bot.phones.extent as extent

    monkeypatch.setattr(extent, "_CHUNK", 7)  # every tag is cut somewhere
    xml = (
        '<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<x:sheetData><x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c></x:row>'
        '<x:row r="5"><x:c r="KZ5" s="1"/><x:c r="C5"><x:v>2</x:v></x:c></x:row>'
        "</x:sheetData></x:worksheet>"
    )
    # The self-closing KZ5 holds no value (the reader skips it): 5 rows x 3 columns.
    assert list(extent._xlsx_extents(sparse_xlsx([], sheet_xml=xml))) == [(5, 3, 0)]
    limits = IngestLimits(max_rows=10, max_columns=2)
    with pytest.raises(IngestError) as err:
        check_extent(sparse_xlsx([], sheet_xml=xml), "xlsx", limits)
    assert err.value.code == "too_many_columns"


def test_the_fast_scan_reads_tags_cut_by_its_pieces(monkeypatch) -> None:
    import io as _io

    import bot.phones.extent as extent

    xml = (
        b'<sheetData><row r="1"><c r="A1"><v>1</v></c><c r="Q1" s="2"/></row>'
        b'<row r="70"><c r="AB70" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'
    )
    monkeypatch.setattr(extent, "_FAST_CHUNK", 5)  # every tag is cut somewhere
    assert extent._xml_sheet_extent_fast(_io.BytesIO(xml)) == (70, 28)
    assert extent._xml_sheet_extent(_io.BytesIO(xml)) == (70, 28)


def test_ordinary_files_still_read(monkeypatch) -> None:
    rows = [["Телефон", "Имя"], ["89161234567", "Анна"], ["89161234568", "Борис"]]
    for data, name in ((xlsx_bytes(rows), "a.xlsx"), (ods_bytes(rows), "a.ods"),
                       (xls_bytes(rows), "a.xls")):
        assert ingest_bytes(data, name).accepted == 2, name
    # A far, but reasonable, corner: data may start low on the sheet.
    far = sparse_xlsx([("A1", "Телефон"), ("A2", 89161234567), ("T500", "x")])
    assert ingest_bytes(far, "far.xlsx").accepted == 1


def test_ods_repeats_are_counted(no_reader: None) -> None:
    # One string cell repeated across 20,000 columns, the row repeated 2,000 times.
    wide = sparse_ods(ods_row(ods_text("Телефон")) + ods_row(ods_text("1", 20_000), 2_000))
    assert len(wide) < 2000
    assert _refused(wide, "wide.ods").code == "too_many_columns"
    tall = sparse_ods(
        ods_row(ods_text("Телефон")) + ods_row(ods_empty(3), 3_000_000) + ods_row(ods_text("1"))
    )
    assert _refused(tall, "tall.ods").code == "too_many_rows"
    dense = sparse_ods(ods_row(ods_text("Телефон")) + ods_row(ods_text("1", 150), 200_000))
    assert _refused(dense, "dense.ods").code == "too_many_cells"


def test_ods_padding_of_empty_repeats_holds_nothing() -> None:
    # LibreOffice pads every sheet to 1024 columns x 1,048,576 rows with empty repeats.
    padded = sparse_ods(
        ods_row(ods_text("Телефон") + ods_empty(1023))
        + ods_row(ods_text("89161234567") + ods_empty(1023))
        + ods_row(ods_empty(1024), 1_048_574)
    )
    assert ingest_bytes(padded, "padded.ods").accepted == 1


def test_xls_far_cell_and_lying_dimensions(no_reader: None) -> None:
    far = xls_cells([(0, 0, "Телефон"), (1, 0, "89161234567"), (60_000, 250, 1)])
    assert _refused(far, "far.xls").code == "too_many_columns"
    # DIMENSIONS claiming 65536 x 65535: the reader reserved 171 GB for it up front.
    lying = with_xls_dimensions(xls_cells([(0, 0, "Телефон"), (1, 0, "89161234567")]),
                                65_536, 65_535)
    assert _refused(lying, "lying.xls").code == "too_many_cells"


def test_xls_many_rows_go_through_the_regular_fat() -> None:
    rows = [["Телефон"]] + [[f"8916{i:07d}"] for i in range(3000)]
    data = xls_bytes(rows)
    assert len(data) > 4096 * 8
    assert ingest_bytes(data, "big.xls").accepted == 3000


def test_a_broken_compound_file_is_unreadable_not_a_hang() -> None:
    data = bytearray(xls_cells([(0, 0, "Телефон"), (1, 0, "89161234567")]))
    size = 1 << int.from_bytes(data[0x1E:0x20], "little")
    # The first FAT sector: every chain points at itself.
    fat_sector = int.from_bytes(data[0x4C:0x50], "little")
    off = (fat_sector + 1) * size
    for i in range(0, size, 4):
        data[off + i : off + i + 4] = (i // 4).to_bytes(4, "little")
    with pytest.raises(IngestError) as err:
        check_extent(bytes(data), "xls", IngestLimits())
    assert err.value.code == "unreadable"
    with pytest.raises(ValueError):
        _Cfb(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100))


def test_the_fast_scan_agrees_with_the_exact_one() -> None:
    import io as _io

    import bot.phones.extent as extent

    sheets = [
        sparse_xlsx([("A1", "Телефон"), ("C7", 1), ("AB3", "x")]),
        sparse_xlsx([("B2", 1), ("XFD1048576", 2)]),
        xlsx_bytes([["Телефон", "", "x"], ["89161234567"]]),
    ]
    for data in sheets:
        import zipfile

        with zipfile.ZipFile(_io.BytesIO(data)) as zf:
            xml = zf.read("xl/worksheets/sheet1.xml")
        fast = extent._xml_sheet_extent_fast(_io.BytesIO(xml))
        assert fast is not None and fast == extent._xml_sheet_extent(_io.BytesIO(xml))
    # A styled empty cell far away holds nothing: both skip it.
    xml = b'<sheetData><row r="1"><c r="A1"><v>1</v></c><c r="ZZ900" s="3"/></row></sheetData>'
    assert extent._xml_sheet_extent_fast(_io.BytesIO(xml)) == (1, 1)
    assert extent._xml_sheet_extent(_io.BytesIO(xml)) == (1, 1)
    # Cells the fast scan does not take as written leave it to the exact one, which
    # finds the far cell (a line break for the space, r= not first, a prefix, not UTF-8).
    far = b'<c r="A1"><v>1</v></c>'
    for odd, extent_ in [
        (b'<c\nr="XFD100"><v>1</v></c>', (100, 16384)),
        (b'<c s="1" r="C5"><v>1</v></c>', (5, 3)),
        (b'<x:c r="AB70000"><x:v>1</x:v></x:c>', (70_000, 28)),
        (b'<c r="D9" t="inlineStr"><is><t>\xff</t></is></c>', (9, 4)),
    ]:
        xml = b'<sheetData><row r="1">' + far + odd + b"</row></sheetData>"
        assert extent._xml_sheet_extent_fast(_io.BytesIO(xml)) is None, odd
        assert extent._xml_sheet_extent(_io.BytesIO(xml)) == extent_, odd
    # Self-closing cells among full ones: only the full ones count.
    xml = b'<sheetData><row r="1"><c r="B7"><v>1</v></c><c r="Q2"/><c r="C3" s="2"/></row>'
    assert extent._xml_sheet_extent_fast(_io.BytesIO(xml + b"</sheetData>")) == (7, 2)


def test_xlsb_records_are_counted() -> None:
    import io as _io
    import struct

    from bot.phones.extent import _xlsb_sheet_extent

    def record(typ: int, body: bytes) -> bytes:
        return bytes([typ, len(body)]) + body  # both fit one varint byte here

    row = record(0, struct.pack("<I", 70_000) + bytes(8))
    cell = record(5, struct.pack("<II", 300, 0) + struct.pack("<d", 1.0))  # BrtCellReal
    assert _xlsb_sheet_extent(_io.BytesIO(row + cell)) == (70_001, 301)
