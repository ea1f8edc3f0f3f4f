"""Limits of an upload and the errors that refuse it."""

from __future__ import annotations

from dataclasses import dataclass

# Every code IngestError may carry; the dialog checks each has a translation.
#   too_large          file bigger than IngestLimits.max_bytes          {"limit", "size"?}
#   too_many_cells     a sheet's grid spans more than max_cells         {"limit"}
#   unsupported_type   content is no accepted format (PNG as .xlsx...)   {"detected"?}
#   unreadable         broken file of an accepted type                  {"kind"?}
#   read_failed        reading it killed the worker process (or hit    {"kind"?}
#                      its memory ceiling): the file's fault or not, it is refused
#   encrypted          password-protected workbook                      {}
#   empty              no non-empty row at all                          {}
#   header_only        a header (or a single text row) and no data      {}
#   no_phone_column    no column found by header name or by its values  {}
#   too_many_rows      more data rows than max_rows                     {"limit"}
#   too_many_columns   more columns than max_columns                    {"limit", "row"?}
#   cell_too_long      a used cell longer than max_cell_chars           {"limit", "row"}
#   zip_bomb           xlsx/ods would inflate past max_inflated_bytes   {"limit"}
ERROR_CODES: tuple[str, ...] = (
    "too_large",
    "too_many_cells",
    "unsupported_type",
    "unreadable",
    "read_failed",
    "encrypted",
    "empty",
    "header_only",
    "no_phone_column",
    "too_many_rows",
    "too_many_columns",
    "cell_too_long",
    "zip_bomb",
)


@dataclass(frozen=True)
class IngestLimits:
    max_bytes: int = 20 * 1024 * 1024
    max_rows: int = 1_000_000
    max_columns: int = 200
    max_cell_chars: int = 1000
    # xlsx/ods uncompressed total, checked from the zip directory before inflating.
    max_inflated_bytes: int = 200 * 1024 * 1024
    # A spreadsheet's grid from A1 to its farthest cell, checked before a reader builds it
    # densely (32 bytes a cell in the reader, then a Python list of lists): ~1 GB at most.
    # max_rows x max_columns would be 200M cells, 6.4 GB; real lists are far narrower.
    max_cells: int = 20_000_000


class IngestError(Exception):
    """A file refused as a whole; `code` is one of ERROR_CODES, `params` fill the message."""

    def __init__(self, code: str, **params: int | str) -> None:
        assert code in ERROR_CODES, code
        self.code = code
        self.params: dict[str, int | str] = dict(params)
        super().__init__(code, self.params)

    def __reduce__(self):  # survives the trip back from a worker process
        return (_rebuild_error, (self.code, self.params))


def _rebuild_error(code: str, params: dict[str, int | str]) -> IngestError:
    return IngestError(code, **params)
