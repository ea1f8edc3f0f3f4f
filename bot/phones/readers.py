"""Readers: spreadsheets (python-calamine) and delimited text, as chunks of rows.

Each reader yields (rows, rownums): a list of row sequences and the 1-based line or
sheet-row number of each. Rows are never turned into dicts; the ingestion picks the
columns it needs.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator, Sequence

import polars as pl
from python_calamine import CalamineWorkbook, PasswordError, SheetTypeEnum

from .errors import IngestError, IngestLimits
from .extent import check_grid

CHUNK_ROWS = 4096  # small enough to stay in CPU caches, big enough for C-level loops
# The first chunk of a delimited file is smaller: for polars' reader it is only the
# sample the layout is judged by (a few hundred rows), not a part of the list.
FIRST_CHUNK_ROWS = 512
Chunk = tuple[list[Sequence[object]], Sequence[int]]
_DELIMITERS = (";", ",", "\t", "|")


# --- spreadsheets ---------------------------------------------------------------------------


def read_sheet(
    data: bytes,
    kind: str,
    limits: IngestLimits,
    *,
    sheet: int | None = None,
    sheets: list[tuple[int, str]] | None = None,
) -> Iterator[Chunk]:
    """Chunks of the first worksheet holding data, or of worksheet `sheet` (row numbers
    are sheet rows). `sheets` gets (index, name) of every worksheet holding data, the read
    one included, so the caller can offer the others."""
    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except PasswordError:
        raise IngestError("encrypted") from None
    except Exception as exc:  # calamine raises several error types for damaged files
        if "password" in str(exc).lower() or "encrypt" in str(exc).lower():
            raise IngestError("encrypted") from None
        raise IngestError("unreadable", kind=kind) from None
    chosen = None
    try:
        for index, meta in enumerate(wb.sheets_metadata):
            if meta.typ not in (SheetTypeEnum.WorkSheet,):
                continue
            if chosen is not None or (sheet is not None and index != sheet):
                if sheets is not None and _has_cells(wb, index):
                    sheets.append((index, meta.name))
                continue
            ws = wb.get_sheet_by_index(index)
            if ws.start is None or ws.height == 0:
                continue
            # Data rows are counted exactly later; this refuses absurd sheets before
            # they become Python objects, which start at A1 (skip_empty_area=False): the
            # grid's far corner counts, not the used range's size. extent.py has already
            # bounded what calamine itself allocates.
            check_grid(ws.end[0] + 1, ws.end[1] + 1, limits)
            rows = ws.to_python(skip_empty_area=False)
            if not any(any(c != "" for c in r) for r in rows[: ws.start[0] + 1000]):
                continue
            chosen = rows
            if sheets is None:
                break
            sheets.append((index, meta.name))
    except IngestError:
        raise
    except Exception:
        raise IngestError("unreadable", kind=kind) from None
    if chosen is None:
        raise IngestError("empty")
    return _sheet_chunks(chosen)


def _has_cells(wb: CalamineWorkbook, index: int) -> bool:
    """Whether another worksheet holds something: its used range only (calamine's own
    grid, already bounded by extent.py), no Python rows built."""
    ws = wb.get_sheet_by_index(index)
    return ws.start is not None and ws.height > 0


def _sheet_chunks(rows: list[list[object]]) -> Iterator[Chunk]:
    for start in range(0, len(rows), CHUNK_ROWS):
        chunk = rows[start : start + CHUNK_ROWS]
        yield chunk, range(start + 1, start + 1 + len(chunk))


# --- delimited text -------------------------------------------------------------------------


def sniff_delimiter(sample: str, ext: str) -> str:
    """The delimiter that splits the sample's lines most consistently into 2+ fields."""
    lines = sample.splitlines()[:200]
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        lines = lines[:-1]  # the sample may cut its last line
    best: tuple[float, int, int, str] | None = None
    for rank, delim in enumerate(_DELIMITERS):
        try:
            counts = [len(r) for r in csv.reader(lines, delimiter=delim) if r]
        except csv.Error:
            continue
        if not counts:
            continue
        mode = max(set(counts), key=counts.count)
        if mode < 2:
            continue
        share = counts.count(mode) / len(counts)
        preferred = 1 if (ext == "tsv" and delim == "\t") else 0
        key = (share + preferred, mode, -rank, delim)
        if best is None or key[:3] > best[:3]:
            best = key
    if best is None:
        return "\t" if ext == "tsv" else ";"
    return best[3]


