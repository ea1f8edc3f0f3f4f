"""Phone normalization: libphonenumber rules (region RU) with a fast path.

`normalize()` is the reference: every unusual form goes through `phonenumbers`.
The fast path (`fast_national`, `prefix_region`) handles the common Russian forms
without parsing: after separators are removed, a +7 number's validity depends
only on the first six digits of its ten-digit national number (the deepest
branch of the RU/KZ patterns is six digits: `9300 05…`, `7104 0…`), so validity
is looked up in a table by that prefix, computed from libphonenumber's own
metadata. A test checks the fast path against `phonenumbers` on a large sample.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumber, ValidationResult

# Rejection reason codes, in the order the report lists them.
REJECT_REASONS: tuple[str, ...] = (
    "empty",
    "too_short",
    "too_long",
    "letters",
    "invalid",
    "several_numbers",
    "excel_rounded",
    "bad_format",
)

REJECT_REASON_RU: dict[str, str] = {
    "empty": "Пустая ячейка с телефоном",
    "too_short": "Слишком короткий номер",
    "too_long": "Слишком длинный номер",
    "letters": "В номере есть буквы",
    "invalid": "Такого номера не существует (неверный код или диапазон)",
    "several_numbers": "Несколько номеров в одной ячейке",
    "excel_rounded": "Excel округлил номер (экспоненциальная запись), цифры потеряны",
    "bad_format": "Неверный формат: нужно 10 цифр или 11, начиная с 7 или 8, либо номер с +",
}

# Separators of written phone numbers; deleted before the digits are judged.
# The apostrophe is Excel's text marker ('+7916...).
SEPARATORS = " \t-().'\u00a0\u2007\u2009\u202f\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
_SEP_TABLE = str.maketrans("", "", SEPARATORS)
# The fast path keeps dots: "7916123456.0" (a number cell saved as text) must not lose
# its ".0" into an eleventh digit; dotted numbers take the reference path.
_FAST_TABLE = str.maketrans("", "", SEPARATORS.replace(".", ""))
_SEP_BYTES = b" \t-()'"
_WIDE_SPACES = ("\u00a0", "\u2007", "\u2009", "\u202f")

_SCI = re.compile(r"[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+")
_FLOAT_TAIL = re.compile(r"(\+?\d{6,})[.,]0+")
_EXT = re.compile(
    r"[\s,;]*(?:доб(?:авочный)?|ext(?:ension)?|вн(?:утр(?:енний)?)?|x|#)\s*[.:]?\s*\d{1,6}\s*$",
    re.IGNORECASE,
)
_MULTI_SPLIT = re.compile(r"[,;/|\\\n\r]+|\s+(?:или|or|and|и)\s+", re.IGNORECASE)
_LETTER = re.compile(r"[^\W\d_]")
_DIGIT = re.compile(r"\d")
_NON_DIGIT = re.compile(r"[^0-9]+")
_ALLOWED_REST = re.compile(r"[+\s]*")

Norm = tuple[str | None, str | None, bool, str | None]  # e164, reason, fixed, region


# --- prefix table -----------------------------------------------------------------------

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


_MATCHERS: list[tuple[str, re.Pattern[str] | None, re.Pattern[str]]] | None = None
_BLOCK_MATCHERS: list[tuple[str, re.Pattern[str] | None, re.Pattern[str]]] | None = None


# Validity of +7 numbers by the first six digits of the national number, as a flat
# table indexed by int(prefix): a byte per prefix is 1 MB in all and one memory access
# per row (a dict keyed by strings costs several). Values: _UNSET (not computed yet),
# _INVALID, _DEEP (validity depends on later digits: use the reference path), or an
# index into REGIONS. Filled lazily a 3-digit block (1000 prefixes) at a time.
_UNSET, _INVALID, _DEEP = 255, 0, 254
REGIONS: list[str] = ["", "RU", "KZ"]
TABLE = bytearray([_UNSET]) * 1_000_000


def _code(region: str) -> int:
    if not region:
        return _INVALID
    if region not in REGIONS:
        REGIONS.append(region)
    return REGIONS.index(region)


_TAILS: dict[str, list[str]] = {}


def _block_regions(head: int, suffix: str) -> list[str]:
    """Region of +7<nat> ("" when invalid; phonenumbers' own logic) for the 1000 numbers
    f"{head:03d}{i:03d}{suffix}" at once: one multi-line regex scan per pattern instead
    of a regex call per number."""
    global _MATCHERS
    if _MATCHERS is None:
        _MATCHERS = [(r, *_region_matcher(r)) for r in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[7]]
    global _BLOCK_MATCHERS
    if _BLOCK_MATCHERS is None:
        _BLOCK_MATCHERS = [
            (
                region,
                re.compile(f"^(?:{lead.pattern})", re.M) if lead is not None else None,
                re.compile(f"^(?:{typed.pattern})$", re.M),
            )
            for region, lead, typed in _MATCHERS
        ]
    tails = _TAILS.get(suffix)
    if tails is None:
        tails = _TAILS[suffix] = [f"{i:03d}{suffix}" for i in range(1000)]
    text = "\n".join(map(f"{head:03d}".__add__, tails))
    step = 11  # ten digits and a new line

    def lines(rx: re.Pattern[str]) -> set[int]:
        return {m.start() // step for m in rx.finditer(text)}

    out = [""] * 1000
    undecided = set(range(1000))
    for region, lead, typed in _BLOCK_MATCHERS:
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


def fill_block(p6: int) -> int:
    """Compute the table's block holding prefix `p6`; returns the prefix's value."""
    head = p6 // 1000
    low, high = _block_regions(head, "0000"), _block_regions(head, "9999")
    # A guard against metadata deeper than six digits: both ends must agree.
    TABLE[head * 1000 : head * 1000 + 1000] = bytes(
        _code(lo) if lo == hi else _DEEP for lo, hi in zip(low, high, strict=True)
    )
    return TABLE[p6]


def prefix_region(p6: str) -> str:
    """ "RU"/"KZ" when +7 numbers with this 6-digit national prefix are valid, "" when
    invalid, "?" when the prefix alone does not decide."""
    code = TABLE[int(p6)]
    if code == _UNSET:
        code = fill_block(int(p6))
    return "?" if code == _DEEP else REGIONS[code]


def fast_national(d: str) -> str | None:
    """Ten-digit national number of a separator-free common Russian form, else None."""
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


# --- reference path -------------------------------------------------------------------


def _intl(digits: str, fixed: bool) -> Norm:
    try:
        num = phonenumbers.parse("+" + digits, None)
    except phonenumbers.NumberParseException:
        return None, ("too_short" if len(digits) < 8 else "invalid"), False, None
    return _judge(num, fixed)


def _judge(num: PhoneNumber, fixed: bool) -> Norm:
    if phonenumbers.is_valid_number(num):
        e164 = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
        return e164, None, fixed, phonenumbers.region_code_for_number(num)
    why = phonenumbers.is_possible_number_with_reason(num)
    if why in (ValidationResult.TOO_SHORT, ValidationResult.INVALID_LENGTH):
        # INVALID_LENGTH sits between allowed lengths: call it short/long by the usual 10.
        if why == ValidationResult.TOO_SHORT or len(str(num.national_number)) < 10:
            return None, "too_short", False, None
        return None, "too_long", False, None
    if why == ValidationResult.TOO_LONG:
        return None, "too_long", False, None
    return None, "invalid", False, None


def normalize(raw: str) -> Norm:
    """Reference normalization of one phone cell: (e164, reason, fixed, region)."""
    s = raw.strip().replace("\u00a0", " ").strip("' \t")
    if not s:
        return None, "empty", False, None
    compact = s.replace(" ", "")
    if _SCI.fullmatch(compact):
        return None, "excel_rounded", False, None
    fixed = False
    m = _FLOAT_TAIL.fullmatch(compact)
    if m:  # a number cell exported as text: 79161234567.0
        s, fixed = m.group(1), True
    m = _EXT.search(s)
    if m and _DIGIT.search(s, 0, m.start()):
        s, fixed = s[: m.start()], True
    if several_numbers(s):
        return None, "several_numbers", False, None
    if _LETTER.search(s):
        return None, "letters", False, None
    rest = s.translate(_SEP_TABLE)
    # phonenumbers' own digit normalizer (any script's digits) is slow: ASCII first.
    digits = (
        _NON_DIGIT.sub("", rest) if rest.isascii() else phonenumbers.normalize_digits_only(rest)
    )
    if not digits:
        return None, "bad_format", False, None
    plus = rest.startswith("+")
    others = _DIGIT.sub("", rest)
    if not _ALLOWED_REST.fullmatch(others) or others.count("+") > 1 or (others and not plus):
        return None, "bad_format", False, None
    if plus:
        if len(digits) == 11 and digits[0] == "7":
            return _by_table(digits[1:], fixed)
        return _intl(digits, fixed)
    if digits.startswith("810") and len(digits) > 11:  # Russian international prefix
        return _intl(digits[3:], fixed)
    n = len(digits)
    if n < 10:
        return None, "too_short", False, None
    if n > 11:
        return None, "too_long", False, None
    if n == 11 and digits[0] not in "78":
        return None, "bad_format", False, None
    return _by_table(digits if n == 10 else digits[1:], fixed)


def _by_table(nat: str, fixed: bool) -> Norm:
    """+7 and a ten-digit national number: the prefix table, libphonenumber if it can't
    decide (the table is libphonenumber's metadata; see the module docstring)."""
    region = prefix_region(nat[:6])
    if region == "":
        return None, "invalid", False, None
    if region != "?":
        return "+7" + nat, None, fixed, region
    try:
        num = phonenumbers.parse("+7" + nat, None)
    except phonenumbers.NumberParseException:
        return None, "invalid", False, None
    return _judge(num, fixed)


def clean_batch(values: Sequence[str]) -> list[str]:
    """Separators deleted from every value at once: one join, one bytes.translate, one
    split (C loops), instead of a Python call per value."""
    joined = "\n".join(values)
    if not joined.isascii():
        for ch in _WIDE_SPACES:
            if ch in joined:
                joined = joined.replace(ch, "")
    out = joined.encode("utf-8", "surrogatepass").translate(None, _SEP_BYTES)
    cleaned = out.decode("utf-8", "surrogatepass").split("\n")
    if len(cleaned) != len(values):  # a value held a line break
        cleaned = [v.translate(_FAST_TABLE) for v in values]
    return cleaned


def normalize_value(raw: str) -> Norm:
    """Fast path first, the reference for everything it does not cover."""
    nat = fast_national(raw.translate(_FAST_TABLE))
    if nat is not None:
        region = prefix_region(nat[:6])
        if region == "":
            return None, "invalid", False, None
        if region != "?":
            return "+7" + nat, None, False, region
    return normalize(raw)


def several_numbers(s: str) -> bool:
    parts = [p for p in _MULTI_SPLIT.split(s) if len(_DIGIT.findall(p)) >= 5]
    if len(parts) >= 2:
        return True
    if len(_DIGIT.findall(s)) >= 20:  # room for two numbers separated by spaces
        return sum(1 for _, ok in _split_tokens(s.split()) if ok) >= 2
    return False


def _valid(candidate: str) -> bool:
    nat = fast_national(candidate.translate(_FAST_TABLE))
    if nat is not None:
        region = prefix_region(nat[:6])
        if region != "?":
            return region != ""
    digits = len(_DIGIT.findall(candidate))
    # No number has 19+ digits (15 of E.164 + "810"); also stops recursion via normalize.
    if _LETTER.search(candidate) or not digits or digits > 18:
        return False
    if several_numbers_simple(candidate):
        return False
    return normalize(candidate)[0] is not None


def several_numbers_simple(s: str) -> bool:
    return len([p for p in _MULTI_SPLIT.split(s) if len(_DIGIT.findall(p)) >= 5]) >= 2


_MAX_TOKENS_PER_NUMBER = 8


def _split_tokens(tokens: list[str]) -> Iterator[tuple[str, bool]]:
    """Greedy split of space-separated tokens into numbers: the longest run of tokens
    from each position that is a valid number; runs that never are become one rejected
    piece. Linear: each start position is tried once."""
    n = len(tokens)
    memo: dict[int, int] = {}

    def best_end(i: int) -> int:
        if i not in memo:
            end = 0
            for j in range(i + 1, min(n, i + _MAX_TOKENS_PER_NUMBER) + 1):
                if _valid(" ".join(tokens[i:j])):
                    end = j
            memo[i] = end
        return memo[i]

    i = 0
    while i < n:
        e = best_end(i)
        if e:
            yield " ".join(tokens[i:e]), True
            i = e
            continue
        k = i + 1
        while k < n and not best_end(k):
            k += 1
        yield " ".join(tokens[i:k]), False
        i = k


_PASTE_SPLIT = re.compile(r"[\n\r,;]+")


def split_pasted(text: str) -> Iterator[tuple[int, str]]:
    """(piece index, candidate) for pasted text: pieces split on new lines, commas and
    semicolons; a piece of several space-separated numbers yields each of them."""
    index = 0
    for piece in _PASTE_SPLIT.split(text):
        piece = piece.strip()
        if not piece:
            continue
        index += 1
        if _valid(piece) or len(piece.split()) == 1:
            yield index, piece
            continue
        if _EXT.search(piece) and normalize(piece)[0] is not None:
            yield index, piece
            continue
        for candidate, _ok in _split_tokens(piece.split()):
            yield index, candidate


def warm_up() -> None:
    """Fill the whole prefix table (about 2 s, once per process): worker processes do it
    at start so no upload pays for it."""
    for head in range(1000):
        if TABLE[head * 1000] == _UNSET:
            fill_block(head * 1000)


# --- a cell as people and CRMs fill it ---------------------------------------------------

# Several numbers in one cell: CRM exports join them with ", " or "; ", Google with
# " ::: ", people with " / " or a line break.
_CELL_SPLIT = re.compile(r"\s*(?::::|[,;/|\n\r]+)\s*|\s+(?:или|or|and|и)\s+", re.IGNORECASE)
# A label typed before the number ("тел. 8 902 …", "phone: +7 …").
_LABEL = re.compile(
    r"^\s*(?:телефон|тел|т|моб(?:ильный)?|сот(?:овый)?|phone|tel|mob(?:ile)?|cell)\s*[.:]?\s*"
    r"(?=[+\d(])",
    re.IGNORECASE,
)
# A comment after it: in brackets with a letter inside ("(Иван)"; "(916)" is no comment),
# after a dash set off by spaces or after a comma, starting with a letter.
_COMMENT = re.compile(
    r"(?:\s*\((?=[^)]*[^\W\d_])[^)]*\)|\s+[-\u2013\u2014]\s+(?=[^\W\d_]).*|\s*,\s*(?=[^\W\d_]).*)\s*$",
    re.DOTALL,
)
_FIXABLE = ("several_numbers", "letters", "bad_format")


@dataclass(frozen=True)
class CellNorm:
    """`normalize()` of a cell, and how it was repaired: "multi" (the first valid number
    of several, the others in `left_out`), "words" (a label or comment dropped)."""

    norm: Norm
    repair: str | None = None
    left_out: tuple[str, ...] = ()


def _strip_words(s: str) -> str:
    out = _LABEL.sub("", s, count=1)
    prev = None
    while prev != out:  # "8 912 … (Иван) — жена": both comments go
        prev, out = out, _COMMENT.sub("", out, count=1)
    return out


def _one(piece: str, norm: Norm | None = None) -> tuple[Norm, bool]:
    """A piece as a number: as written (`norm`, when known), else without the words
    around it."""
    if norm is None:
        norm = normalize(piece)
    if norm[0] is not None or norm[1] not in _FIXABLE:
        return norm, False
    stripped = _strip_words(piece)
    if stripped != piece and stripped.strip():
        again = normalize(stripped)
        if again[0] is not None:
            return (again[0], None, True, again[3]), True
    return norm, False


def normalize_cell(raw: str) -> CellNorm:
    """A phone cell: the reference normalization, then the repairs of docs/phone-lists.md
    (several numbers: the first valid one; words around a number dropped). Only values
    normalize() refuses pay for the repairs."""
    norm = normalize(raw)
    if norm[0] is not None or norm[1] not in _FIXABLE:
        return CellNorm(norm)
    got, words = _one(raw, norm)
    if got[0] is not None:  # ", после 18" is a comment, not a second number
        return CellNorm(got, "words" if words else None)
    pieces = [p for p in _CELL_SPLIT.split(raw.strip()) if p and _DIGIT.search(p)]
    if len(pieces) == 1 and len(_DIGIT.findall(pieces[0])) >= 20:
        pieces = [t for t, _ok in _split_tokens(pieces[0].split())]  # "8916… 8916…"
    if len(pieces) >= 2:
        chosen: Norm | None = None
        rest: list[str] = []
        for piece in pieces:
            if chosen is None:
                got, _words = _one(piece)
                if got[0] is not None:
                    chosen = got
                    continue
            rest.append(piece.strip())
        if chosen is not None:
            return CellNorm((chosen[0], None, True, chosen[3]), "multi", tuple(rest))
        return CellNorm(_one(pieces[0])[0])
    return CellNorm(got)
