"""The rejected-rows report: xlsx (hand-written SpreadsheetML) or csv, formula-safe."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import chain
from xml.sax.saxutils import escape

from .result import IngestResult

# Cells starting with these become formulas (or DDE) when a spreadsheet opens the file.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
# Characters XML 1.0 cannot carry at all.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class ReportTexts:
    """The report's words in the user's language, handed to the worker that builds it
    (gettext is the bot's; the worker only gets these strings)."""

    reasons: dict[str, str] = field(default_factory=dict)
    fallback: str = ""
    headers: tuple[str, str, str] = ("Строка", "Значение", "Причина")
    left_out_title: str = "Другие номера"

    def describe(self, code: str) -> str:
        return self.reasons.get(code, self.fallback or code)


def _table(
    result: IngestResult, describe_reason: Callable[[str], str], headers: tuple[str, str, str]
) -> Iterable[tuple[int | str, str, str]]:
    yield headers
    for r in result.rejected_rows:
        yield r.row, r.value, describe_reason(r.reason)


def _left_out(
    result: IngestResult, describe_reason: Callable[[str], str], headers: tuple[str, str, str]
) -> Iterable[tuple[int | str, str, str]]:
    yield headers
    for r in result.left_out:
        yield r.row, r.value, describe_reason(r.reason)


def build_report(
    result: IngestResult,
    describe_reason: Callable[[str], str],
    *,
    fmt: str = "xlsx",
    headers: tuple[str, str, str] = ("Строка", "Значение", "Причина"),
    left_out_title: str = "Другие номера",
) -> bytes:
    """Rejected rows: original row number, value and reason text; then the numbers of
    multi-number cells that were not used (a second sheet, or a section of the csv), so
    nothing leaves the file silently. No cell can become a live formula: xlsx cells are
    inline strings (never parsed as formulas); csv cells that start with = + - @ tab or
    CR get a leading apostrophe."""
    rows = _table(result, describe_reason, headers)
    extra = _left_out(result, describe_reason, headers) if result.left_out else None
    if fmt == "xlsx":
        sheets = [("Report", rows)]
        if extra is not None:
            sheets.append((left_out_title, extra))
        return _xlsx(sheets)
    if fmt == "csv":
        if extra is not None:
            rows = chain(rows, [("", "", ""), (left_out_title, "", "")], extra)
        return _csv(rows)
    raise ValueError(f"unknown report format {fmt!r}")


def _csv_safe(v: int | str) -> int | str:
    if isinstance(v, str) and v.startswith(_FORMULA_START):
        return "'" + v
    return v


def _csv(rows: Iterable[tuple[int | str, str, str]]) -> bytes:
    out = io.StringIO()
    # Semicolons and a BOM: what Russian Excel opens correctly by double click.
    w = csv.writer(out, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    for row in rows:
        w.writerow([_csv_safe(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# What a text needs changed to sit in XML: markup characters, CR, characters XML cannot
# carry. Most values (numbers as written) have none: they are put in as they are.
_XML_SPECIAL = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(v: object) -> str:
    text = str(v)
    if _XML_SPECIAL.search(text) is None:
        return text
    # CR as a character reference: a literal one would be read back as LF.
    return escape(_XML_INVALID.sub("\ufffd", text), {"\r": "&#13;"})


_OOXML = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_PKG = "http://schemas.openxmlformats.org/package/2006"
_DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<Types xmlns="{_PKG}/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_OOXML}.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_OOXML}.worksheet+xml"/>'
    f'<Override PartName="/xl/styles.xml" ContentType="{_OOXML}.styles+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    f'<Relationships xmlns="{_PKG}/relationships">'
    f'<Relationship Id="rId1" Type="{_DOC_REL}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)


_ATTR = {'"': "&quot;"}


def _workbook(names: list[str]) -> str:
    sheets = "".join(
        f'<sheet name="{escape(name[:31], _ATTR)}" sheetId="{i}" r:id="rId{i}"/>'
        for i, name in enumerate(names, start=1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'xmlns:r="{_DOC_REL}"><sheets>{sheets}</sheets></workbook>'
    )


def _workbook_rels(count: int) -> str:
    sheets = "".join(
        f'<Relationship Id="rId{i}" Type="{_DOC_REL}/worksheet" '
        f'Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, count + 1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<Relationships xmlns="{_PKG}/relationships">{sheets}'
        f'<Relationship Id="rId{count + 1}" Type="{_DOC_REL}/styles" Target="styles.xml"/>'
        "</Relationships>"
    )


def _content_types(count: int) -> str:
    sheets = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_OOXML}.worksheet+xml"/>'
        for i in range(2, count + 1)
    )
    return _CONTENT_TYPES.replace("</Types>", sheets + "</Types>")

# The least a styles part needs; cell format 1 = text with quotePrefix (Excel's leading
# apostrophe): an edited or re-saved "=..." or "+7..." stays a value, not a formula.
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1" '
    'applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<cols><col min="1" max="1" width="10" customWidth="1"/>'
    '<col min="2" max="2" width="30" customWidth="1"/>'
    '<col min="3" max="3" width="60" customWidth="1"/></cols><sheetData>'
)


def _sheet(rows: Iterable[tuple[int | str, str, str]]) -> str:
    parts = [_SHEET_HEAD]
    append = parts.append
    texts: dict[object, str] = {}  # the reasons repeat: each escaped once
    for r, row in enumerate(rows, start=1):
        append(f'<row r="{r}">')
        for col, v in zip("ABC", row, strict=False):
            if isinstance(v, int) and not isinstance(v, bool):
                append(f'<c r="{col}{r}"><v>{v}</v></c>')
                continue
            text = texts.get(v)
            if text is None:
                text = texts[v] = _xml_text(v)
            # An inline string is text by type; Excel never evaluates it, whatever it
            # starts with. Style 1 is quotePrefix: the cell stays text after a user
            # edits it or saves as CSV.
            append(
                f'<c r="{col}{r}" s="1" t="inlineStr"><is><t xml:space="preserve">{text}</t>'
                "</is></c>"
            )
        append("</row>")
    append("</sheetData></worksheet>")
    return "".join(parts)


def _xlsx(sheets: list[tuple[str, Iterable[tuple[int | str, str, str]]]]) -> bytes:
    buf = io.BytesIO()
    # Level 1: a report of thousands of rows deflates in a third of the default's time,
    # a few percent larger.
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("[Content_Types].xml", _content_types(len(sheets)))
        zf.writestr("_rels/.rels", _ROOT_RELS)
        zf.writestr("xl/workbook.xml", _workbook([name for name, _ in sheets]))
        zf.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(len(sheets)))
        zf.writestr("xl/styles.xml", _STYLES)
        for i, (_name, rows) in enumerate(sheets, start=1):
            zf.writestr(f"xl/worksheets/sheet{i}.xml", _sheet(rows))
    return buf.getvalue()
