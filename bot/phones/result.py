"""What an ingestion produces: the accepted phones (columnar) and the counts."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import orjson

from bot.gcpause import gc_paused

Value = str | int | float | bool


@dataclass(frozen=True, slots=True)
class RejectedRow:
    row: int  # 1-based line / sheet row in the file, or the piece index for pasted text
    value: str  # original cell value as text
    reason: str  # a code from REJECT_REASONS


def _empty(v: object) -> bool:
    return v is None or v == ""


class PhoneList:
    """Columnar accepted phones: compact in memory, picklable, serializable.

    `columns[k][i]` is the add_data value of key `keys[k]` for `phones[i]`; None or ""
    mean an empty cell (left out of that row's add_data). Lists of plain values, not
    per-row dicts: a million rows cost one list per column, and pickling them back from a
    worker process is a few C loops.

    `to_bytes()` (orjson + zlib level 6), measured on 100k random mobile numbers: 0.53 MB
    for phones alone (~5.3 bytes a phone), 0.93 MB with two text columns (a Cyrillic
    name with a row number, an "HH:MM" time), ~9.3 bytes a row; about 0.1-0.2 s to
    write and 0.01-0.07 s to read back per 100k.
    """

    __slots__ = ("_columns", "_count", "_packed", "_phones", "_samples", "keys")

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
        self._packed: bytes | None = None
        self._samples: list[tuple[str, dict]] | None = None

    # A list that crossed from a worker process arrives packed (its to_bytes() form, made
    # in the worker) and is unpacked only when its rows are needed: turning a million
    # strings back into objects would hold the bot's event loop for a noticeable time,
    # while a draft only stores the packed bytes and shows a few sample rows.
    @property
    def phones(self) -> list[str]:
        if self._phones is None:
            self._unpack()
        assert self._phones is not None
        return self._phones

    @property
    def columns(self) -> list[list[Value | None]]:
        if self._columns is None:
            self._unpack()
        assert self._columns is not None
        return self._columns

    def _unpack(self) -> None:
        assert self._packed is not None
        body = orjson.loads(zlib.decompress(self._packed))
        self._phones = body["p"].split("\n") if body["p"] else []
        self._columns = body["c"]

    def __len__(self) -> int:
        return self._count

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PhoneList):
            return NotImplemented
        return self.records() == other.records() and self.keys == other.keys

    def __repr__(self) -> str:
        return f"PhoneList({len(self.phones)} phones, keys={self.keys!r})"

    def add_data(self, i: int) -> dict[str, Value]:
        return {
            k: col[i] for k, col in zip(self.keys, self.columns, strict=True) if not _empty(col[i])
        }

    def records(self) -> list[dict]:
        """Exactly the campaign API's phones[] items."""
        keys = self.keys
        with gc_paused():  # hundreds of thousands of small dicts, no cycles among them
            if not keys:
                return [{"phone": p, "add_data": {}} for p in self.phones]
            return [
                {
                    "phone": p,
                    "add_data": {
                        k: v for k, v in zip(keys, row, strict=True) if v is not None and v != ""
                    },
                }
                for p, row in zip(self.phones, zip(*self.columns, strict=True), strict=True)
            ]

    def sample(self, n: int) -> list[tuple[str, dict]]:
        if self._phones is None and self._samples is not None and n <= len(self._samples):
            return self._samples[:n]
        return [(self.phones[i], self.add_data(i)) for i in range(min(n, len(self)))]

    def __getstate__(self) -> tuple:
        return self.to_bytes(), self._count, self.keys, self.sample(self.SAMPLE_ROWS)

    def __setstate__(self, state: tuple) -> None:
        self._packed, self._count, self.keys, self._samples = state
        self._phones = self._columns = None

    def to_bytes(self) -> bytes:
        if self._packed is not None:
            return self._packed
        body = orjson.dumps(
            {"v": 1, "p": "\n".join(self.phones), "k": self.keys, "c": self.columns}
        )
        return zlib.compress(body, 6)

    @classmethod
    def from_bytes(cls, data: bytes) -> PhoneList:
        body = orjson.loads(zlib.decompress(data))
        phones = body["p"].split("\n") if body["p"] else []
        return cls(phones, body["k"], body["c"])


@dataclass
class IngestResult:
    phones: PhoneList
    rows_read: int = 0  # data rows considered (non-empty, below the header)
    accepted: int = 0  # distinct numbers sent == len(phones)
    fixed: int = 0  # accepted after repair: extension dropped, number cell, "….0" text
    duplicates: int = 0
    rejected: dict[str, int] = field(default_factory=dict)  # reason code -> count
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

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())
