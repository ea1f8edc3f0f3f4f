"""How big a sheet's grid is, found before any reader builds it.

python-calamine turns a sheet into a dense grid (rows x columns, 32 bytes a cell in Rust,
then a Python list of lists from A1 on): two cells, A1 and XFD1048576, in a 1.6 KB xlsx ask
for 549 GB and the allocator aborts the process. So the extent of every worksheet is read
here first, from the raw file and in bounded memory: the xlsx/xlsb sheet parts are streamed
from the zip, the ods content.xml too, and the xls Workbook stream is walked record by
record. Declared sizes (<dimension>, DIMENSIONS) may lie, so the cells themselves are
counted; what the reader would skip (self-closing empty cells, trailing empty repeats of
ods) is skipped here too, anything doubtful counts: the bound errs on the safe side.
"""

from __future__ import annotations

import io
import posixpath
import re
import struct
import zipfile
from collections.abc import Iterator

from .errors import IngestError, IngestLimits

_CHUNK = 1 << 20
# The fast xlsx scan's pieces: fewer, larger passes of polars' regexes (each call has a
# cost of its own that, in a fresh worker, doubled the scan's time on 1 MB pieces).
_FAST_CHUNK = 8 << 20
_ROW_SLACK = 1000  # a header, titles and blank rows above the data (as in readers.py)
_MAX_XML_TAG = 64 * 1024  # an unfinished tag longer than this is no spreadsheet


def check_extent(data: bytes, kind: str, limits: IngestLimits) -> None:
    """Refuse a workbook one of whose sheets spans more than the limits allow."""
    try:
        if kind == "xlsx":
            extents = list(_xlsx_extents(data))
        elif kind == "ods":
            extents = list(_ods_extents(data))
        elif kind == "xls":
            extents = list(_xls_extents(data))
        else:
            return
    except IngestError:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError, struct.error,
            RuntimeError, NotImplementedError):
        # Damaged beyond what the reader could use; the zip checks already passed.
        raise IngestError("unreadable", kind=kind) from None
    for rows, cols, reserved in extents:
        check_grid(rows, cols, limits)
        if reserved > limits.max_cells:  # what the reader allocates up front (xls)
            raise IngestError("too_many_cells", limit=limits.max_cells)


def check_grid(rows: int, cols: int, limits: IngestLimits) -> None:
    """rows, cols: from A1 to the farthest used cell (the Python grid starts at A1)."""
    if rows > limits.max_rows + _ROW_SLACK:
        raise IngestError("too_many_rows", limit=limits.max_rows)
    if cols > limits.max_columns:
        raise IngestError("too_many_columns", limit=limits.max_columns)
    if rows * cols > limits.max_cells:
        raise IngestError("too_many_cells", limit=limits.max_cells)


# --- streamed XML ---------------------------------------------------------------------------


def _buffers(stream: io.BufferedIOBase, size: int | None = None) -> Iterator[bytes]:
    """The stream in pieces of about `size` bytes (_CHUNK), each cut after a complete
    tag: a tag cut by a read is carried over to the next piece."""
    size = size or _CHUNK
    tail = b""
    while True:
        chunk = stream.read(size)
        if not chunk:
            if tail:
                yield tail
            return
        buf = tail + chunk if tail else chunk
        cut = buf.rfind(b"<")
        if cut >= 0 and buf.find(b">", cut) < 0:
            buf, tail = buf[:cut], buf[cut:]
            if len(tail) > _MAX_XML_TAG:
                raise ValueError("unterminated tag")
        else:
            tail = b""
        yield buf


def _tags(stream: io.BufferedIOBase, pattern: re.Pattern[bytes]) -> Iterator[re.Match[bytes]]:
    """Matches of `pattern` (a start or end tag, up to its '>') over the stream."""
    for buf in _buffers(stream):
        yield from pattern.finditer(buf)


def _attr(attrs: bytes, name: bytes) -> bytes | None:
    m = re.search(rb"(?:^|\s)" + name + rb"\s*=\s*[\"']([^\"']*)[\"']", attrs)
    return m.group(1) if m else None


_REF = re.compile(rb"\s*\$?([A-Za-z]{1,12})\$?([0-9]{1,15})\s*")


def _ref(value: bytes) -> tuple[int, int] | None:
    """'XFD1048576' -> (1048575, 16383), 0-based; None if it is no cell reference."""
    m = _REF.fullmatch(value)
    if not m:
        return None
    col = 0
    for ch in m.group(1).upper():
        col = col * 26 + ch - 64
    return int(m.group(2)) - 1, col - 1


# --- xlsx / xlsm / xlsb ---------------------------------------------------------------------

_XLSX_TAG = re.compile(rb"<(/?)(?:[\w.-]+:)?(row|c)(?=[\s/>])([^>]*)>")
_REL = re.compile(rb"<(?:[\w.-]+:)?Relationship\b([^>]*)>")


