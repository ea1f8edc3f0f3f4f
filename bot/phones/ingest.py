"""Ingestion: file bytes or pasted text -> IngestResult, per docs/phone-lists.md."""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator, Sequence
from itertools import chain, compress

import polars as pl

from bot.gcpause import without_gc

from .column import ColumnOutcome, PhoneColumn
from .errors import IngestError, IngestLimits
from .extent import check_extent
from .markup import read_html, read_vcard
from .normalize import normalize_cell, normalize_value, split_pasted
from .readers import Chunk, as_utf8, read_delimited, read_frame, read_sheet, sniff_delimiter
from .result import IngestResult, PhoneList, RejectedRow
from .sniff import check_text, check_zip, detect_encoding, detect_kind, extension
from .table import NO_HEADER, Layout, blank, detect_layout, phone_text, typed_column

_SAMPLE_NONEMPTY = 200
_SAMPLE_MAX_ROWS = 50_000
_ONLY_NUMBERS = re.compile(r"[\d\s+\-().,;'\u00a0]*")
# Extension markers ("доб. 12", "ext 12", "x12") keep a file "only numbers": pasted text.
_EXTENSION_MARK = re.compile(r"(?i)(?:доб(?:авочный)?|ext(?:ension)?|вн(?:утр(?:енний)?)?|x|#)")


