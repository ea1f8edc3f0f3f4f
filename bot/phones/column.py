"""The phone column as a whole: normalize, validate, deduplicate (first row wins).

Two implementations with one result: a vectorized one on polars (when installed) and a
plain Python loop. Both take the common Russian forms by the prefix table and send
every other value through the reference `normalize()`; tests check they agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

from .forms import (
    DEEP,
    E10,
    FAST_SEPARATOR_CLASS,
    INVALID,
    PREFIXES,
    UNSET,
    fast_key,
    fast_key_expr,
    strip_fast_separators,
)
from .normalize import EXTENSION, normalize_cell

_RU = PREFIXES.RU
# normalize()'s extension pattern for polars (Rust regex: same syntax, flags inline).
_EXT_PATTERN = "(?i)" + EXTENSION.pattern


@dataclass
class ColumnOutcome:
    # Rows sent, in file order: indices (Python path) or a mask of all rows (columnar
    # path, a polars Boolean series: a bit a row).
    keep: list[int] | None = None
    mask: pl.Series | None = None
    # Their E.164 numbers: as text (Python path) or as integers (columnar path).
    phones: list[str] = field(default_factory=list)
    keys: pl.Series | None = None
    duplicates: int = 0
    fixed: int = 0
    rejected: list[tuple[int, str, str]] = field(default_factory=list)  # (index, reason, value)
    countries: dict[str, int] = field(default_factory=dict)
    multi: int = 0  # of `fixed`: the first valid number of several in the cell
    words: int = 0  # of `fixed`: a label or comment around the number dropped
    left_out: list[tuple[int, str]] = field(default_factory=list)  # (index, number not used)


_PART_ROWS = 8192


class PhoneColumn:
    """The phone cells of a file as text, gathered chunk by chunk. Columnar (the default),
    they live in Arrow buffers (a few bytes a value) instead of Python strings (~60
    bytes) and are judged as whole columns; `columnar=False` is the plain Python loop
    (the reference the columnar path is tested against)."""

    def __init__(self, columnar: bool = True) -> None:
        self.columnar = columnar
        self.pending: list[str] = []
        self.parts: list = []
        self.size = 0
        # The one whole column's integer cast, when its caller made it (extend_series).
        self.ints: pl.Series | None = None

    def __len__(self) -> int:
        return self.size

    def extend(self, values: Sequence[str]) -> None:
        self.pending.extend(values)
        self.size += len(values)
        if self.columnar and len(self.pending) >= _PART_ROWS:
            self._flush()

    def extend_series(self, values: pl.Series, ints: pl.Series | None = None) -> None:
        """A whole column at once (polars' own CSV reader); `ints`: its cast to Int64
        (null where a value is not an integer), when the caller has it."""
        if not self.columnar:
            self.extend(values.to_list())
            return
        self._flush()
        self.ints = ints if not self.parts else None
        self.parts.append(values.rename("v"))
        self.size += len(values)

    def _flush(self) -> None:
        # Classifying parts in a background thread while parsing was tried: polars'
        # Python-side calls then wait for the GIL the parser holds (5 ms switch
        # interval), which made it slower. One pass over the whole column instead.
        if self.pending:
            self.parts.append(pl.Series("v", self.pending, dtype=pl.String))
            self.pending = []

    def finish(self, numeric: set[int], blank_rows: set[int]) -> ColumnOutcome:
        """`numeric`: indices of spreadsheet number cells (Excel damage: counted as
        fixed); `blank_rows`: indices of rows with no content at all (skipped)."""
        if self.parts:
            self._flush()
            parts, self.parts = self.parts, []
            ints, self.ints = (self.ints, None) if len(parts) == 1 else (None, None)
            raw = pl.concat(parts, rechunk=False) if len(parts) > 1 else parts[0]
            del parts
            return _polars([_classify(raw, ints)], numeric, blank_rows)
        texts, self.pending = self.pending, []
        return _python(texts, numeric, blank_rows)

    def close(self) -> None:
        """Drop what was gathered (also when the ingestion failed half-way)."""
        self.pending = []
        self.parts = []
        self.ints = None


def normalize_column(
    texts: Sequence[str], numeric: set[int], blank_rows: set[int], *, columnar: bool = True
) -> ColumnOutcome:
    """All of a phone column at once (see PhoneColumn.finish)."""
    column = PhoneColumn(columnar)
    column.extend(texts)
    return column.finish(numeric, blank_rows)


def _slow(
    i: int,
    text: str,
    out: ColumnOutcome,
    seen_key,
    numeric: set[int],
    blank_rows: set[int],
) -> int | None:
    """Reference path for one value; returns its E.164 integer key when accepted."""
    cell = normalize_cell(text)
    e, reason, was_fixed, region = cell.norm
    out.left_out.extend((i, v) for v in cell.left_out)
    if e is None:
        if not (reason == "empty" and i in blank_rows):
            out.rejected.append((i, reason or "invalid", text))
        return None
    key = int(e[1:])
    if seen_key(key):
        return key
    if was_fixed or i in numeric:
        out.fixed += 1
    if cell.repair == "multi":
        out.multi += 1
    elif cell.repair == "words":
        out.words += 1
    if region and region != "RU":
        out.countries[region] = out.countries.get(region, 0) + 1
    return key


def _python(texts: Sequence[str], numeric: set[int], blank_rows: set[int]) -> ColumnOutcome:
    out = ColumnOutcome(keep=[])
    seen: set[int] = set()
    seen_add = seen.add
    kept: list[int] = []
    kept_append = kept.append
    keep_append = out.keep.append  # type: ignore[union-attr]
    cells = PREFIXES.cells
    regions = PREFIXES.regions
    fill = PREFIXES.fill_block
    duplicates = fixed = 0
    countries = out.countries
    for i, d in enumerate(strip_fast_separators(texts)):
        v = fast_key(d)  # the common Russian forms, as E.164 integers (cheap to hash)
        if v:
            p = v // 10_000 - 7_000_000
            code = cells[p]
            if code == UNSET:
                code = fill(p)
            if code == INVALID:
                out.rejected.append((i, "invalid", texts[i]))
                continue
            if code != DEEP:
                if v in seen:
                    duplicates += 1
                    continue
                seen_add(v)
                kept_append(v)
                keep_append(i)
                if numeric and i in numeric:
                    fixed += 1
                if code != _RU:
                    region = regions[code]
                    countries[region] = countries.get(region, 0) + 1
                continue
        key = _slow(i, texts[i], out, seen.__contains__, numeric, blank_rows)
        if key is None:
            continue
        if key in seen:
            duplicates += 1
            continue
        seen_add(key)
        kept_append(key)
        keep_append(i)
    out.duplicates = duplicates
    out.fixed += fixed
    out.phones = list(map("+".__add__, map(str, kept)))
    return out


# Reasons the vectorized rules decide by themselves, as small integer codes (a column of
# a million mostly-null strings would cost 16 bytes a row).
_FAST_REASONS = ("too_short", "too_long", "bad_format", "invalid")


def _classify(raw: pl.Series, ints: pl.Series | None = None) -> pl.DataFrame:
    """Everything vectorized; leaves the reference path and deduplication to _polars.
    `ints`: `raw` cast to Int64 (null where it is not an integer), when the caller has
    it. Cells that are plain digits (with a leading "+" or not), as most CRM exports
    write them, have nothing to cut or delete: only the others go through the regular
    expressions (about two thirds of the time on a million such cells)."""
    col = pl.col
    if ints is None:
        ints = raw.cast(pl.Int64, strict=False)
    # Not plain: no integer, or a sign the separators would delete ("-0", "-916…").
    other = (ints.is_null() | (ints <= 0)).arg_true()
    if len(other) == len(raw):
        stage = _stage_by_rules(raw)
    else:
        key, v, length, plus = fast_key_expr(col("raw"), col("ints"))
        stage = (
            pl.DataFrame([raw.rename("raw"), ints.rename("ints")])
            .lazy()
            .select(
                "raw",
                pl.lit(False).alias("has_ext"),
                key.alias("fast"),
                v.alias("v"),
                length.alias("len"),
                plus.alias("plus"),
                col("raw").str.starts_with("810").alias("s810"),
            )
            .collect()
        )
        if len(other):
            part = _stage_by_rules(raw.gather(other))
            stage = pl.DataFrame(
                [stage["raw"]]
                + [stage[name].scatter(other, part[name]) for name in stage.columns[1:]]
            )
    # The blocks of the codes present, unless the table is whole (a worker's, filled by
    # the forkserver): the distinct codes of a million numbers take ~20 ms to find.
    heads = (
        ()
        if PREFIXES.complete
        else ((stage["fast"] - 7 * E10) // 10_000_000).drop_nulls().unique().to_list()
    )
    table = PREFIXES.series(heads)
    fast = col("fast").is_not_null()
    prefix = ((col("fast") - 7 * E10) // 10_000).fill_null(0)
    code = pl.when(fast).then(pl.lit(table).gather(prefix))
    accepted = (
        col("code").is_not_null() & (col("code") != INVALID) & (col("code") != DEEP)
    ).fill_null(False)
    v, length, plus = col("v"), col("len"), col("plus")
    # Only digits and separators, of a length no Russian form has: the rules of
    # normalize() for such values, at once. "Pure" = the integer cast worked without a
    # sign (so at most 19 digits: below the 20 a several-numbers split needs).
    pure = v.is_not_null() & ~plus & (v >= 0) & ~fast
    too_short, too_long, bad_format, invalid = range(len(_FAST_REASONS))
    reason = (
        pl.when(pure & (length < 10))
        .then(too_short)
        .when(pure & (length > 11) & ~col("s810"))
        .then(too_long)
        .when(pure & (length == 11) & (v < 7 * E10))  # 11 digits, not 7/8 first
        .then(bad_format)
        .when(pure & (length == 11) & (v >= 9 * E10))
        .then(bad_format)
        .when(col("code") == INVALID)
        .then(invalid)
        .otherwise(None)
        .cast(pl.UInt8)
    )
    return (
        stage.lazy()
        .with_columns(code.cast(pl.UInt8).alias("code"))
        .with_columns(accepted.alias("accepted"), reason.alias("reason"))
        .select(
            "raw",
            pl.when(col("accepted")).then(col("fast")).otherwise(None).alias("key"),
            "code",
            "reason",
            (~(col("accepted") | col("reason").is_not_null())).alias("slow"),
            (col("has_ext") & col("accepted")).alias("ext_fixed"),
        )
        .collect()
    )


def _stage_by_rules(raw: pl.Series) -> pl.DataFrame:
    """The stage columns of `_classify` by the whole set of rules: an extension (as
    normalize's EXTENSION, same regex) cut first (if what is left is a fast form, the
    row is accepted as fixed, exactly as normalize() would do), the separators deleted,
    then the fast forms judged. One lazy query: each intermediate column is freed as
    soon as it is used."""
    col = pl.col
    has_ext = col("raw").str.contains(_EXT_PATTERN).fill_null(False)
    base = pl.when(has_ext).then(col("raw").str.replace(_EXT_PATTERN, "")).otherwise(col("raw"))
    key, v, length, plus = fast_key_expr(col("s"))
    return (
        raw.rename("raw")
        .to_frame()
        .lazy()
        .with_columns(has_ext.alias("has_ext"))
        .with_columns(base.str.replace_all(FAST_SEPARATOR_CLASS, "").alias("s"))
        .with_columns(
            key.alias("fast"),
            v.alias("v"),
            length.alias("len"),
            plus.alias("plus"),
            col("s").str.starts_with("810").alias("s810"),
        )
        .drop("s")
        .collect()
    )


def _polars(frames: list, numeric: set[int], blank_rows: set[int]) -> ColumnOutcome:
    out = ColumnOutcome()
    df = pl.concat(frames, rechunk=True) if len(frames) > 1 else frames[0]
    frames.clear()
    n_rows = df.height
    raw, key, code = df["raw"], df["key"], df["code"]
    ext_fixed = df["ext_fixed"]
    has_reason = df["reason"].is_not_null()
    idx = has_reason.arg_true()
    out.rejected.extend(
        zip(
            idx.to_list(),
            [_FAST_REASONS[r] for r in df["reason"].gather(idx).to_list()],
            raw.gather(idx).to_list(),
            strict=True,
        )
    )
    slow = df["slow"].arg_true()
    del df, has_reason, idx
    slow_idx = slow.to_list()
    slow_fixed: list[int] = []
    slow_region: dict[int, str] = {}
    slow_repair: dict[int, str] = {}
    if slow_idx:
        # The reference path decides these; dedup happens below, over all keys at once.
        slow_keys: list[int | None] = []
        for i, text in zip(slow_idx, raw.gather(slow).to_list(), strict=True):
            cell = normalize_cell(text)
            e, reason, was_fixed, region = cell.norm
            if cell.left_out:
                out.left_out.extend((i, v) for v in cell.left_out)
            if cell.repair:
                slow_repair[i] = cell.repair
            if e is None:
                if not (reason == "empty" and i in blank_rows):
                    out.rejected.append((i, reason or "invalid", text))
                slow_keys.append(None)
                continue
            slow_keys.append(int(e[1:]))
            if was_fixed:
                slow_fixed.append(i)
            if region and region != "RU":
                slow_region[i] = region
        key = key.scatter(slow_idx, pl.Series(slow_keys, dtype=pl.Int64))
    out.rejected.sort()
    first = key.is_first_distinct() & key.is_not_null()
    out.mask = first
    out.keys = key.filter(first)
    out.duplicates = int(key.is_not_null().sum()) - len(out.keys)
    del key
    fixed_idx = numeric.union(slow_fixed)
    if fixed_idx:
        mask = pl.Series("f", [False] * n_rows, dtype=pl.Boolean).scatter(sorted(fixed_idx), True)
        ext_fixed = ext_fixed | mask
    out.fixed = int((first & ext_fixed).sum())
    # Regions outside RU: fast-path codes for kept rows, the reference for the others.
    regions = PREFIXES.regions
    # (The kept codes outside RU only: counting a million RU codes took ~10 ms.)
    for c, count in code.filter(first & (code != _RU)).value_counts().iter_rows():
        if c is not None:
            out.countries[regions[c]] = out.countries.get(regions[c], 0) + count
    for i, region in slow_region.items():
        if first[i]:
            out.countries[region] = out.countries.get(region, 0) + 1
    for i, repair in slow_repair.items():
        if first[i]:
            if repair == "multi":
                out.multi += 1
            else:
                out.words += 1
    return out
