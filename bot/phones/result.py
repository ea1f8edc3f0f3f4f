"""What an ingestion produces: the accepted phones (columnar) and the counts."""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import orjson
import polars as pl

from bot.gcpause import gc_paused

Value = str | int | float | bool


class RejectedRow(NamedTuple):
    """A tuple: thousands are made per list (a frozen dataclass took ~2 µs each)."""

    row: int  # 1-based line / sheet row in the file, or the piece index for pasted text
    value: str  # original cell value as text
    reason: str  # a code from REJECT_REASONS


def _empty(v: object) -> bool:
    return v is None or v == ""


_MAGIC = b"PLv2"  # then a 4-byte header length, an orjson header, Arrow IPC
_NONE = type(None)
CHUNK_ROWS = 50_000  # rows per chunk of a POST body: bounded memory, C-speed loops


def _encode(col: Sequence[Value | None]) -> tuple[str, pl.Series]:
    """An add_data column as one typed Arrow column; a column of mixed types (a
    spreadsheet's numbers among texts) as the JSON text of each value, so every value
    comes back with its own type."""
    kinds = set(map(type, col)) - {_NONE}
    try:
        if kinds <= {str}:
            return "s", pl.Series(col, dtype=pl.String)
        if kinds == {int}:
            return "i", pl.Series(col, dtype=pl.Int64)
        if kinds == {float}:
            return "f", pl.Series(col, dtype=pl.Float64)
        if kinds == {bool}:
            return "b", pl.Series(col, dtype=pl.Boolean)
    except (OverflowError, TypeError, ValueError):
        pass
    dumps = orjson.dumps
    return "j", pl.Series(
        [None if v is None else dumps(v).decode() for v in col], dtype=pl.String
    )


def _decode(kind: str, series: pl.Series) -> list[Value | None]:
    values = series.to_list()
    if kind == "j":
        loads = orjson.loads
        return [None if v is None else loads(v) for v in values]
    return values


def _e164(keys: pl.Series) -> list[str]:
    return ("+" + keys.cast(pl.String)).to_list()