def _sheet_parts(zf: zipfile.ZipFile) -> list[str]:
    """Every part a worksheet may live in: the workbook's worksheet relationships (the
    reader follows them) and, in case they are odd, everything under xl/worksheets/."""
    names = set(zf.namelist())
    parts = {n for n in names if n.startswith("xl/worksheets/") and n.endswith((".xml", ".bin"))}
    for rels in ("xl/_rels/workbook.xml.rels", "xl/_rels/workbook.bin.rels"):
        if rels not in names:
            continue
        with zf.open(rels) as f:
            for m in _tags(f, _REL):
                typ = _attr(m.group(1), b"Type") or b""
                target = _attr(m.group(1), b"Target")
                if not typ.endswith(b"/worksheet") or not target:
                    continue
                t = target.decode("utf-8", "replace")
                path = t.lstrip("/") if t.startswith("/") else posixpath.join("xl", t)
                path = posixpath.normpath(path)
                if path in names:
                    parts.add(path)
    return sorted(parts)


def _xlsx_extents(data: bytes) -> Iterator[tuple[int, int, int]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for part in _sheet_parts(zf):
            if part.endswith(".bin"):
                with zf.open(part) as f:
                    yield (*_xlsb_sheet_extent(f), 0)
                continue
            with zf.open(part) as f:
                ext = _xml_sheet_extent_fast(f)
            if ext is None:  # some cell without r=: placed one by one
                with zf.open(part) as f:
                    ext = _xml_sheet_extent(f)
            yield (*ext, 0)


# A cell under a namespace prefix, or a cell tag not written <c r="A1"...> (no r=, r= not
# first, whitespace other than one space): the exact scan places those.
_PREFIXED_CELL = re.compile(rb":c[\s>/]")
_OTHER_CELL = re.compile(rb'<c(?:[>/\t\n\r]| (?!r="[A-Z]{1,12}[0-9]{1,15}"))')
_EMPTY_CELL = re.compile(rb"<c [^>]*/>")
_CELL_REF = r'<c r="[A-Z]{1,12}[0-9]{1,15}"'


def _xml_sheet_extent_fast(stream: io.BufferedIOBase) -> tuple[int, int] | None:
    """The usual sheet, every cell written <c r="B2" ...> (Excel, LibreOffice, openpyxl):
    the farthest cell found by C-level searches and polars' regex passes over each piece,
    without a Python object per cell (the tag-by-tag scan took about as long as reading
    the sheet). None when some cell is written otherwise or a piece is not UTF-8: the
    exact scan."""
    import polars as pl

    max_row = max_col = 0
    for buf in _buffers(stream, _FAST_CHUNK):
        if _PREFIXED_CELL.search(buf) or _OTHER_CELL.search(buf):
            return None
        try:
            piece = pl.Series("x", [buf], dtype=pl.Binary).cast(pl.String)
        except pl.exceptions.PolarsError:
            return None
        if _EMPTY_CELL.search(buf):
            # A self-closing cell holds nothing: the reader skips it.
            tags = piece.str.extract_all(_CELL_REF + "[^>]*>").explode().drop_nulls()
            refs = tags.filter(~tags.str.ends_with("/>"))
        else:
            refs = piece.str.extract_all(_CELL_REF).explode().drop_nulls()
        if refs.is_empty():
            continue
        parts = refs.str.extract_groups(r'"([A-Z]+)([0-9]+)')
        max_row = max(max_row, int(parts.struct.field("2").cast(pl.Int64).max()))  # type: ignore[arg-type]
        for letters in parts.struct.field("1").unique().to_list():
            col = 0
            for ch in letters:
                col = col * 26 + ord(ch) - 64
            max_col = max(max_col, col)
    return max_row, max_col


def _xml_sheet_extent(stream: io.BufferedIOBase) -> tuple[int, int]:
    """(rows, cols) from A1 to the farthest cell holding something. A cell without `r`
    is the one after the previous cell (a row without `r`, after the previous row), as
    the reader places it; `<dimension>` is not trusted, the cells are counted."""
    row, col = -1, -1
    max_row, max_col = -1, -1
    for m in _tags(stream, _XLSX_TAG):
        closing, name, attrs = m.groups()
        if name == b"row":
            if closing:
                continue
            r = _attr(attrs, b"r")
            row = int(r) - 1 if r and r.strip().isdigit() else row + 1
            col = -1
            continue
        if closing:
            continue
        ref = _attr(attrs, b"r")
        pos = _ref(ref) if ref else None
        if pos is not None:
            row, col = pos
        else:
            col += 1
            row = max(row, 0)
        if attrs.rstrip().endswith(b"/"):
            continue  # <c .../>: no value, the reader skips it
        max_row, max_col = max(max_row, row), max(max_col, col)
    return max_row + 1, max_col + 1


# xlsb (BIFF12) records: BrtRowHdr = 0 (row index first), cells 1..13 (column first).
_XLSB_ROW = 0
_XLSB_CELLS = frozenset(range(1, 14))


def _xlsb_sheet_extent(stream: io.BufferedIOBase) -> tuple[int, int]:
    data = stream.read()  # bounded by the zip checks (max_inflated_bytes)
    pos, n = 0, len(data)
    row = 0
    max_row, max_col = -1, -1

    def varint(p: int, limit: int) -> tuple[int, int]:
        value = shift = 0
        for _ in range(limit):
            b = data[p]
            p += 1
            value |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        return value, p

    while pos < n:
        typ, pos = varint(pos, 2)
        size, pos = varint(pos, 4)
        body = pos
        pos += size
        if pos > n:
            break
        if typ == _XLSB_ROW and size >= 4:
            row = struct.unpack_from("<I", data, body)[0]
        elif typ in _XLSB_CELLS and size >= 4:
            col = struct.unpack_from("<I", data, body)[0]
            max_row, max_col = max(max_row, row), max(max_col, col)
    return max_row + 1, max_col + 1


# --- ods ------------------------------------------------------------------------------------

_ODS_TAG = re.compile(
    rb"<(/?)(?:[\w.-]+:)?(table|table-row|table-cell|covered-table-cell)(?=[\s/>])([^>]*)>"
)


def _repeat(attrs: bytes, name: bytes) -> int:
    v = _attr(attrs, name)
    return int(v) if v and v.strip().isdigit() else 1


def _ods_extents(data: bytes) -> Iterator[tuple[int, int, int]]:
    """Per table: rows and columns up to the farthest cell holding something, repeats
    counted (number-rows-repeated, number-columns-repeated). Empty repeats at the end of a
    row or table (LibreOffice pads every sheet to 1024 x 1048576 that way) hold nothing
    and are not counted, as the reader drops them."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf, zf.open("content.xml") as f:
        row = col = 0
        row_reps = 1
        max_row = max_col = -1
        in_table = False
        open_cell: tuple[int, int] | None = None  # (first column, repeats) of a <cell>
        for m in _tags(f, _ODS_TAG):
            closing, name, attrs = m.groups()
            if name == b"table":
                if closing:
                    if in_table:
                        yield max_row + 1, max_col + 1, 0
                    in_table = False
                else:
                    in_table = True
                    row, max_row, max_col = 0, -1, -1
                continue
            if name == b"table-row":
                if closing:
                    row += row_reps
                else:
                    row_reps = _repeat(attrs, b"table:number-rows-repeated")
                    col = 0
                continue
            # a cell (or a covered one, under a merge): it takes its place either way
            if closing:
                if open_cell is not None:
                    first, reps = open_cell
                    max_col = max(max_col, first + reps - 1)
                    max_row = max(max_row, row + row_reps - 1)
                open_cell = None
                continue
            reps = _repeat(attrs, b"table:number-columns-repeated")
            first, col = col, col + reps
            if attrs.rstrip().endswith(b"/"):
                if _attr(attrs, b"office:value-type") is not None:
                    max_col = max(max_col, first + reps - 1)
                    max_row = max(max_row, row + row_reps - 1)
                continue
            open_cell = (first, reps)  # has content: counts when it closes
        if in_table:  # unterminated: judge what was read
            yield max_row + 1, max_col + 1, 0


# --- xls (BIFF8 in an OLE compound file) ----------------------------------------------------

_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_FREE, _END_OF_CHAIN = 0xFFFFFFFF, 0xFFFFFFFE
_MAX_SECTOR = 0xFFFFFFFA


class _Cfb:
    """Just enough of [MS-CFB] to read one stream: FAT (with DIFAT), directory, mini
    stream. Every chain walk is bounded by the number of sectors (a loop is an error)."""

    def __init__(self, data: bytes) -> None:
        if not data.startswith(_CFB_MAGIC) or len(data) < 512:
            raise ValueError("no compound file")
        self.data = data
        shift, mini_shift = struct.unpack_from("<HH", data, 0x1E)
        if shift not in (9, 12) or mini_shift != 6:
            raise ValueError("bad sector size")
        self.size = 1 << shift
        self.mini_size = 1 << mini_shift
        (n_fat, self.dir_start, _, self.mini_cutoff, self.minifat_start, n_minifat,
         difat_start, n_difat) = struct.unpack_from("<IIIIIIII", data, 0x2C)
        self.n_sectors = max(0, (len(data) - self.size) // self.size)
        fat_sectors = list(struct.unpack_from("<109I", data, 0x4C))
        sector = difat_start
        for _ in range(min(n_difat, self.n_sectors)):
            if sector > _MAX_SECTOR:
                break
            block = self._sector(sector)
            entries = struct.unpack(f"<{self.size // 4}I", block)
            fat_sectors.extend(entries[:-1])
            sector = entries[-1]
        fat: list[int] = []
        for s in fat_sectors[: min(n_fat, self.n_sectors)]:
            if s <= _MAX_SECTOR:
                fat.extend(struct.unpack(f"<{self.size // 4}I", self._sector(s)))
        self.fat = fat
        self.minifat: list[int] = []
        if n_minifat:
            raw = self._chain_bytes(self.minifat_start, self.fat)
            self.minifat = list(struct.unpack(f"<{len(raw) // 4}I", raw[: len(raw) // 4 * 4]))

    def _sector(self, n: int) -> bytes:
        off = (n + 1) * self.size
        if off + self.size > len(self.data):
            raise ValueError("sector out of file")
        return self.data[off : off + self.size]

    def _chain(self, start: int, table: list[int]) -> Iterator[int]:
        sector, steps = start, 0
        while sector <= _MAX_SECTOR:
            if sector >= len(table) or steps > len(table):
                raise ValueError("broken chain")
            yield sector
            sector = table[sector]
            steps += 1

    def _chain_bytes(self, start: int, table: list[int]) -> bytes:
        return b"".join(self._sector(s) for s in self._chain(start, table))

    def stream(self, names: tuple[str, ...]) -> bytes:
        directory = self._chain_bytes(self.dir_start, self.fat)
        root_start = None
        for off in range(0, len(directory) - 127, 128):
            entry = directory[off : off + 128]
            name_len = struct.unpack_from("<H", entry, 64)[0]
            name = entry[: max(0, min(name_len, 64) - 2)].decode("utf-16-le", "replace")
            typ = entry[66]
            start, size = struct.unpack_from("<IQ", entry, 116)
            if self.size == 512:
                size &= 0xFFFFFFFF  # version 3: the high half may hold garbage
            if typ == 5:
                root_start = start
                root_size = size
            elif typ == 2 and name in names:
                if size < self.mini_cutoff:
                    if root_start is None:
                        raise ValueError("no root entry")
                    mini = self._chain_bytes(root_start, self.fat)[:root_size]
                    out = b"".join(
                        mini[s * self.mini_size : (s + 1) * self.mini_size]
                        for s in self._chain(start, self.minifat)
                    )
                else:
                    out = self._chain_bytes(start, self.fat)
                return out[:size]
        raise ValueError("no workbook stream")


# BIFF8 records holding values, each starting with row (u16) and column (u16); MULRK covers
# columns up to the u16 before its end. BLANK/MULBLANK (formatting only) the reader skips.
_BIFF_CELLS = frozenset((0x0006, 0x00D6, 0x00FD, 0x0203, 0x0204, 0x0205, 0x027E))
_BIFF_MULRK = 0x00BD
_BIFF_BOF, _BIFF_EOF, _BIFF_DIMENSIONS = 0x0809, 0x000A, 0x0200


def _xls_extents(data: bytes) -> Iterator[tuple[int, int, int]]:
    """Per sheet (BOF..EOF substream): the extent of its value cells, and the cells its
    DIMENSIONS record declares: the reader reserves room for those up front (a lying
    65536 x 65535 asks for 171 GB), so they are held to the cell budget too."""
    stream = _Cfb(data).stream(("Workbook", "Book"))
    pos, n = 0, len(stream)
    depth = 0
    max_row = max_col = -1
    declared = 0
    unpack = struct.unpack_from
    while pos + 4 <= n:
        typ, size = unpack("<HH", stream, pos)
        body = pos + 4
        pos = body + size
        if typ == _BIFF_BOF:
            depth += 1
            max_row = max_col = -1
            declared = 0
        elif typ == _BIFF_EOF:
            if depth:
                yield max_row + 1, max_col + 1, declared
            depth = max(0, depth - 1)
            max_row = max_col = -1
            declared = 0
        elif typ in _BIFF_CELLS and size >= 4 and pos <= n:
            r, c = unpack("<HH", stream, body)
            max_row, max_col = max(max_row, r), max(max_col, c)
        elif typ == _BIFF_MULRK and size >= 6 and pos <= n:
            r, _ = unpack("<HH", stream, body)
            last = unpack("<H", stream, pos - 2)[0]
            max_row, max_col = max(max_row, r), max(max_col, last)
        elif typ == _BIFF_DIMENSIONS and size >= 12 and pos <= n:
            row_first, row_end, col_first, col_end = unpack("<IIHH", stream, body)
            declared = max(0, row_end - row_first) * max(0, col_end - col_first)  # ends exclusive
    if depth:
        yield max_row + 1, max_col + 1, declared