class _Collector:
    """Gathers the phone column and the add_data columns chunk by chunk (columnar: no
    per-row objects survive a chunk), then judges the whole phone column at once."""

    def __init__(
        self, layout: Layout, limits: IngestLimits, text_values: bool, columnar: bool = True
    ) -> None:
        self.layout = layout
        self.limits = limits
        self.text_values = text_values
        self.need = max((layout.phone_col, *layout.phone_cols, *layout.key_cols)) + 1
        # Several phone columns: per row, the index (in phone_cols) of the one used.
        self.multi = len(layout.phone_cols) > 1
        self.choices = bytearray()
        self.phone = PhoneColumn(columnar)
        # Row numbers per chunk: (index of its first row, numbers); ranges when the
        # chunk's rows are consecutive lines, so no per-row number is stored.
        self.starts: list[int] = []
        self.chunk_nums: list[Sequence[int]] = []
        self.numeric: set[int] = set()
        self.blank_rows: set[int] = set()
        # add_data columns as the chunks' own column tuples: joined only once, at the end.
        self.columns: list[list[Sequence[object]]] = [[] for _ in layout.keys]

    def _check_lengths(self, cols: list[Sequence[object]], nums: Sequence[int]) -> None:
        """Spreadsheet cells only: the csv reader enforces the limit on every field."""
        limit = self.limits.max_cell_chars
        for col in cols:
            kinds = set(map(type, col))
            if str not in kinds:
                continue
            texts = col if len(kinds) == 1 else [v for v in col if type(v) is str]
            if max(map(len, texts)) > limit:
                i = next(i for i, v in enumerate(col) if isinstance(v, str) and len(v) > limit)
                raise IngestError("cell_too_long", row=nums[i], limit=limit)

    def add(self, rows: list[Sequence[object]], nums: Sequence[int]) -> None:
        if not rows:
            return
        need = self.need
        if min(map(len, rows)) < need:  # ragged: drop blank lines, pad short rows
            pairs = [(r, n) for r, n in zip(rows, nums, strict=True) if r]
            rows = [r if len(r) >= need else [*r, *([""] * (need - len(r)))] for r, _ in pairs]
            nums = [n for _, n in pairs]
            if not rows:
                return
        cols = list(zip(*rows, strict=False))
        base = len(self.phone)
        raw = cols[self.layout.phone_col]
        if self.multi:
            if not self.text_values:
                self._check_lengths(cols, nums)
            raw = self._pick([cols[c] for c in self.layout.phone_cols])
        if self.text_values:
            self.phone.extend(raw)
            if raw.count("") or any(map(str.isspace, raw)):
                self._note_blank_rows(rows, raw, base)
        else:
            if not self.multi:
                self._check_lengths(cols, nums)
            kinds = set(map(type, raw))
            if kinds <= {str}:
                self.phone.extend(raw)
            else:
                numeric = self.numeric
                texts: list[str] = []
                for i, v in enumerate(raw):
                    if type(v) is str:
                        texts.append(v)
                    elif type(v) is float and v.is_integer():
                        texts.append(str(int(v)))
                        numeric.add(base + i)
                    else:
                        text, is_number = phone_text(v)
                        texts.append(text)
                        if is_number:
                            numeric.add(base + i)
                self.phone.extend(texts)
            if str in kinds and raw.count(""):  # calamine: "" for an empty cell
                self._note_blank_rows(rows, raw, base)
        self.starts.append(base)
        self.chunk_nums.append(nums)
        for parts, c in zip(self.columns, self.layout.key_cols, strict=True):
            parts.append(cols[c])
        if len(self.phone) > self.limits.max_rows + len(self.blank_rows):
            raise IngestError("too_many_rows", limit=self.limits.max_rows)

    def _pick(self, phone_cols: list[Sequence[object]]) -> list[object]:
        """Per row, the cell of the first phone column holding a valid number; else the
        first non-empty one (its reason is the row's), else an empty cell."""
        picked: list[object] = []
        choices = self.choices
        for cells in zip(*phone_cols, strict=True):
            first = None
            chosen = None
            for k, v in enumerate(cells):
                if blank(v):
                    continue
                if first is None:
                    first = k
                text, _number = phone_text(v)
                if normalize_value(text)[0] is not None or normalize_cell(text).norm[0]:
                    chosen = k
                    break
            k = chosen if chosen is not None else first
            picked.append(cells[k] if k is not None else "")
            choices.append(k if chosen is not None else 255)
        return picked

    def _note_blank_rows(self, rows: list[Sequence[object]], raw: Sequence[object], base: int):
        for i, v in enumerate(raw):
            if blank(v) and all(blank(c) for c in rows[i]):
                self.blank_rows.add(base + i)

    def rownum(self, i: int) -> int:
        k = bisect.bisect_right(self.starts, i) - 1
        return self.chunk_nums[k][i - self.starts[k]]

    def result(self, source_kind: str) -> IngestResult:
        layout = self.layout
        out = self.phone.finish(self.numeric, self.blank_rows)
        mask = out.mask.to_list() if out.mask is not None else None
        columns: list[list[object]] = []
        for parts in self.columns:
            col = chain.from_iterable(parts)
            if mask is not None:
                picked = compress(col, mask)
            else:
                whole = list(col)
                picked = map(whole.__getitem__, out.keep)
            columns.append(
                list(map(str.strip, picked)) if self.text_values else typed_column(list(picked))
            )
        self.columns = []
        counts = [0] * len(layout.phone_cols)
        if self.multi:
            kept = (
                compress(self.choices, mask)
                if mask is not None
                else map(self.choices.__getitem__, out.keep or ())
            )
            for k in kept:
                if k != 255:
                    counts[k] += 1
        accepted = len(out.keys) if out.keys is not None else len(out.phones)
        if not self.multi and counts:
            counts[0] = accepted
        out.mask = out.keep = None
        del mask
        phones = (
            PhoneList.from_frame(out.keys, list(layout.keys), columns)
            if out.keys is not None
            else PhoneList(out.phones, list(layout.keys), columns)
        )
        phone_columns = [
            (name, n)
            for name, n in zip(layout.phone_headers, counts, strict=True)
            if layout.header_index is not None
        ]
        return _result(
            out, layout, self.limits, source_kind, phones, accepted, self.rownum, phone_columns
        )


