"""Text cells of the rejected-rows report carry quotePrefix (Excel's leading apostrophe):
a "=..." or "+7..." value stays text after a user edits the cell or saves as CSV."""

from __future__ import annotations

import io
import re
import zipfile

import openpyxl

from bot.phones import REJECT_REASON_RU, build_report, ingest_bytes

from .builders import csv_bytes

HOSTILE = ['=HYPERLINK("http://x")', "+79161234567+1", "-2+3", "@SUM(A1)"]


def _report() -> bytes:
    rows = [["Телефон"]] + [[v] for v in HOSTILE] + [["89161234567"]]
    return build_report(ingest_bytes(csv_bytes(rows), "h.csv"), REJECT_REASON_RU.__getitem__)


def test_text_cells_have_the_quote_prefix_style() -> None:
    data = _report()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        styles = zf.read("xl/styles.xml").decode()
        sheet = zf.read("xl/worksheets/sheet1.xml").decode()
    xfs = re.search(r"<cellXfs[^>]*>(.*?)</cellXfs>", styles).group(1)
    prefixed = [i for i, xf in enumerate(re.findall(r"<xf [^>]*>", xfs)) if 'quotePrefix="1"' in xf]
    text_styles = set(re.findall(r'<c r="[A-Z]+\d+" s="(\d+)" t="inlineStr"', sheet))
    assert text_styles and {int(s) for s in text_styles} <= set(prefixed)

    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    for row in ws.iter_rows(min_row=2):
        number, value, reason = row
        assert value.quotePrefix and reason.quotePrefix, value.coordinate
        assert value.number_format == "@"  # and typed-over text stays text
        assert not number.quotePrefix and isinstance(number.value, int)
    assert [ws.cell(row=r, column=2).value for r in range(2, 2 + len(HOSTILE))] == HOSTILE


def test_the_styled_report_reads_back_with_the_upload_reader() -> None:
    from python_calamine import CalamineWorkbook

    back = CalamineWorkbook.from_filelike(io.BytesIO(_report())).get_sheet_by_index(0).to_python()
    assert back[0] == ["Строка", "Значение", "Причина"]
    assert [r[1] for r in back[1:]] == HOSTILE