class PhoneList:
    """Columnar accepted phones: compact in memory, picklable, serializable.

    `columns[k][i]` is the add_data value of key `keys[k]` for `phones[i]`; None or ""
    mean an empty cell (left out of that row's add_data). Held as plain lists (small
    lists, pasted text) or as one polars frame: the numbers as E.164 integers, each
    add_data column typed (see `_encode`). A frame is what a worker hands back and what
    the draft stores: `to_bytes()` is Arrow IPC (zstd) behind a small JSON header
    (count, keys, sample rows), so the bot never turns a million rows into objects to
    report or store a list, and the POST body is written from it chunk by chunk.
    """

    __slots__ = ("_columns", "_count", "_frame", "_kinds", "_packed", "_phones", "_samples", "keys")

    # Rows kept unpacked beside a packed list, for previews.
    SAMPLE_ROWS = 10

    def __init__(
        self,
        phones: list[str] | None = None,
        keys: list[str] | None = None,
        columns: list[list[Value | None]] | None = None,
    ) -> None:
        self._phones: list[str] | None = phones if phones is not None else []
        self.keys: list[str] = keys if keys is not None else []
        self._columns: list[list[Value | None]] | None = (
            columns if columns is not None else [[] for _ in self.keys]
        )
        if len(self._columns) != len(self.keys):
            raise ValueError("one column per key")
        self._count = len(self._phones)
        self._frame: pl.DataFrame | None = None
        self._kinds: list[str] | None = None
        self._packed: bytes | None = None
        self._samples: list[tuple[str, dict]] | None = None

    @classmethod
    def from_frame(
        cls, numbers: pl.Series, keys: list[str], columns: Sequence[pl.Series | list]
    ) -> PhoneList:
        """E.164 numbers as integers (Int64, no "+"); add_data columns as String series
        or as lists of values (typed per column, see `_encode`)."""
        if len(columns) != len(keys):
            raise ValueError("one column per key")
        out = cls()
        out.keys = list(keys)
        out._phones = out._columns = None
        encoded = [
            ("s", c.cast(pl.String)) if isinstance(c, pl.Series) else _encode(c) for c in columns
        ]
        out._frame = pl.DataFrame(
            [numbers.rename("p"), *(c.rename(f"c{i}") for i, (_, c) in enumerate(encoded))]
        )
        out._kinds = [k for k, _ in encoded]
        out._count = len(numbers)
        return out

    def _load(self) -> None:
        if self._frame is None and self._phones is None and self._packed is not None:
            self._read_packed()

    def _ensure_frame(self) -> pl.DataFrame:
        self._load()
        if self._frame is None:
            encoded = [_encode(col) for col in self.columns]
            self._kinds = [k for k, _ in encoded]
            numbers = pl.Series("p", [int(p[1:]) for p in self.phones], dtype=pl.Int64)
            self._frame = pl.DataFrame(
                [numbers, *(s.rename(f"c{i}") for i, (_, s) in enumerate(encoded))]
            )
        return self._frame

    def _read_packed(self) -> None:
        assert self._packed is not None
        data = self._packed
        if not data.startswith(_MAGIC):  # stored by the previous version: orjson + zlib
            body = orjson.loads(zlib.decompress(data))
            self._phones = body["p"].split("\n") if body["p"] else []
            self._columns = body["c"]
            return
        size = int.from_bytes(data[4:8], "little")
        frame = pl.read_ipc(io.BytesIO(memoryview(data)[8 + size :]))
        coded = [name for name, dtype in frame.schema.items() if dtype == pl.Categorical]
        self._frame = frame.with_columns(pl.col(coded).cast(pl.String)) if coded else frame
        self._kinds = orjson.loads(data[8 : 8 + size])["t"]

    @property
    def phones(self) -> list[str]:
        if self._phones is None:
            self._load()
            if self._phones is None:
                assert self._frame is not None
                self._phones = _e164(self._frame["p"])
        return self._phones

    @property
    def columns(self) -> list[list[Value | None]]:
        if self._columns is None:
            self._load()
            if self._columns is None:
                assert self._frame is not None and self._kinds is not None
                self._columns = [
                    _decode(kind, self._frame[f"c{i}"]) for i, kind in enumerate(self._kinds)
                ]
        return self._columns

    def numbers(self) -> pl.Series:
        """The phones as E.164 integers (Int64, no "+"), in list order: the column itself
        for a frame-held list, so a million numbers never become Python strings."""
        return self._ensure_frame()["p"]

    def zone_column(self, k: int) -> pl.Series:
        """add_data column `k` for reading zones from it: a column of texts (String) or
        of integers (Int64) as it is held, None (or "" in a column of texts) for an
        empty cell; any other (floats, booleans, mixed) as the text `str(value)` of each
        value."""
        frame = self._ensure_frame()
        assert self._kinds is not None
        kind, series = self._kinds[k], frame[f"c{k}"]
        if kind in ("s", "i"):
            return series
        values = _decode(kind, series)
        return pl.Series([None if _empty(v) else str(v) for v in values], dtype=pl.String)

    def __len__(self) -> int:
        return self._count

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PhoneList):
            return NotImplemented
        return self.records() == other.records() and self.keys == other.keys

    def __repr__(self) -> str:
        return f"PhoneList({len(self)} phones, keys={self.keys!r})"

    def add_data(self, i: int) -> dict[str, Value]:
        return {
            k: col[i] for k, col in zip(self.keys, self.columns, strict=True) if not _empty(col[i])
        }

    def records(self) -> list[dict]:
        """Exactly the campaign API's phones[] items."""
        with gc_paused():  # hundreds of thousands of small dicts, no cycles among them
            return [r for phones, cols in self.chunks() for r in _records(self.keys, phones, cols)]

    def chunks(self, rows: int = CHUNK_ROWS, *, frames: bool = False) -> Iterator:
        """(phones, add_data columns) a slice of `rows` at a time: what the POST body is
        written from, without a million row objects at once. With `frames`, a stored
        list whose add_data columns are all texts or integers gives polars frames
        instead ("phone" as E.164 digits, then the columns in key order), which
        bot.campaigns writes as JSON without making Python objects at all."""
        self._load()
        if frames and self._frame is not None and set(self._kinds or ()) <= {"s", "i"}:
            names = ["phone", *(f"c{i}" for i in range(len(self.keys)))]
            for part in self._frame.iter_slices(rows):
                yield part.rename(dict(zip(part.columns, names, strict=True)))
            return
        if self._frame is None:  # plain lists (small lists, an old draft's list)
            for start in range(0, len(self), rows):
                end = start + rows
                yield self.phones[start:end], [c[start:end] for c in self.columns]
            return
        assert self._kinds is not None
        for part in self._frame.iter_slices(rows):
            yield _e164(part["p"]), [
                _decode(kind, part[f"c{i}"]) for i, kind in enumerate(self._kinds)
            ]

    def sample(self, n: int) -> list[tuple[str, dict]]:
        if self._phones is None and self._samples is not None and n <= len(self._samples):
            return self._samples[:n]
        if self._frame is not None and self._phones is None:
            head = PhoneList.__new__(PhoneList)
            head.keys = self.keys
            frame = self._frame.head(n)
            head._phones = _e164(frame["p"])
            assert self._kinds is not None
            head._columns = [_decode(k, frame[f"c{i}"]) for i, k in enumerate(self._kinds)]
            return [(head._phones[i], head.add_data(i)) for i in range(len(head._phones))]
        return [(self.phones[i], self.add_data(i)) for i in range(min(n, len(self)))]

    def __getstate__(self) -> tuple:
        return (self.to_bytes(),)

    def __setstate__(self, state: tuple) -> None:
        (data,) = state
        self._load_header(data)

    def _load_header(self, data: bytes) -> None:
        self._packed = data
        self._phones = self._columns = None
        self._frame = None
        self._kinds = None
        if data.startswith(_MAGIC):
            size = int.from_bytes(data[4:8], "little")
            head = orjson.loads(data[8 : 8 + size])
            self._count, self.keys, self._kinds = head["n"], head["k"], head["t"]
            self._samples = [(p, d) for p, d in head["s"]]
        else:
            body = orjson.loads(zlib.decompress(data))
            self._phones = body["p"].split("\n") if body["p"] else []
            self._columns = body["c"]
            self.keys = body["k"]
            self._count = len(self._phones)
            self._samples = None

    def to_bytes(self) -> bytes:
        if self._packed is not None and self._packed.startswith(_MAGIC):
            return self._packed
        frame = self._ensure_frame()
        head = orjson.dumps(
            {
                "n": len(self),
                "k": self.keys,
                "t": self._kinds,
                "s": self.sample(self.SAMPLE_ROWS),
            }
        )
        out = io.BytesIO()
        out.write(_MAGIC + len(head).to_bytes(4, "little") + head)
        # Texts that repeat (a region, a time, a manager's name) stored as a dictionary:
        # a third of the bytes of Arrow's 16-byte string views, even compressed.
        # (Estimated: an exact count of the distinct values of a column of a million
        # different texts takes ~120 ms, the estimate ~10.)
        repeated = [
            name
            for name, dtype in frame.schema.items()
            if dtype == pl.String and frame[name].approx_n_unique() * 4 <= frame.height
        ]
        if repeated:
            frame = frame.with_columns(pl.col(repeated).cast(pl.Categorical))
        # zstd: ~30 ms for a million rows, a third smaller than LZ4 (Redis holds it).
        frame.write_ipc(out, compression="zstd")
        self._packed = out.getvalue()
        return self._packed

    def pack(self) -> None:
        """Keep only the packed bytes (a worker does this before its result is pickled:
        the frame and any lists are freed, the bytes are what crosses)."""
        data = self.to_bytes()
        self._load_header(data)

    @classmethod
    def from_bytes(cls, data: bytes) -> PhoneList:
        out = cls.__new__(cls)
        out._load_header(data)
        return out


