"""The Russian numbering-plan registry (open data: DEF-9xx.csv for mobile ranges,
ABC-3xx/4xx/8xx.csv for landlines): number ranges -> region -> IANA zone.

The files are `;`-separated with a header row: «АВС/ DEF;От;До;Емкость;Оператор;Регион»,
and in newer releases the operator's ИНН and a territory («Территория ГАР»). Columns are
found by their header, extra ones are ignored; UTF-8 (with or without BOM) and the older
Windows-1251 are both read. The registry changes monthly: it is whatever files the bot's
operator keeps in NUMBERING_PLAN_DIR (see bot.calling.update), read once and re-read when
a file changes.

A lookup is a range search over sorted arrays: ranges are kept as 10-digit national
numbers (code * 10^7 + number), sorted by start; a number is inside the range whose
start is the last one <= it if it is also <= that range's end.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import io
import logging
import threading
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from .subjects import subject_zone

if TYPE_CHECKING:
    import polars as pl
# polars (the vectorized lookups) is imported where it is used: the ingest workers'
# forkserver reads the registry here and must not start polars' threads (see
# bot/forkserver_preload.py).

log = logging.getLogger(__name__)

# The files as the registry publishes them.
REGISTRY_FILES = ("ABC-3xx.csv", "ABC-4xx.csv", "ABC-8xx.csv", "DEF-9xx.csv")

_E7 = 10_000_000
_NATIONAL_SPACE = 10**10  # 10-digit national numbers
# The dense table's block: 10^6 blocks of 10^4 numbers, one byte each (1 MB).
CELL = 10_000
MIXED = 255


class RegistryFormatError(ValueError):
    """A file is not a registry table: its header lacks a needed column."""


@dataclass(frozen=True, slots=True)
class RegistryFile:
    name: str
    modified: dt.date  # the file's date (the updater sets it to the publication date)
    ranges: int  # ranges read
    unresolved: int  # ranges whose region names no single zone


def _header_key(text: str) -> str:
    return "".join(text.lower().replace("\ufeff", "").split())


# «АВС/ DEF» is spelled with Cyrillic А, В, С in the official files; Latin in others.
_AS_LATIN = str.maketrans("авсе", "abce")


def _columns(header: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, raw in enumerate(header):
        key = _header_key(raw)
        latin = key.translate(_AS_LATIN)
        if "def" in latin or latin.startswith("abc"):
            found.setdefault("code", index)
        elif key in ("от", "oт", "from"):
            found.setdefault("from", index)
        elif key in ("до", "to"):
            found.setdefault("to", index)
        elif key.startswith("регион") or key == "region":
            found.setdefault("region", index)
        elif "территория" in key or "гар" in key:
            found.setdefault("territory", index)
    missing = [name for name in ("code", "from", "to", "region") if name not in found]
    if missing:
        raise RegistryFormatError(
            "not a numbering-plan table: no column " + ", ".join(missing)
            + f" in the header {list(header)!r}"
        )
    return found


def decode(data: bytes) -> str:
    """UTF-8 (BOM or not) as the current files are, else Windows-1251 as older ones."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1251")


def parse_registry(data: bytes) -> list[tuple[int, int, str | None]]:
    """(start, end, zone or None) per range of one file, as 10-digit national numbers."""
    reader = csv.reader(io.StringIO(decode(data), newline=""), delimiter=";")
    header = next(reader, None)
    if header is None:
        raise RegistryFormatError("the file is empty")
    cols = _columns(header)
    ci, fi, ti, ri = cols["code"], cols["from"], cols["to"], cols["region"]
    gi = cols.get("territory")
    width = max(cols.values()) + 1
    zones: dict[tuple[str, str], str | None] = {}
    out: list[tuple[int, int, str | None]] = []
    for row in reader:
        if len(row) < width:
            continue  # a blank or cut line
        try:
            code = int(row[ci])
            start = int(row[fi])
            end = int(row[ti])
        except ValueError:
            continue
        if not (0 <= start <= end < _E7) or not 0 < code < 1000:
            continue
        region = row[ri].strip()
        territory = row[gi].strip() if gi is not None else ""
        key = (region, territory)
        if key not in zones:
            zones[key] = subject_zone(region) or (subject_zone(territory) if territory else None)
        out.append((code * _E7 + start, code * _E7 + end, zones[key]))
    return out


