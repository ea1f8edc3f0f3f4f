"""The common Russian number forms and the +7 prefix table: one definition for every path.

A written number is judged fast when, with the separators below deleted, it is one of
three forms: ten digits, 7 or 8 and ten digits, or +7 and ten digits. Such a number's
validity depends only on the first six digits of its ten-digit national number (the
deepest branch of libphonenumber's RU/KZ patterns is six digits: `9300 05…`,
`7104 0…`), so it is looked up by that prefix in `PREFIXES`, computed from
libphonenumber's own metadata. Everything else goes through `normalize.normalize()`.

The same rules are written here three ways, for three kinds of input, and nowhere else:
`fast_national` (one value), `fast_key` (one value, as an E.164 integer) and
`fast_key_expr` (a polars column). tests/phones check that they agree with each other
and with `phonenumbers`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence

import phonenumbers
from phonenumbers import PhoneMetadata

# Separators of written phone numbers; deleted before the digits are judged. The
# apostrophe is Excel's text marker ('+7916...).
SEPARATORS = " \t-().'\u00a0\u2007\u2009\u202f\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
# The fast forms keep dots: "7916123456.0" (a number cell saved as text) must not lose
# its ".0" into an eleventh digit; dotted numbers take the reference path.
FAST_SEPARATORS = SEPARATORS.replace(".", "")
SEPARATOR_TABLE = str.maketrans("", "", SEPARATORS)
FAST_TABLE = str.maketrans("", "", FAST_SEPARATORS)
# The same set for polars (a Rust regex character class) and for bytes.translate.
FAST_SEPARATOR_CLASS = "[" + "".join(re.escape(c) for c in FAST_SEPARATORS) + "]"
_FAST_ASCII = FAST_SEPARATORS.encode("ascii", "ignore")
_FAST_WIDE = tuple(c for c in FAST_SEPARATORS if not c.isascii())

E10 = 10_000_000_000
CC7 = 7 * E10  # +7 as the leading digit of an 11-digit E.164 integer


def strip_fast_separators(values: Sequence[str]) -> list[str]:
    """FAST_SEPARATORS deleted from every value at once: one join, one bytes.translate,
    one split (C loops) instead of a Python call per value."""
    joined = "\n".join(values)
    if not joined.isascii():
        for ch in _FAST_WIDE:
            if ch in joined:
                joined = joined.replace(ch, "")
    out = joined.encode("utf-8", "surrogatepass").translate(None, _FAST_ASCII)
    cleaned = out.decode("utf-8", "surrogatepass").split("\n")
    if len(cleaned) != len(values):  # a value held a line break
        cleaned = [v.translate(FAST_TABLE) for v in values]
    return cleaned


def fast_national(d: str) -> str | None:
    """Ten-digit national number of a separator-free fast form, else None."""
    n = len(d)
    if n == 11:
        if (d[0] == "7" or d[0] == "8") and d.isdigit() and d.isascii():
            return d[1:]
    elif n == 12:
        if d[0] == "+" and d[1] == "7" and d[2:].isdigit() and d.isascii():
            return d[2:]
    elif n == 10 and d.isdigit() and d.isascii():
        return d
    return None


def fast_key(d: str) -> int:
    """`fast_national` as the E.164 integer (7 followed by the national number; cheap to
    hash and compare), 0 when `d` is not a fast form."""
    n = len(d)
    if n == 11:
        if d.isdigit() and d.isascii():
            if d[0] == "7":
                return int(d)
            if d[0] == "8":
                return int(d) - E10
    elif n == 12:
        if d[0] == "+" and d[1] == "7" and d.isascii() and d[1:].isdigit():
            return int(d)
    elif n == 10 and d.isdigit() and d.isascii():
        return int(d) + CC7
    return 0


def fast_key_expr(s, ints=None):  # polars expressions in and out (polars: the caller's)
    """`fast_key` over a separator-free polars String column: the E.164 integer, null
    where the value is not a fast form; also the integer cast, the byte length and the
    leading "+" it was judged by. A fast form parses as an integer whose size and length
    say which one it is (polars' integer cast takes only ASCII digits and a sign).
    `ints`: that cast of `s`, when the caller has it already."""
    import polars as pl

    v = s.cast(pl.Int64, strict=False) if ints is None else ints
    length = s.str.len_bytes()
    plus = s.str.starts_with("+")
    fast = (
        ((length == 10) & (v >= 1_000_000_000) & (v < E10))
        | ((length == 11) & (v >= CC7) & (v < 9 * E10))
        | ((length == 12) & plus & (v >= CC7) & (v < 8 * E10))
    ).fill_null(False)
    return pl.when(fast).then(v % E10 + CC7).otherwise(None), v, length, plus


# --- the prefix table -------------------------------------------------------------------

_TYPE_ATTRS = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)

# Values of a table cell.
UNSET, INVALID, DEEP = 255, 0, 254


def _region_matcher(region: str) -> tuple[re.Pattern[str] | None, re.Pattern[str]]:
    """(leading-digits pattern, 'is any known type' pattern) for ten-digit numbers,
    mirroring phonenumbers' _region_code_for_number_from_list and _number_type_helper."""
    md = PhoneMetadata.metadata_for_region(region)
    general = md.general_desc
    pats = []
    for attr in _TYPE_ATTRS:
        desc = getattr(md, attr)
        if desc is None or desc.national_number_pattern is None:
            continue
        lengths = desc.possible_length or ()
        if lengths and 10 not in lengths:
            continue
        pats.append(desc.national_number_pattern)
    body = "|".join(f"(?:{p})" for p in pats) or "(?!)"
    typed = re.compile(f"(?=(?:{general.national_number_pattern})$)(?:{body})$")
    lead = re.compile(md.leading_digits) if md.leading_digits else None
    return lead, typed


class PrefixTable:
    """Validity of +7 numbers by the first six digits of the national number, as a flat
    table indexed by int(prefix): a byte per prefix is 1 MB in all and one memory access
    per row. Values: UNSET (not computed yet), INVALID, DEEP (validity depends on later
    digits: use the reference path), or an index into `regions`. Filled lazily a 3-digit
    block (1000 prefixes) at a time, or all at once by `fill_all` (worker start)."""

    RU = 1

    def __init__(self) -> None:
        self.regions: list[str] = ["", "RU", "KZ"]
        self.cells = bytearray([UNSET]) * 1_000_000
        self._lock = threading.Lock()
        self._matchers: list[tuple[str, re.Pattern[str] | None, re.Pattern[str]]] = []
        self._tails: dict[str, list[str]] = {}
        self._series = None
        self._series_unset = -1
        self.complete = False  # every block filled (fill_all): no lookup can fill one

    def _code(self, region: str) -> int:
        if not region:
            return INVALID
        if region not in self.regions:
            self.regions.append(region)
        return self.regions.index(region)

    def _block_regions(self, head: int, suffix: str) -> list[str]:
        """Region of +7<nat> ("" when invalid; phonenumbers' own logic) for the 1000
        numbers f"{head:03d}{i:03d}{suffix}" at once: one multi-line regex scan per
        pattern instead of a regex call per number."""
        if not self._matchers:
            for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[7]:
                lead, typed = _region_matcher(region)
                self._matchers.append(
                    (
                        region,
                        re.compile(f"^(?:{lead.pattern})", re.M) if lead is not None else None,
                        re.compile(f"^(?:{typed.pattern})$", re.M),
                    )
                )
        tails = self._tails.get(suffix)
        if tails is None:
            tails = self._tails[suffix] = [f"{i:03d}{suffix}" for i in range(1000)]
        text = "\n".join(map(f"{head:03d}".__add__, tails))
        step = 11  # ten digits and a new line

        def lines(rx: re.Pattern[str]) -> set[int]:
            return {m.start() // step for m in rx.finditer(text)}

        out = [""] * 1000
        undecided = set(range(1000))
        for region, lead, typed in self._matchers:
            if not undecided:
                break
            if lead is not None:
                decided = lines(lead) & undecided
                if not decided:
                    continue
                valid = lines(typed)
            else:
                valid = decided = lines(typed) & undecided
            for i in decided:
                out[i] = region if i in valid else ""
            undecided -= decided
        return out

    def fill_block(self, p6: int) -> int:
        """Compute the block holding prefix `p6`; returns the prefix's value."""
        head = p6 // 1000
        with self._lock:
            if self.cells[head * 1000] == UNSET:
                low = self._block_regions(head, "0000")
                high = self._block_regions(head, "9999")
                # A guard against metadata deeper than six digits: both ends must agree.
                self.cells[head * 1000 : head * 1000 + 1000] = bytes(
                    self._code(lo) if lo == hi else DEEP
                    for lo, hi in zip(low, high, strict=True)
                )
        return self.cells[p6]

    def code(self, p6: int) -> int:
        code = self.cells[p6]
        return self.fill_block(p6) if code == UNSET else code

    def region(self, p6: str) -> str:
        """ "RU"/"KZ" when +7 numbers with this 6-digit national prefix are valid, ""
        when invalid, "?" when the prefix alone does not decide."""
        code = self.code(int(p6))
        return "?" if code == DEEP else self.regions[code]

    def fill_all(self) -> None:
        """The whole table (about 2 s, once per process)."""
        for head in range(1000):
            if self.cells[head * 1000] == UNSET:
                self.fill_block(head * 1000)
        self.complete = True

    def series(self, heads=()):
        """The table as a polars UInt8 series, with the blocks of `heads` (3-digit
        national prefixes) filled first; rebuilt only after blocks were filled."""
        from bot.bytes_column import uint8_series

        for head in heads:
            if self.cells[head * 1000] == UNSET:
                self.fill_block(head * 1000)
        with self._lock:
            unset = self.cells.count(UNSET)
            if self._series is None or unset != self._series_unset:
                self._series = uint8_series("table", self.cells)
                self._series_unset = unset
            return self._series


PREFIXES = PrefixTable()