def _records(keys: list[str], phones: list[str], columns: list[list]) -> list[dict]:
    if not keys:
        return [{"phone": p, "add_data": {}} for p in phones]
    return [
        {
            "phone": p,
            "add_data": {k: v for k, v in zip(keys, row, strict=True) if v is not None and v != ""},
        }
        for p, row in zip(phones, zip(*columns, strict=True), strict=True)
    ]


@dataclass
class IngestResult:
    phones: PhoneList
    rows_read: int = 0  # data rows considered (non-empty, below the header)
    accepted: int = 0  # distinct numbers sent == len(phones)
    fixed: int = 0  # accepted after repair: extension dropped, number cell, "….0" text
    duplicates: int = 0
    rejected: dict[str, int] = field(default_factory=dict)  # reason code -> count
    # Empty when a worker built `report` from them (executor.run_job): only the counts
    # above come back with it.
    rejected_rows: list[RejectedRow] = field(default_factory=list)
    countries: dict[str, int] = field(default_factory=dict)  # region -> count, outside RU
    phone_column: str | None = None  # header text, None without a header
    phone_column_index: int | None = None  # 0-based, in the file: named without a header
    has_header: bool = False
    source_kind: str = ""  # "xlsx" / "xls" / "ods" / "csv" / "text"
    keys: list[str] = field(default_factory=list)  # add_data keys found (== phones.keys)
    # Of `fixed`: the first valid number of a multi-number cell / words around it dropped.
    multi_fixed: int = 0
    words_fixed: int = 0
    # Numbers of multi-number cells that were not used (row, value, "left_out").
    left_out: list[RejectedRow] = field(default_factory=list)
    # Every phone column used, in the file's order, and how many numbers it gave (sent).
    phone_columns: list[tuple[str, int]] = field(default_factory=list)
    # Other reasonable readings of the same file, for the supervisor to pick:
    # ("col", column index, header): only that phone column; ("sheet", index, name).
    alternatives: list[tuple[str, int, str]] = field(default_factory=list)
    sheet: str | None = None  # the sheet read, when the workbook has several with data
    # The rejected-rows report (xlsx), when a worker built it (see executor.run_job).
    report: bytes | None = None
    # What the caller's `annotate` hook computed from the accepted list where it was read
    # (executor.run_job): the phones package does not know what it is (zones, for one).
    annotation: object | None = None
    # Where a worker's time went (executor.run_job), for the bot's log.
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())