def _ingest_chunks(
    chunks: Iterator[Chunk],
    limits: IngestLimits,
    *,
    text_values: bool,
    source_kind: str,
    phone_col: int | None = None,
    header_row: int | None = None,
    columnar: bool = True,
    whole: bytes | None = None,
    delimiter: str = "",
) -> IngestResult:
    """`whole`: the delimited file as UTF-8, for polars' CSV reader (the chunks are then
    read for the layout only); it falls back to the chunks when polars cannot take it."""
    rows: list[Sequence[object]] = []
    nums: list[int] = []
    nonempty = 0
    at_eof = True
    for chunk, chunk_nums in chunks:
        rows.extend(chunk)
        nums.extend(chunk_nums)
        nonempty += sum(1 for r in chunk if any(not blank(c) for c in r))
        if nonempty >= _SAMPLE_NONEMPTY or len(rows) >= _SAMPLE_MAX_ROWS:
            at_eof = False
            break
    layout = detect_layout(rows, at_eof=at_eof, phone_col=phone_col, header_row=header_row)
    other_headers = _header_alternatives(rows, layout) if source_kind != "text" else []
    result = None
    if whole is not None and columnar and len(layout.phone_cols) == 1:
        frame = read_frame(whole, delimiter, limits)
        if frame is not None:
            del rows, nums, chunks
            result = _frame_result(frame, layout, limits, source_kind)
    if result is None:
        collector = _Collector(layout, limits, text_values, columnar)
        try:
            collector.add(rows[layout.data_start :], nums[layout.data_start :])
            del rows, nums
            for chunk, chunk_nums in chunks:
                collector.add(chunk, chunk_nums)
            result = collector.result(source_kind)
        finally:
            collector.phone.close()
    if result.rows_read == 0:
        raise IngestError("header_only" if layout.header_index is not None else "empty")
    cols = layout.all_phone_cols or layout.phone_cols
    headers = layout.all_phone_headers or layout.phone_headers
    if len(cols) > 1 and layout.header_index is not None:
        result.alternatives = [
            ("col", c, name)
            for c, name in zip(cols, headers, strict=True)
            if (c,) != layout.phone_cols
        ]
    result.alternatives += other_headers
    return result


def _header_alternatives(
    rows: Sequence[Sequence[object]], layout: Layout
) -> list[tuple[str, int, str]]:
    """The other reasonable reading of the first row: a header taken might be data (its
    values then count as a row), a file read without one might have it in its first row
    (its texts then name the scenario data)."""
    if layout.header_by_name:
        return []
    if layout.header_index is not None:
        return [("hdr", NO_HEADER, "")]
    first = next((i for i, r in enumerate(rows) if any(not blank(c) for c in r)), None)
    if first is None or sum(1 for c in rows[first] if not blank(c)) < 2:
        return []  # a lone column of numbers: nothing to name
    return [("hdr", first, "")]


def _frame_result(
    frame: pl.DataFrame, layout: Layout, limits: IngestLimits, source_kind: str
) -> IngestResult:
    """The Collector's result for one phone column, as column operations over the frame
    polars read (row i of the frame is line i + 1 of the file)."""
    width = frame.width
    need = max((layout.phone_col, *layout.key_cols)) + 1
    data = frame.slice(layout.data_start)
    del frame
    names = data.columns
    for c in range(width, need):  # the sample's rows were wider: pad, as the reader does
        data = data.with_columns(pl.lit("").alias(f"pad{c}"))
        names = data.columns
    raw = data[names[layout.phone_col]]
    # Shared with the normalization: a cell that is an integer is not blank, so only the
    # others are looked at for blank rows.
    ints = raw.cast(pl.Int64, strict=False)
    others = ints.is_null()
    blank_rows: set[int] = set()
    if others.any() and raw.filter(others).str.contains(r"^\s*$").any():
        all_blank = data.select(
            pl.all_horizontal([pl.col(n).str.strip_chars() == "" for n in names])
        ).to_series()
        blank_rows = set(all_blank.arg_true().to_list())
    del others
    if data.height - len(blank_rows) > limits.max_rows:
        raise IngestError("too_many_rows", limit=limits.max_rows)
    column = PhoneColumn()
    column.extend_series(raw, ints)
    del ints
    # The add_data cells stripped in polars' own threads while this thread judges the
    # phone column (its deduplication is one core's work): ~40 ms off the wait.
    keys = [names[c] for c in layout.key_cols]
    stripping = (
        data.lazy().select(pl.col(keys).str.strip_chars()).collect(background=True)
        if keys
        else None
    )
    try:
        out = column.finish(set(), blank_rows)
    except BaseException:
        if stripping is not None:
            stripping.cancel()
        raise
    first = 1 + layout.data_start
    if out.keys is None:  # columnar=True always has keys; kept for the type checker
        raise AssertionError("the columnar path returns integer keys")
    mask = out.mask
    del data, raw
    stripped = stripping.fetch_blocking() if stripping is not None else None
    columns = [stripped[name].filter(mask) for name in keys] if stripped is not None else []
    del stripped
    accepted = len(out.keys)
    phones = PhoneList.from_frame(out.keys, list(layout.keys), columns)
    phone_columns = (
        [(layout.phone_headers[0], accepted)]
        if layout.header_index is not None and layout.phone_headers
        else []
    )
    return _result(
        out, layout, limits, source_kind, phones, accepted, lambda i: first + i, phone_columns
    )