def text_stream(data: bytes, encoding: str, errors: str = "replace") -> io.TextIOWrapper:
    # Decoded piecewise by the stream: no full decoded copy of a 20 MB file in memory.
    return io.TextIOWrapper(io.BytesIO(data), encoding=encoding, errors=errors, newline="")


def read_delimited(
    data: bytes, encoding: str, delimiter: str, limits: IngestLimits, errors: str = "replace"
) -> Iterator[Chunk]:
    """Chunks of CSV records; row numbers are the file lines where records start.

    The cell length limit is the csv module's field size limit: checked in C for every
    field. It is process-wide state, so it is set for the read and restored after; every
    caller uses the same configured limit, so threads reading at once agree on it."""
    previous = csv.field_size_limit(limits.max_cell_chars)
    try:
        yield from _records(data, encoding, delimiter, limits, errors)
    finally:
        csv.field_size_limit(previous)


def _records(
    data: bytes, encoding: str, delimiter: str, limits: IngestLimits, errors: str
) -> Iterator[Chunk]:
    reader = csv.reader(text_stream(data, encoding, errors), delimiter=delimiter, quotechar='"')
    size = FIRST_CHUNK_ROWS
    while True:
        before = reader.line_num
        try:
            chunk = list(itertools.islice(reader, size))
            size = CHUNK_ROWS
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                # line_num is the line where the parser stopped: the long cell's line.
                raise IngestError(
                    "cell_too_long", row=reader.line_num, limit=limits.max_cell_chars
                ) from None
            raise IngestError("unreadable", kind="csv") from None
        if not chunk:
            return
        after = reader.line_num
        if after - before == len(chunk):
            nums: Sequence[int] = range(before + 1, after + 1)
        else:  # some record spans lines (a quoted line break): count them per record
            nums = []
            line = before + 1
            for row in chunk:
                nums.append(line)
                line += 1 + sum(f.count("\n") + f.count("\r") - f.count("\r\n") for f in row)
        width = max(map(len, chunk))
        if width > limits.max_columns:
            row = next(n for r, n in zip(chunk, nums, strict=True) if len(r) == width)
            raise IngestError("too_many_columns", limit=limits.max_columns, row=row)
        yield chunk, nums


# --- delimited text, whole columns ----------------------------------------------------------


def as_utf8(data: bytes, encoding: str, errors: str = "replace") -> bytes:
    """The file as UTF-8 without a BOM, for polars' reader (which takes UTF-8 only)."""
    if encoding == "utf-8":
        return data  # validated by polars as it reads (a bad byte: the Python reader)
    if encoding == "utf-8-sig":
        return data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    return data.decode(encoding, errors=errors).encode("utf-8", "surrogatepass")


def read_frame(data: bytes, delimiter: str, limits: IngestLimits) -> pl.DataFrame | None:
    """The whole delimited file as String columns, one row per line, read by polars in
    its own threads; None when the csv module must read it instead: a lone CR as a line
    end, a NUL, a quoted line break (a record over several lines), rows wider than the
    first, malformed quoting, invalid UTF-8, or a limit crossed (the Python reader then
    raises the exact error with its row)."""
    if b"\x00" in data or (b"\r" in data and data.count(b"\r") != data.count(b"\r\n")):
        return None
    try:
        frame = pl.read_csv(
            data,
            has_header=False,
            separator=delimiter,
            quote_char='"',
            infer_schema=False,
            empty_string_is_null=False,
            raise_if_empty=False,
            encoding="utf8",
        )
    except Exception:  # polars raises several error types for what it cannot take
        return None
    if frame.width > limits.max_columns:
        return None
    # One row per line: a quoted line break would make a record of two lines. Without a
    # quote character there is none (and no pass over the file to count its lines).
    if b'"' in data:
        lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
        if frame.height != lines:
            return None
    if sum(frame.null_count().row(0)):  # short rows: padded with "", as the csv path does
        frame = frame.with_columns(pl.all().fill_null(""))
    # Bytes first (no pass over the text); characters only if some cell might be too long.
    limit = limits.max_cell_chars
    widest = frame.select(pl.all().str.len_bytes().max()).row(0) if frame.width else ()
    if any(n is not None and n > limit for n in widest):
        longest = frame.select(pl.all().str.len_chars().max()).row(0)
        if any(n is not None and n > limit for n in longest):
            return None
    return frame
