"""The phone column as a whole: normalize, validate, deduplicate (first row wins).

Two implementations with one result: a vectorized one on polars (when installed) and a
plain Python loop. Both take the common Russian forms by the prefix table and send
every other value through the reference `normalize()`; tests check they agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from .normalize import _DEEP, _INVALID, _UNSET, REGIONS, TABLE, clean_batch, fill_block, normalize

try:  # optional accelerator: several times faster on big lists
    import polars as pl
except ImportError:  # pragma: no cover - depends on the environment
    pl = None

_RU = REGIONS.index("RU")
_E10 = 10_000_000_000
_CC7 = 7 * _E10  # +7 as the leading digit of an 11-digit E.164 integer
# Deleted before the fast path looks at a value (the same set as clean_batch).
_SEPARATOR_CLASS = "[ \\t\\-()'\u00a0\u2007\u2009\u202f]"


@dataclass
class ColumnOutcome:
    keep: list[int] = field(default_factory=list)  # indices of rows sent, in file order
    phones: list[str] = field(default_factory=list)  # their E.164 numbers
    duplicates: int = 0
    fixed: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (index, reason)
    countries: dict[str, int] = field(default_factory=dict)


def use_polars() -> bool:
    return pl is not None and FORCE_PYTHON is False


FORCE_PYTHON = False  # tests flip this to compare both implementations


def normalize_column(
    texts: Sequence[str], numeric: set[int], blank_rows: set[int]
) -> ColumnOutcome:
    """`texts`: phone cells as text; `numeric`: indices of spreadsheet number cells
    (Excel damage: counted as fixed); `blank_rows`: indices of rows with no content at
    all (skipped silently)."""
    if use_polars() and len(texts) >= 2048:
        return _polars(texts, numeric, blank_rows)
    return _python(texts, numeric, blank_rows)


def _slow(
    i: int,
    text: str,
    out: ColumnOutcome,
    seen_key,
    numeric: set[int],
    blank_rows: set[int],
) -> int | None:
    """Reference path for one value; returns its E.164 integer key when accepted."""
    e, reason, was_fixed, region = normalize(text)
    if e is None:
        if not (reason == "empty" and i in blank_rows):
            out.rejected.append((i, reason or "invalid"))
        return None
    key = int(e[1:])
    if seen_key(key):
        return key
    if was_fixed or i in numeric:
        out.fixed += 1
    if region and region != "RU":
        out.countries[region] = out.countries.get(region, 0) + 1
    return key


def _python(texts: Sequence[str], numeric: set[int], blank_rows: set[int]) -> ColumnOutcome:
    out = ColumnOutcome()
    seen: set[int] = set()
    seen_add = seen.add
    kept: list[int] = []
    kept_append = kept.append
    keep_append = out.keep.append
    table = TABLE
    duplicates = fixed = 0
    countries = out.countries
    cleaned = clean_batch(texts)
    for i, d in enumerate(cleaned):
        # Fast path: the common Russian forms; numbers as E.164 integers (cheap to hash).
        n = len(d)
        v = 0
        if n == 11:
            if d.isdigit() and d.isascii():
                c0 = d[0]
                if c0 == "7":
                    v = int(d)
                elif c0 == "8":
                    v = int(d) - _E10
        elif n == 12:
            if d[0] == "+" and d[1] == "7" and d.isascii() and d[1:].isdigit():
                v = int(d)
        elif n == 10 and d.isdigit() and d.isascii():
            v = int(d) + _CC7
        if v:
            p = v // 10_000 - 7_000_000
            code = table[p]
            if code == _UNSET:
                code = fill_block(p)
            if code == _INVALID:
                out.rejected.append((i, "invalid"))
                continue
            if code != _DEEP:
                if v in seen:
                    duplicates += 1
                    continue
                seen_add(v)
                kept_append(v)
                keep_append(i)
                if numeric and i in numeric:
                    fixed += 1
                if code != _RU:
                    region = REGIONS[code]
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


_TABLE_SERIES = None
_TABLE_VERSION = -1


def _table_series():
    """TABLE as a polars UInt8 series, rebuilt only after blocks were filled."""
    global _TABLE_SERIES, _TABLE_VERSION
    version = TABLE.count(_UNSET)
    if _TABLE_SERIES is None or version != _TABLE_VERSION:
        _TABLE_SERIES = pl.Series("table", TABLE, dtype=pl.UInt8)
        _TABLE_VERSION = version
    return _TABLE_SERIES


def _polars(texts: Sequence[str], numeric: set[int], blank_rows: set[int]) -> ColumnOutcome:
    out = ColumnOutcome()
    n_rows = len(texts)
    s = pl.Series("v", texts, dtype=pl.String).str.replace_all(_SEPARATOR_CLASS, "")
    # A value of the fast forms parses as an integer whose size and length say which
    # form it is: 10 digits, 7/8 + 10 digits, or +7 + 10 digits. (Polars' integer cast
    # takes only ASCII digits and an optional sign.)
    v = s.cast(pl.Int64, strict=False)
    length = s.str.len_bytes()
    plus = s.str.starts_with("+")
    fast = (
        ((length == 10) & (v >= 1_000_000_000) & (v < _E10))
        | ((length == 11) & (v >= _CC7) & (v < 9 * _E10))
        | ((length == 12) & plus & (v >= _CC7) & (v < 8 * _E10))
    ).fill_null(False)
    nat = pl.select(pl.when(fast).then(v % _E10).otherwise(None)).to_series()
    for head in (nat // 10_000_000).drop_nulls().unique().to_list():
        if TABLE[head * 1000] == _UNSET:
            fill_block(head * 1000)
    code = _table_series().gather((nat // 10_000).fill_null(0))
    code = pl.select(pl.when(fast).then(code).otherwise(None)).to_series()
    accepted = code.is_not_null() & (code != _INVALID) & (code != _DEEP)
    key = pl.select(pl.when(accepted).then(nat + _CC7).otherwise(None)).to_series()
    invalid = (code == _INVALID).fill_null(False)
    out.rejected.extend((i, "invalid") for i in invalid.arg_true().to_list())
    slow_idx = (~(accepted.fill_null(False) | invalid)).arg_true().to_list()
    slow_fixed: list[int] = []
    slow_region: dict[int, str] = {}
    if slow_idx:
        # The reference path decides these; dedup happens below, over all keys at once.
        slow_keys: list[int | None] = []
        for i in slow_idx:
            e, reason, was_fixed, region = normalize(texts[i])
            if e is None:
                if not (reason == "empty" and i in blank_rows):
                    out.rejected.append((i, reason or "invalid"))
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
    keep = first.arg_true()
    out.keep = keep.to_list()
    out.duplicates = int(key.is_not_null().sum()) - len(out.keep)
    kept_keys = key.gather(keep)
    out.phones = ("+" + kept_keys.cast(pl.String)).to_list()
    fixed_idx = numeric.union(slow_fixed)
    if fixed_idx:
        mask = pl.Series("f", [False] * n_rows, dtype=pl.Boolean).scatter(sorted(fixed_idx), True)
        out.fixed = int((first & mask).sum())
    # Regions outside RU: fast-path codes for kept rows, the reference for the others.
    kept_codes = code.gather(keep)
    for c, count in kept_codes.value_counts().iter_rows():
        if c is not None and c != _RU:
            out.countries[REGIONS[c]] = out.countries.get(REGIONS[c], 0) + count
    for i, region in slow_region.items():
        if first[i]:
            out.countries[region] = out.countries.get(region, 0) + 1
    return out
