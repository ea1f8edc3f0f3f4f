"""Tiny spreadsheets whose grid is huge: two cells far apart, written by hand (bytes)."""

from __future__ import annotations

import io
import re
import struct
import zipfile
from collections.abc import Sequence

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_PKG = "http://schemas.openxmlformats.org/package/2006"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def sparse_xlsx(
    cells: Sequence[tuple[str, object]], *, dimension: str | None = None, sheet_xml: str = ""
) -> bytes:
    """An xlsx with the given cells ("A1", value); `dimension` is the declared <dimension
    ref> (may lie); `sheet_xml` replaces the whole sheet part when given."""
    if not sheet_xml:
        rows = []
        for ref, value in cells:
            r = re.sub(r"[A-Z]", "", ref)
            if isinstance(value, str):
                cell = f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'
            else:
                cell = f'<c r="{ref}"><v>{value}</v></c>'
            rows.append(f'<row r="{r}">{cell}</row>')
        dim = f'<dimension ref="{dimension}"/>' if dimension else ""
        sheet_xml = (
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{_MAIN}">{dim}'
            f"<sheetData>{''.join(rows)}</sheetData></worksheet>"
        )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(
            "[Content_Types].xml",
            f'<?xml version="1.0"?><Types xmlns="{_PKG}/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_CT}.worksheet+xml"/>'
            "</Types>",
        )
        zf.writestr(
            "_rels/.rels",
            f'<?xml version="1.0"?><Relationships xmlns="{_PKG}/relationships">'
            f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>",
        )
        zf.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0"?><workbook xmlns="{_MAIN}" xmlns:r="{_REL}">'
            '<sheets><sheet name="Лист1" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        zf.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<?xml version="1.0"?><Relationships xmlns="{_PKG}/relationships">'
            f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
            "</Relationships>",
        )
        zf.writestr("xl/worksheets/sheet1.xml", sheet_xml)
    return buf.getvalue()


# --- ods ------------------------------------------------------------------------------------

_ODS_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
)


def ods_text(value: str, repeat: int = 1) -> str:
    rep = f' table:number-columns-repeated="{repeat}"' if repeat != 1 else ""
    return (
        f'<table:table-cell office:value-type="string"{rep}>'
        f"<text:p>{value}</text:p></table:table-cell>"
    )


def ods_empty(repeat: int = 1) -> str:
    return f'<table:table-cell table:number-columns-repeated="{repeat}"/>'


def ods_row(cells: str, repeat: int = 1) -> str:
    rep = f' table:number-rows-repeated="{repeat}"' if repeat != 1 else ""
    return f"<table:table-row{rep}>{cells}</table:table-row>"


_MANIFEST = (
    '<?xml version="1.0"?><manifest:manifest '
    'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
    '<manifest:file-entry manifest:full-path="/" '
    'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
    '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
    "</manifest:manifest>"
)


def sparse_ods(rows_xml: str) -> bytes:
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODS_NS} '
        'office:version="1.2"><office:body><office:spreadsheet>'
        f'<table:table table:name="Лист1">{rows_xml}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", content)
        zf.writestr("META-INF/manifest.xml", _MANIFEST)
    return buf.getvalue()


# --- xls ------------------------------------------------------------------------------------


def xls_cells(cells: Sequence[tuple[int, int, object]]) -> bytes:
    """xlwt workbook with cells at (row, col), 0-based."""
    import xlwt

    wb = xlwt.Workbook()
    ws = wb.add_sheet("Лист1")
    for r, c, value in cells:
        ws.write(r, c, value)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def with_xls_dimensions(data: bytes, rows: int, cols: int) -> bytes:
    """The sheet's DIMENSIONS record rewritten to claim rows x cols (a lie). xlwt writes
    the stream contiguously, so the record is found and patched in place."""
    out = bytearray(data)
    at = out.find(b"\x00\x02\x0e\x00")
    assert at > 0, "no DIMENSIONS record"
    struct.pack_into("<IIHH", out, at + 4, 0, rows, 0, cols)
    return bytes(out)