def _result(
    out: ColumnOutcome,
    layout: Layout,
    limits: IngestLimits,
    source_kind: str,
    phones: PhoneList,
    accepted: int,
    rownum: Callable[[int], int],
    phone_columns: list[tuple[str, int]],
) -> IngestResult:
    """The reading's result, the same from the row collector and the columnar frame
    (`rownum`: the file's line of a data row's index)."""
    rejected: dict[str, int] = {}
    rejected_rows = []
    for i, reason, value in out.rejected:
        rejected[reason] = rejected.get(reason, 0) + 1
        rejected_rows.append(RejectedRow(rownum(i), value, reason))
    rows_read = accepted + out.duplicates + len(out.rejected)
    if rows_read > limits.max_rows:
        raise IngestError("too_many_rows", limit=limits.max_rows)
    return IngestResult(
        phones=phones,
        rows_read=rows_read,
        accepted=accepted,
        fixed=out.fixed,
        duplicates=out.duplicates,
        rejected=dict(sorted(rejected.items(), key=lambda kv: -kv[1])),
        rejected_rows=rejected_rows,
        countries=dict(sorted(out.countries.items(), key=lambda kv: -kv[1])),
        phone_column=layout.phone_header,
        phone_column_index=layout.phone_col,
        has_header=layout.header_index is not None,
        source_kind=source_kind,
        keys=list(layout.keys),
        multi_fixed=out.multi,
        words_fixed=out.words,
        left_out=[RejectedRow(rownum(i), value, "left_out") for i, value in out.left_out],
        phone_columns=phone_columns,
    )