class NumberingPlan:
    """All registry files of a directory as sorted arrays, with vectorized lookups."""

    def __init__(
        self, rows: list[tuple[int, int, str | None]], files: Sequence[RegistryFile] = ()
    ) -> None:
        rows = sorted(r for r in rows if r[2] is not None)
        self.zones: list[str] = sorted({r[2] for r in rows})  # type: ignore[misc]
        index = {z: i for i, z in enumerate(self.zones)}
        self._starts = array("q", (r[0] for r in rows))
        self._ends = array("q", (r[1] for r in rows))
        self._codes = array("h", (index[r[2]] for r in rows))  # type: ignore[index]
        self.files = tuple(files)
        self._pl: tuple | None = None
        self._cells: bytes | None = None
        self._cells_pl: pl.Series | None = None

    def __len__(self) -> int:
        return len(self._starts)

    @property
    def date(self) -> dt.date | None:
        """The newest file's date: what the bot says the registry is 'as of'."""
        return max((f.modified for f in self.files), default=None)

    @classmethod
    def from_files(cls, paths: Sequence[Path]) -> NumberingPlan:
        rows: list[tuple[int, int, str | None]] = []
        files = []
        for path in paths:
            try:
                parsed = parse_registry(path.read_bytes())
            except (OSError, RegistryFormatError) as exc:
                # One bad file must not take the others away: its ranges are just unknown.
                log.warning("numbering plan file %s skipped: %s", path.name, exc)
                continue
            rows.extend(parsed)
            modified = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).date()
            unresolved = sum(1 for r in parsed if r[2] is None)
            files.append(RegistryFile(path.name, modified, len(parsed), unresolved))
        return cls(rows, files)

    def lookup_one(self, national: int) -> str | None:
        i = bisect.bisect_right(self._starts, national) - 1
        if i >= 0 and national <= self._ends[i]:
            return self.zones[self._codes[i]]
        return None

    def lookup_one_code(self, national: int) -> int:
        return self._lookup_index(national)

    def lookup_ordinals_series(self, nationals: pl.Series) -> pl.Series:
        """Per 10-digit national number, 1 + its zone's index into `self.zones`, null
        where no range holds it: one gather in the dense table for every number (the
        form a caller maps to its own codes with one more gather); the range search only
        for the numbers of mixed blocks (few: registry ranges mostly start and end on
        round numbers), or for all of them when the zones do not fit the table."""
        import polars as pl

        if len(self._starts) == 0:
            return pl.repeat(None, len(nationals), dtype=pl.Int16, eager=True)
        table = self._cells_series()
        if table is None:
            searched = self._search(nationals)
            return pl.select(pl.when(searched >= 0).then(searched + 1)).to_series()
        n = pl.col("n")
        cell = (
            nationals.rename("n")
            .to_frame()
            .lazy()
            .select(
                pl.lit(table)
                .gather(pl.when((n >= 0) & (n < _NATIONAL_SPACE)).then(n // CELL))
                .alias("cell")
            )
            .collect()
            .to_series()
        )
        mixed = (cell == MIXED).fill_null(False).arg_true()
        found = pl.select(pl.when((cell > 0) & (cell < MIXED)).then(cell)).to_series()
        if len(mixed):
            searched = self._search(nationals.gather(mixed))
            found = found.scatter(
                mixed,
                pl.select(pl.when(searched >= 0).then(searched + 1).cast(pl.UInt8)).to_series(),
            )
        return found

    def lookup_codes(
        self, nationals: Sequence[int] | object, *, columnar: bool = True
    ) -> list[int]:
        """Zone index into `self.zones` per 10-digit national number, -1 where no range
        holds it. Accepts a list of ints or a polars Int64 Series (nulls give -1).
        `columnar=False` is the bisect loop, the reference the polars search is tested
        against."""
        if columnar:
            return self._lookup_polars(nationals).to_list()
        return [self._lookup_index(n) for n in nationals]  # type: ignore[union-attr]

    def _lookup_index(self, n: int | None) -> int:
        if n is None:
            return -1
        i = bisect.bisect_right(self._starts, n) - 1
        return self._codes[i] if i >= 0 and n <= self._ends[i] else -1

    def cells(self) -> bytes | None:
        """The dense table of the lookups: per block of CELL numbers of the national
        numbering space, the zone index + 1 when one range (or adjacent ranges of one
        zone) hold the whole block, 0 when none holds any of it, MIXED when the answer
        differs inside the block. Built once per plan, in pure Python (the forkserver
        builds it before forking the workers); None when the zones do not fit a byte."""
        if self._cells is None and len(self.zones) < MIXED:
            self._cells = _dense_cells(self._starts, self._ends, self._codes)
        return self._cells

    def _arrays(self) -> tuple:
        import polars as pl

        if self._pl is None:
            self._pl = (
                pl.Series("s", self._starts, dtype=pl.Int64),
                pl.Series("e", self._ends, dtype=pl.Int64),
                pl.Series("c", self._codes, dtype=pl.Int16),
            )
        return self._pl

    def warm(self) -> None:
        """Build the dense table's polars column now (where polars may run: not in the
        forkserver, which forks without threads)."""
        self._cells_series()

    def _cells_series(self) -> pl.Series | None:
        if self._cells_pl is None:
            cells = self.cells()
            if cells is None:
                return None
            from bot.bytes_column import uint8_series

            self._cells_pl = uint8_series("cells", cells)
        return self._cells_pl

    def _lookup_polars(self, nationals: object) -> pl.Series:
        """lookup_codes' form (Int16, -1 = no range) of lookup_ordinals_series."""
        import polars as pl

        numbers = (
            nationals
            if isinstance(nationals, pl.Series)
            else pl.Series("n", nationals, dtype=pl.Int64)
        )
        ordinals = self.lookup_ordinals_series(numbers)
        return (ordinals.cast(pl.Int16) - 1).fill_null(-1).rename("z")

    def _search(self, numbers: pl.Series) -> pl.Series:
        """The range search itself: the last start <= n, then n checked against its end."""
        import polars as pl

        starts, ends, codes = self._arrays()
        at = (starts.search_sorted(numbers.fill_null(-1), side="right").cast(pl.Int64) - 1)
        idx = at.clip(0, len(starts) - 1)
        found = (at >= 0) & (numbers <= ends.gather(idx)) & numbers.is_not_null()
        return pl.select(
            pl.when(found).then(codes.gather(idx)).otherwise(-1).cast(pl.Int16).alias("z")
        ).to_series()


def _dense_cells(starts: Sequence[int], ends: Sequence[int], codes: Sequence[int]) -> bytes:
    """See NumberingPlan.cells. Each range holds, for the lookup, the numbers from its
    start to its end or to the next range's start, whichever comes first (the search
    takes the last start <= n); adjacent spans of one zone are merged first, so that
    only the blocks where the zone really changes need the search."""
    spans: list[list[int]] = []
    for i, (start, end, code) in enumerate(zip(starts, ends, codes, strict=True)):
        if i + 1 < len(starts):
            end = min(end, starts[i + 1] - 1)
        if end < start:
            continue  # shadowed by a range with the same start
        if spans and spans[-1][2] == code and spans[-1][1] + 1 == start:
            spans[-1][1] = end
        else:
            spans.append([start, end, code])
    table = bytearray(_NATIONAL_SPACE // CELL)
    for start, end, code in spans:
        first, stop = -(-start // CELL), (end + 1) // CELL  # whole blocks [first, stop)
        if first < stop:
            table[first:stop] = bytes((code + 1,)) * (stop - first)
        if start % CELL:
            table[start // CELL] = MIXED
        if (end + 1) % CELL:
            table[end // CELL] = MIXED
    return bytes(table)


@lru_cache(maxsize=4)
def plan_cache(directory: Path) -> PlanCache:
    """One cache per registry directory and process (an ingest worker, inheriting the
    forkserver's, or the bot for pasted text): the files are parsed once and re-read
    only when they change."""
    return PlanCache(directory)


def registry_paths(directory: Path) -> list[Path]:
    """The registry tables present in a directory: the published names first, then any
    other *.csv (a renamed or additional file), each once."""
    if not directory.is_dir():
        return []
    named = [directory / n for n in REGISTRY_FILES if (directory / n).is_file()]
    others = sorted(
        p for p in directory.glob("*.csv") if p.is_file() and p.name not in REGISTRY_FILES
    )
    return named + others


class PlanCache:
    """The plan of a directory, re-read when its files change (a monthly update lands
    without a restart). Thread-safe: lookups run in worker threads."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._stamp: tuple | None = None
        self._plan: NumberingPlan | None = None

    def _current_stamp(self) -> tuple:
        assert self.directory is not None
        out = []
        for path in registry_paths(self.directory):
            try:
                st = path.stat()
            except OSError:
                continue
            out.append((path.name, st.st_mtime_ns, st.st_size))
        return tuple(out)

    def get(self) -> NumberingPlan | None:
        if self.directory is None:
            return None
        with self._lock:
            stamp = self._current_stamp()
            if stamp != self._stamp:
                self._plan = NumberingPlan.from_files(registry_paths(self.directory))
                self._stamp = stamp
                log.info(
                    "numbering plan: %d ranges from %d files, as of %s",
                    len(self._plan), len(self._plan.files), self._plan.date,
                )
            return self._plan
