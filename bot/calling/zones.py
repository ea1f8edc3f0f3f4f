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
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

import phonenumbers
from phonenumbers import timezone as pn_timezone

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


@lru_cache(maxsize=1)
def _landline_prefixes() -> dict[str, str]:
    """libphonenumber's Russian prefixes ("7351", "74012", ...) -> zone, through the
    region names it gives («Челябинская обл.»). Its own zone table is not used:
    Kaliningrad would be Europe/Bucharest."""
    try:
        from phonenumbers.geodata import GEOCODE_DATA
    except ImportError:  # pragma: no cover - an older or newer layout
        return {}
    out: dict[str, str] = {}
    for prefix, names in GEOCODE_DATA.items():
        # +7 6xx / 7xx is Kazakhstan; +7 9xx has no region in libphonenumber.
        if not prefix.startswith("7") or len(prefix) < 2 or prefix[1] in "679":
            continue
        name = names.get("ru") or names.get("en") or ""
        zone = subject_zone(name)
        if zone:
            out[prefix[1:]] = zone
    return out


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
    zones = [z for z in pn_timezone.time_zones_for_number(parsed) if z != "Etc/Unknown"]
    return zones[0] if len(zones) == 1 else None


def foreign_zone(phone: str) -> str | None:
    # Zones of a country's numbers depend on a few leading digits: cache by them.
    return _foreign_zone_by_prefix(phone[:8].ljust(len(phone), "0"))


@dataclass
class ZoneAssignment:
    """The zone of every number of a list: `codes[i]` indexes `zones` (0 = unknown)."""

    zones: list[str]
    codes: list[int]
    sources: dict[str, int] = field(default_factory=dict)  # Source -> count

    def __len__(self) -> int:
        return len(self.codes)

    def zone_of(self, i: int) -> str:
        return self.zones[self.codes[i]]

    def counts(self) -> dict[str, int]:
        """Zone -> numbers (unknown under UNKNOWN)."""
        tally = [0] * len(self.zones)
        for c in self.codes:
            tally[c] += 1
        return {z: n for z, n in zip(self.zones, tally, strict=True) if n}

    def to_json(self) -> dict:
        return {"z": self.zones, "c": self.codes, "s": self.sources}

    @classmethod
    def from_json(cls, data: dict) -> ZoneAssignment:
        return cls(list(data["z"]), list(data["c"]), dict(data.get("s", {})))


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
            code = self.index[zone] = len(self.names)
            self.names.append(zone)
        return code


def assign_zones(
    phones: Sequence[str],
    keys: Sequence[str] = (),
    columns: Sequence[Sequence[object]] = (),
    plan: NumberingPlan | None = None,
) -> ZoneAssignment:
    """The zone of each of `phones` (E.164) given the list's add_data columns (`keys`,
    `columns[k][i]`, as PhoneList has them) and the registry, if any."""
    count = len(phones)
    zones = _Zones()
    codes = [0] * count
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
                code = parsed[value] = zones.code(
                    parse_zone(str(value)) if value not in (None, "") else None
                )
            if code:
                codes[i] = code
            else:
                left.append(i)
        sources[Source.COLUMN] += len(todo) - len(left)
        todo = left
        if not todo:
            break

    # 2. the registry, over every Russian 10-digit number left, vectorized.
    ru = [i for i in todo if len(phones[i]) == 12 and phones[i].startswith("+7")]
    if plan is not None and len(plan) and ru:
        remap = [zones.code(z) for z in plan.zones]
        if pl is not None:
            nationals = pl.Series("p", [phones[i] for i in ru]).str.slice(2).cast(pl.Int64)
        else:
            nationals = [int(phones[i][2:]) for i in ru]
        found = plan.lookup_codes(nationals)
        hit = set()
        for i, z in zip(ru, found, strict=True):
            if z >= 0:
                codes[i] = remap[z]
                hit.add(i)
        sources[Source.REGISTRY] += len(hit)
        todo = [i for i in todo if i not in hit]

    # 3. libphonenumber's region for Russian landlines, 4. foreign numbers.
    left = []
    for i in todo:
        phone = phones[i]
        if phone.startswith("+7") and len(phone) == 12 and phone[2] not in "679":
            zone = landline_zone(phone[2:])
            source = Source.LANDLINE
        elif not phone.startswith("+7"):
            zone = foreign_zone(phone)
            source = Source.FOREIGN
        else:
            zone = None
        if zone:
            codes[i] = zones.code(zone)
            sources[source] += 1
        else:
            left.append(i)
    sources[Source.UNKNOWN] = len(left)
    return ZoneAssignment(zones.names, codes, {str(k): v for k, v in sources.items() if v})
