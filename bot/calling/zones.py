"""Each number's time zone, from the first source that knows it:

1. a zone or region column of the uploaded file (`Часовой пояс`: «UTC+3», «МСК+2»,
   «Asia/Omsk»; `Регион` / `Город`: «Челябинская обл.», «Екатеринбург»), as the
   list's add_data after ingest;
2. the numbering-plan registry (mobile and landline ranges), when its files are present;
3. libphonenumber's region of a Russian landline (`+7 351…` -> «Челябинская обл.»),
   mapped through the subjects table: its own zone data has known errors (Kaliningrad
   as Europe/Bucharest) and says nothing useful for mobile numbers;
4. for a number outside Russia, libphonenumber's zone when it names exactly one;
else unknown.

A zone is a string: an IANA name or a fixed offset «UTC+05:00». Groups are by UTC
offset on the campaign's date («UTC+5»), since one campaign per offset is what the split
needs.
"""

from __future__ import annotations

import datetime as dt
import re
import zlib
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Protocol

import orjson
import phonenumbers
from phonenumbers import timezone as pn_timezone

from .prefixes import landline_prefixes
from .registry import NumberingPlan
from .subjects import subject_zone

try:
    import polars as pl
except ImportError:  # pragma: no cover - depends on the environment
    pl = None

UNKNOWN = ""


class Source(StrEnum):
    COLUMN = "column"
    REGISTRY = "registry"
    LANDLINE = "landline"
    FOREIGN = "foreign"
    UNKNOWN = "unknown"


# Header words of a column that carries a zone or a place. Compared without case, spaces,
# underscores or dots; the zone kinds first (a file with both trusts the zone).
ZONE_HEADERS = ("часовойпояс", "пояс", "часоваязона", "таймзона", "timezone", "tz", "utc",
                "gmt", "мск")
PLACE_HEADERS = ("регион", "город", "областькрай", "область", "субъект", "region", "city",
                 "населенныйпункт")


def _header(key: str) -> str:
    return re.sub(r"[\s_.\-]+", "", key.lower().replace("ё", "е"))


def zone_columns(keys: Sequence[str]) -> list[int]:
    """Indices of the add_data keys that name a zone or a place, zone ones first."""
    headers = [_header(k) for k in keys]
    zone = [i for i, h in enumerate(headers) if h in ZONE_HEADERS]
    place = [i for i, h in enumerate(headers) if h in PLACE_HEADERS and i not in zone]
    return zone + place


_OFFSET = re.compile(
    r"^(?P<base>utc|gmt|мск|msk)?\s*(?:(?P<sign>[+\-−])\s*(?P<h>\d{1,2})(?::?(?P<m>\d{2}))?)?$"
)


