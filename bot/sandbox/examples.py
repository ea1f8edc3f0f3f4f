"""Example contact lists the demo page offers one click away: a CSV and an xlsx with the
same rows, one of them unusable so that the rejected-rows report shows up too.

The xlsx is written here with zipfile (a minimal SpreadsheetML workbook) rather than with
openpyxl, which the bot does not depend on at run time."""

from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import escape

HEADER = ("Телефон", "name", "time")
ROWS: tuple[tuple[str, str, str], ...] = (
    ("+7 916 123-45-67", "Иванов Иван", "10:00"),
    ("89161234568", "Петрова Анна", "11:30"),
    ("8 (912) 345-67-89", "Сидоров Пётр", "12:15"),
    ("12345", "Номер с ошибкой", "13:00"),
)
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def example_csv() -> bytes:
    lines = [";".join(row) for row in (HEADER, *ROWS)]
    # The BOM and ';' are what Excel writes for a Russian locale.
    return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")


def _cell(ref: str, value: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'


def example_xlsx() -> bytes:
    rows = []
    for r, row in enumerate((HEADER, *ROWS), start=1):
        cells = "".join(_cell(f"{col}{r}", value) for col, value in zip("ABC", row, strict=True))
        rows.append(f'<row r="{r}">{cells}</row>')
    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{''.join(rows)}</sheetData></worksheet>"
    )
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            '<sheets><sheet name="Контакты" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": sheet,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return buffer.getvalue()


# name -> (bytes, MIME type), as the page lists them
EXAMPLES = {
    "example.xlsx": (example_xlsx, XLSX_MIME),
    "example.csv": (example_csv, "text/csv"),
}
