"""Fixture files of every accepted format, generated in the tests."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Sequence

Row = Sequence[object]


def csv_bytes(rows: Sequence[Row], *, delimiter: str = ";", encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: Sequence[Row], *, formats: dict[str, str] | None = None) -> bytes:
    """openpyxl workbook; `formats` maps a cell ("C2") to a number format."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            if value is not None and value != "":
                ws.cell(row=r, column=c, value=value)
    for ref, fmt in (formats or {}).items():
        ws[ref].number_format = fmt
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def xls_bytes(rows: Sequence[Row], *, styles: dict[tuple[int, int], str] | None = None) -> bytes:
    """xlwt (legacy .xls); `styles` maps (row, col) (0-based) to a number format."""
    import xlwt

    wb = xlwt.Workbook()
    ws = wb.add_sheet("Лист1")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is None or value == "":
                continue
            fmt = (styles or {}).get((r, c))
            if fmt:
                ws.write(r, c, value, xlwt.easyxf(num_format_str=fmt))
            else:
                ws.write(r, c, value)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def ods_bytes(rows: Sequence[Row]) -> bytes:
    """odfpy spreadsheet: str -> string cell, float/int -> float cell, time -> time cell."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = OpenDocumentSpreadsheet()
    table = Table(name="Лист1")
    for row in rows:
        tr = TableRow()
        for value in row:
            if value is None or value == "":
                tr.addElement(TableCell())
            elif isinstance(value, dt.time):
                iso = f"PT{value.hour:02d}H{value.minute:02d}M{value.second:02d}S"
                cell = TableCell(valuetype="time", timevalue=iso)
                cell.addElement(P(text=value.strftime("%H:%M")))
                tr.addElement(cell)
            elif isinstance(value, dt.date):
                cell = TableCell(valuetype="date", datevalue=value.isoformat())
                cell.addElement(P(text=value.isoformat()))
                tr.addElement(cell)
            elif isinstance(value, int | float):
                cell = TableCell(valuetype="float", value=value)
                cell.addElement(P(text=str(value)))
                tr.addElement(cell)
            else:
                cell = TableCell(valuetype="string")
                cell.addElement(P(text=str(value)))
                tr.addElement(cell)
        table.addElement(tr)
    doc.spreadsheet.addElement(table)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def with_zip_entry(archive: bytes, name: str, size: int, chunk: int = 1 << 20) -> bytes:
    """The archive plus one highly compressible entry of `size` zero bytes, written in
    pieces so the test never holds it in memory."""
    buf = io.BytesIO(archive)
    with zipfile.ZipFile(buf, "a", zipfile.ZIP_DEFLATED) as zf, zf.open(name, "w") as f:
        zero = bytes(chunk)
        left = size
        while left > 0:
            f.write(zero[: min(chunk, left)])
            left -= chunk
    return buf.getvalue()


PNG_HEADER = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06"