def fixed_zone(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    h, m = divmod(abs(minutes), 60)
    return f"UTC{sign}{h:02d}:{m:02d}"


@lru_cache(maxsize=8192)
def parse_zone(value: str) -> str | None:
    """A cell of a zone or place column -> a zone, or None: «UTC+3», «GMT+05:00»,
    «МСК+2» (Moscow time plus two hours), «МСК», «+5», «Asia/Omsk», or a region or
    city («Челябинская обл.», «Новосибирск»)."""
    text = value.strip()
    if not text:
        return None
    if "/" in text and " " not in text:
        try:
            zoneinfo.ZoneInfo(text)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
        else:
            return text
    match = _OFFSET.match(text.lower().replace(" ", ""))
    if match and (match["base"] or match["sign"]):
        base = 180 if match["base"] in ("мск", "msk") else 0
        minutes = 0
        if match["sign"]:
            minutes = int(match["h"]) * 60 + int(match["m"] or 0)
            if match["sign"] != "+":
                minutes = -minutes
        total = base + minutes
        if -12 * 60 <= total <= 14 * 60:
            return fixed_zone(total)
        return None
    return subject_zone(text)


@lru_cache(maxsize=512)
def utc_offset_minutes(zone: str, date: dt.date) -> int:
    """The zone's offset from UTC at noon of a date, in minutes."""
    if zone.startswith("UTC") and len(zone) == 9:
        sign = 1 if zone[3] == "+" else -1
        return sign * (int(zone[4:6]) * 60 + int(zone[7:9]))
    tz = zoneinfo.ZoneInfo(zone)
    noon = dt.datetime.combine(date, dt.time(12), tz)
    offset = noon.utcoffset()
    assert offset is not None
    return int(offset.total_seconds() // 60)


def offset_label(minutes: int) -> str:
    """UTC+5, UTC+5:30, UTC−3 as people write it."""
    sign = "+" if minutes >= 0 else "−"
    h, m = divmod(abs(minutes), 60)
    return f"UTC{sign}{h}" + (f":{m:02d}" if m else "")


def _landline_prefixes() -> dict[str, str]:
    return landline_prefixes()


_PREFIX_LENGTHS = (7, 6, 5, 4, 3, 2, 1)  # libphonenumber keys: "740" is +7 40x


def landline_zone(national: str) -> str | None:
    """The zone of a Russian landline by its 10-digit national number, or None."""
    table = _landline_prefixes()
    for n in _PREFIX_LENGTHS:
        zone = table.get(national[:n])
        if zone:
            return zone
    return None


@lru_cache(maxsize=4096)
def _foreign_zone_by_prefix(phone: str) -> str | None:
    try:
        parsed = phonenumbers.parse(phone)
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.region_code_for_number(parsed) == "KZ":
        # Kazakhstan shares +7; one zone (UTC+5) since March 2024, while libphonenumber
        # lists Russia's sixteen for its mobile numbers.
        return "Asia/Almaty"
    zones = [z for z in pn_timezone.time_zones_for_number(parsed) if z != "Etc/Unknown"]
    return zones[0] if len(zones) == 1 else None


def foreign_zone(phone: str) -> str | None:
    # Zones of a country's numbers depend on a few leading digits: cache by them.
    return _foreign_zone_by_prefix(phone[:8].ljust(len(phone), "0"))


@dataclass
class ZoneAssignment:
    """The zone of every number of a list: `codes[i]` indexes `zones` (0 = unknown).
    One byte a number (at most 255 zones: Russia has 11 offsets and ~30 IANA names)."""

    zones: list[str]
    codes: bytes
    sources: dict[str, int] = field(default_factory=dict)  # Source -> count
    # Numbers per zone code, when the assignment counted them as it went (one pass
    # instead of one per zone).
    tally: list[int] | None = field(default=None, compare=False, repr=False)

    def __len__(self) -> int:
        return len(self.codes)

    def zone_of(self, i: int) -> str:
        return self.zones[self.codes[i]]

    def counts(self) -> dict[str, int]:
        """Zone -> numbers (unknown under UNKNOWN)."""
        tally = self.tally or list(map(self.codes.count, range(len(self.zones))))
        return {z: n for z, n in zip(self.zones, tally, strict=True) if n}

    def indices(self, zones: set[str]) -> list[int]:
        """Positions of the numbers whose zone is one of `zones`, in list order."""
        wanted = {i for i, z in enumerate(self.zones) if z in zones}
        return [i for i, c in enumerate(self.codes) if c in wanted]

    def to_bytes(self) -> bytes:
        head = orjson.dumps({"v": 1, "z": self.zones, "s": self.sources})
        # Level 1: a million codes in ~10 ms (level 6 took ~100 ms for ~20 % less).
        return zlib.compress(len(head).to_bytes(4, "big") + head + self.codes, 1)

    @classmethod
    def from_bytes(cls, data: bytes) -> ZoneAssignment:
        raw = zlib.decompress(data)
        size = int.from_bytes(raw[:4], "big")
        head = orjson.loads(raw[4 : 4 + size])
        return cls(list(head["z"]), bytes(raw[4 + size :]), dict(head["s"]))


class _Zones:
    """Interning of zone strings into small ints while assigning."""

    def __init__(self) -> None:
        self.names = [UNKNOWN]
        self.index = {UNKNOWN: 0}

    def code(self, zone: str | None) -> int:
        if not zone:
            return 0
        code = self.index.get(zone)
        if code is None:
            if len(self.names) == 255:
                return 0  # more zones than a byte holds: a file of nonsense zones
            code = self.index[zone] = len(self.names)
            self.names.append(zone)
        return code


class ColumnarList(Protocol):
    """What zones need of an accepted list (bot.phones.PhoneList has it; this package
    does not import that one: the arrow points from the phones' caller to both)."""

    keys: list[str]

    def numbers(self) -> pl.Series: ...  # E.164 as Int64, no "+"

    def zone_column(self, k: int) -> pl.Series: ...  # String or Int64, None when empty

    @property
    def phones(self) -> list[str]: ...

    @property
    def columns(self) -> list[list[object]]: ...


def assign_zones(
    phones: Sequence[str],
    keys: Sequence[str] = (),
    columns: Sequence[Sequence[object]] = (),
    plan: NumberingPlan | None = None,
    *,
    columnar: bool = True,
) -> ZoneAssignment:
    """The zone of each of `phones` (E.164) given the list's add_data columns (`keys`,
    `columns[k][i]`, as PhoneList has them) and the registry, if any. Vectorized on
    polars; `columnar=False` is the plain loop, the reference the columnar path is
    tested against."""
    if pl is None or not columnar:
        return _assign_python(phones, keys, columns, plan)
    text = pl.Series("p", phones, dtype=pl.String)
    # "+digits" -> the integer; anything else (no "+", not digits) -> null.
    numbers = pl.select(
        pl.when(text.str.starts_with("+")).then(text.str.slice(1).cast(pl.Int64, strict=False))
    ).to_series()
    texts = {
        k: pl.Series("v", [None if v in (None, "") else str(v) for v in columns[k]],
                     dtype=pl.String)
        for k in zone_columns(keys)
    }
    return _assign_polars(numbers, texts, plan, lambda i: phones[i])


def assign_list_zones(
    plist: ColumnarList, plan: NumberingPlan | None = None, *, columnar: bool = True
) -> ZoneAssignment:
    """assign_zones over an accepted list as it is held: the E.164 integer column and
    only the zone or place columns as text, so a million numbers never become Python
    strings (where the list was read: the ingest worker)."""
    if pl is None or not columnar:
        return _assign_python(plist.phones, plist.keys, plist.columns, plan)
    numbers = plist.numbers()
    texts = {k: plist.zone_column(k) for k in zone_columns(plist.keys)}
    return _assign_polars(numbers, texts, plan, lambda i: f"+{numbers[i]}")


def _column_value_code(zones: _Zones, value: object) -> int:
    return zones.code(parse_zone(str(value)) if value not in (None, "") else None)


def _finish(
    zones: _Zones, codes: bytes, sources: dict[Source, int], tally: list[int] | None = None
) -> ZoneAssignment:
    if tally is not None:
        tally = tally[: len(zones.names)]
    sources[Source.UNKNOWN] = tally[0] if tally else codes.count(0)
    return ZoneAssignment(
        zones.names, codes, {str(k): v for k, v in sources.items() if v}, tally
    )


def _assign_python(phones, keys, columns, plan) -> ZoneAssignment:
    count = len(phones)
    zones = _Zones()
    codes = bytearray(count)
    sources = dict.fromkeys(Source, 0)
    todo = list(range(count))

    # 1. the file's own zone or place columns: each distinct value parsed once.
    for k in zone_columns(keys):
        column = columns[k]
        parsed: dict[object, int] = {}
        left = []
        for i in todo:
            value = column[i]
            code = parsed.get(value)
            if code is None:
                code = parsed[value] = _column_value_code(zones, value)
            if code:
                codes[i] = code
            else:
                left.append(i)
        sources[Source.COLUMN] += len(todo) - len(left)
        todo = left

    # 2. the registry, 3. libphonenumber's region for landlines, 4. foreign numbers.
    remap = [zones.code(z) for z in plan.zones] if plan is not None else []
    for i in todo:
        phone = phones[i]
        zone_code = 0
        if len(phone) == 12 and phone.startswith("+7"):
            if remap:
                found = plan.lookup_one_code(int(phone[2:]))
                if found >= 0:
                    codes[i] = remap[found]
                    sources[Source.REGISTRY] += 1
                    continue
            if phone[2] not in "679":
                zone_code = zones.code(landline_zone(phone[2:]))
                source = Source.LANDLINE
            elif phone[2] in "67":  # Kazakhstan
                zone_code = zones.code(foreign_zone(phone))
                source = Source.FOREIGN
        elif not phone.startswith("+7"):
            zone_code = zones.code(foreign_zone(phone))
            source = Source.FOREIGN
        if zone_code:
            codes[i] = zone_code
            sources[source] += 1
    return _finish(zones, bytes(codes), sources)


_RU_LOW, _RU_HIGH = 7 * 10**10, 8 * 10**10  # +7 and ten digits


def _assign_polars(numbers, texts, plan, e164) -> ZoneAssignment:
    """`numbers`: E.164 as Int64 (no "+"); `texts`: zone or place column index -> its
    cells (String, or Int64 for a column of integers; None or "" when empty), zone columns
    first; `e164(i)`: the i-th number as text (only for the few foreign numbers, one by
    one). Each source gives a code or null; the first non-null wins (one coalesce), so
    a million numbers take a handful of whole-column passes."""
    zones = _Zones()
    count = len(numbers)
    if count == 0:
        return _finish(zones, b"", dict.fromkeys(Source, 0))

    # 1. zone or place columns: distinct values parsed once (as text: `str(value)`, as
    # the plain loop reads them), each column mapped in one replace.
    from_columns = []
    for column in texts.values():
        mapping = {}
        for value in column.unique().drop_nulls():
            code = _column_value_code(zones, value)
            if code:
                mapping[value] = code
        if mapping:
            from_columns.append(column.replace_strict(mapping, default=None,
                                                      return_dtype=pl.UInt8))

    n = pl.col("n")
    national = (
        numbers.rename("n")
        .to_frame()
        .lazy()
        .select(pl.when((n >= _RU_LOW) & (n < _RU_HIGH)).then(n - _RU_LOW).alias("national"))
        # The national number's first digit (6/7 Kazakhstan, 9 mobile), -1 outside +7.
        .with_columns((pl.col("national") // 10**9).fill_null(-1).alias("first"))
        .collect()
    )
    nationals, first = national["national"], national["first"]
    del national
    russian = nationals.is_not_null()

    # 2. the registry: one gather in its dense table for every Russian number.
    from_registry = None
    if plan is not None and len(plan):
        remap = pl.Series("r", [0, *(zones.code(z) for z in plan.zones)], dtype=pl.UInt8)
        from_registry = remap.gather(plan.lookup_ordinals_series(nationals))

    # 3. landlines by libphonenumber's prefixes, longest first; a prefix of n digits is
    # the national number's first n digits, as an integer.
    from_landline = None
    table = _landline_prefixes()
    landline = russian & ~first.is_in([6, 7, 9])
    if from_registry is not None:
        landline = landline & from_registry.is_null()
    if table and bool(landline.any()):
        prefix_codes = {p: zones.code(z) for p, z in table.items()}
        parts = []
        for n in _PREFIX_LENGTHS:
            keyed = {int(p): c for p, c in prefix_codes.items() if len(p) == n and c}
            if keyed:
                parts.append((nationals // 10 ** (10 - n)).replace_strict(
                    keyed, default=None, return_dtype=pl.UInt8))
        if parts:
            from_landline = pl.select(
                pl.when(landline).then(pl.coalesce(parts))
            ).to_series()

    sources = dict.fromkeys(Source, 0)
    ordered = [(Source.COLUMN, c) for c in from_columns]
    ordered += [(s, c) for s, c in ((Source.REGISTRY, from_registry),
                                    (Source.LANDLINE, from_landline)) if c is not None]
    tally = [0] * 256
    if ordered:
        frame = pl.DataFrame({f"s{i}": c for i, (_, c) in enumerate(ordered)})
        names = frame.columns
        frame = frame.with_columns(pl.coalesce(names).fill_null(0).alias("code"))
        codes = frame["code"]
        # Which source gave each number its code (the first non-null one), and how many
        # numbers each code has (a sum per code: a quarter of value_counts' time).
        counted = frame.select(
            *(
                (pl.col(n).is_not_null() & pl.all_horizontal(
                    [pl.col(m).is_null() for m in names[:i]] or [pl.lit(True)]
                )).sum()
                for i, n in enumerate(names)
            ),
            *((pl.col("code") == k).sum().alias(f"t{k}") for k in range(len(zones.names))),
        ).row(0)
        del frame
        for (source, _), n in zip(ordered, counted, strict=False):
            sources[source] += int(n)
        tally[: len(zones.names)] = counted[len(ordered) :]
    else:
        codes = pl.zeros(count, pl.UInt8, eager=True)
        tally[0] = count
    # 4. foreign numbers, few in a Russian list: one by one, cached by prefix.
    from bot.bytes_column import uint8_bytes

    out = bytearray(uint8_bytes(codes))
    kazakh = russian & first.is_in([6, 7])
    foreign = ((~russian | kazakh) & (codes == 0) & numbers.is_not_null()).arg_true().to_list()
    for i in foreign:
        phone = e164(i)
        if phone.startswith("+7") and len(phone) != 12:
            continue  # neither Russian nor foreign: unknown, as in the plain loop
        code = zones.code(foreign_zone(phone))
        if code:
            out[i] = code
            tally[0] -= 1
            tally[code] += 1
            sources[Source.FOREIGN] += 1
    return _finish(zones, bytes(out), sources, tally)
