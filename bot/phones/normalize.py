"""Phone normalization: libphonenumber rules (region RU) with a fast path.

`normalize()` is the reference: every unusual form goes through `phonenumbers`.
The fast path (bot.phones.forms: the common Russian forms and the +7 prefix table)
decides those without parsing; a test checks it against `phonenumbers` on a large
sample.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import phonenumbers
from phonenumbers import PhoneNumber, ValidationResult

from .forms import FAST_TABLE as _FAST_TABLE
from .forms import PREFIXES, SEPARATOR_TABLE, fast_national

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

_SCI = re.compile(r"[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+")
_FLOAT_TAIL = re.compile(r"(\+?\d{6,})[.,]0+")
# An extension after the number (cut, the number counted as fixed).
EXTENSION = re.compile(
    r"[\s,;]*(?:доб(?:авочный)?|ext(?:ension)?|вн(?:утр(?:енний)?)?|x|#)\s*[.:]?\s*\d{1,6}\s*$",
    re.IGNORECASE,
)
_MULTI_SPLIT = re.compile(r"[,;/|\\\n\r]+|\s+(?:или|or|and|и)\s+", re.IGNORECASE)
_LETTER = re.compile(r"[^\W\d_]")
_DIGIT = re.compile(r"\d")
_NON_DIGIT = re.compile(r"[^0-9]+")
_ALLOWED_REST = re.compile(r"[+\s]*")

Norm = tuple[str | None, str | None, bool, str | None]  # e164, reason, fixed, region


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
    m = EXTENSION.search(s)
    if m and _DIGIT.search(s, 0, m.start()):
        s, fixed = s[: m.start()], True
    if several_numbers(s):
        return None, "several_numbers", False, None
    if _LETTER.search(s):
        return None, "letters", False, None
    rest = s.translate(SEPARATOR_TABLE)
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
    region = PREFIXES.region(nat[:6])
    if region == "":
        return None, "invalid", False, None
    if region != "?":
        return "+7" + nat, None, fixed, region
    try:
        num = phonenumbers.parse("+7" + nat, None)
    except phonenumbers.NumberParseException:
        return None, "invalid", False, None
    return _judge(num, fixed)


def normalize_value(raw: str) -> Norm:
    """Fast path first, the reference for everything it does not cover."""
    nat = fast_national(raw.translate(_FAST_TABLE))
    if nat is not None:
        region = PREFIXES.region(nat[:6])
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
        region = PREFIXES.region(nat[:6])
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
        if EXTENSION.search(piece) and normalize(piece)[0] is not None:
            yield index, piece
            continue
        for candidate, _ok in _split_tokens(piece.split()):
            yield index, candidate


def warm_up() -> None:
    """Fill the whole prefix table (about 2 s, once per process): worker processes do it
    at start so no upload pays for it."""
    PREFIXES.fill_all()


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