@without_gc
def ingest_bytes(
    data: bytes,
    filename: str,
    limits: IngestLimits = IngestLimits(),  # noqa: B008
    choice: tuple[str, int] | None = None,
    *,
    columnar: bool = True,
) -> IngestResult:
    """Read a contact list file; sync and CPU-bound. Raises IngestError.

    `choice` is one of a previous reading's `alternatives`, as (kind, index).
    `columnar=False` reads and judges row by row in plain Python: the reference the
    columnar path (polars' CSV reader, whole-column normalization) is tested against."""
    kind_, index = choice if choice else ("", -1)
    phone_col = index if kind_ == "col" else None
    header_row = index if kind_ == "hdr" else None
    sheet = index if kind_ == "sheet" else None
    if len(data) > limits.max_bytes:
        raise IngestError("too_large", limit=limits.max_bytes, size=len(data))
    if not data or data.isspace():  # (not data.strip(): a copy of the whole file)
        raise IngestError("empty")
    kind = detect_kind(data, filename)
    if kind in ("html", "vcard"):
        reader = read_html if kind == "html" else read_vcard
        return _ingest_chunks(
            reader(data, limits),
            limits,
            text_values=True,
            source_kind=kind,
            phone_col=phone_col,
            header_row=header_row,
            columnar=columnar,
        )
    if kind != "text":
        if kind in ("xlsx", "ods"):
            check_zip(data, limits)
        # Before the reader: it builds the whole grid at once, however sparse.
        check_extent(data, kind, limits)
        sheets: list[tuple[int, str]] = []
        chunks = read_sheet(data, kind, limits, sheet=sheet, sheets=sheets)
        result = _ingest_chunks(
            chunks,
            limits,
            text_values=False,
            source_kind=kind,
            phone_col=phone_col,
            header_row=header_row,
            columnar=columnar,
        )
        if len(sheets) > 1:
            result.sheet = sheets[0][1] if sheet is None else dict(sheets).get(sheet)
            read = sheet if sheet is not None else sheets[0][0]
            result.alternatives += [("sheet", i, name) for i, name in sheets if i != read]
        return result
    encoding = detect_encoding(data, head_only=True)
    try:
        return _ingest_text_file(data, filename, encoding, limits, phone_col, header_row, columnar)
    except UnicodeDecodeError:  # UTF-8 by its first megabyte only: it is cp1251
        return _ingest_text_file(data, filename, "cp1251", limits, phone_col, header_row, columnar)


def _ingest_text_file(
    data: bytes,
    filename: str,
    encoding: str,
    limits: IngestLimits,
    phone_col: int | None,
    header_row: int | None,
    columnar: bool,
) -> IngestResult:
    # Strict for a UTF-8 guess (a decoding error means cp1251), lenient otherwise.
    errors = "strict" if encoding == "utf-8" else "replace"
    head = data[:65536].decode(encoding, errors="replace")
    check_text(head)
    ext = extension(filename)
    if ext not in ("csv", "tsv"):
        text = data.decode(encoding, errors=errors)
        if any(c.isdigit() for c in text[:4096]) and _ONLY_NUMBERS.fullmatch(
            _EXTENSION_MARK.sub("", text)
        ):
            return _ingest_text(text, limits)
        del text
    delimiter = sniff_delimiter(head.lstrip("\ufeff"), ext)
    chunks = read_delimited(data, encoding, delimiter, limits, errors=errors)
    return _ingest_chunks(
        chunks,
        limits,
        text_values=True,
        source_kind="csv",
        phone_col=phone_col,
        header_row=header_row,
        columnar=columnar,
        whole=as_utf8(data, encoding, errors) if columnar else None,
        delimiter=delimiter,
    )


@without_gc
def ingest_text(text: str, limits: IngestLimits = IngestLimits()) -> IngestResult:  # noqa: B008
    """Numbers pasted into the chat."""
    return _ingest_text(text, limits)


def _ingest_text(text: str, limits: IngestLimits) -> IngestResult:
    if not text.strip():
        raise IngestError("empty")
    seen: dict[str, None] = {}
    res = IngestResult(phones=PhoneList(), source_kind="text")
    rejected_rows = res.rejected_rows
    rows = 0
    for index, piece in split_pasted(text):
        rows += 1
        if rows > limits.max_rows:
            raise IngestError("too_many_rows", limit=limits.max_rows)
        if len(piece) > limits.max_cell_chars:
            raise IngestError("cell_too_long", row=index, limit=limits.max_cell_chars)
        e, reason, fixed, region = normalize_value(piece)
        if e is None:
            reason = reason or "invalid"
            res.rejected[reason] = res.rejected.get(reason, 0) + 1
            rejected_rows.append(RejectedRow(index, piece, reason))
        elif e in seen:
            res.duplicates += 1
        else:
            seen[e] = None
            res.fixed += fixed
            if region and region != "RU":
                res.countries[region] = res.countries.get(region, 0) + 1
    if rows == 0:
        raise IngestError("empty")
    res.phones = PhoneList(list(seen))
    res.rows_read = rows
    res.accepted = len(seen)
    return res
