"""Table layout: the header row, the phone column, add_data keys; typing of cell values."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from .errors import IngestError
from .normalize import normalize_cell, normalize_value

# Header names of the phone column (compared lower-cased, trimmed, "ё" as "е",
# trailing ":" dropped). Exact names score higher than "starts with a name + words".
_EXACT = {
    "телефон",
    "телефоны",
    "тел",
    "тел.",
    "номер",
    "номер телефона",
    "телефон клиента",
    "мобильный",
    "мобильный телефон",
    "моб",
    "моб.",
    "моб. телефон",
    "моб.тел",
    "моб.тел.",
    "сотовый",
    "сотовый телефон",
    "контактный телефон",
    "тел. клиента",
    "номер тел.",
    "phone",
    "phone number",
    "phonenumber",
    "phone_number",
    "telephone",
    "tel",
    "tel.",
    "msisdn",
    "mobile",
    "mobile phone",
    "cell",
    "cellphone",
    "cell phone",
    "number",
    "ani",
}
# "Номер" only as a whole header (above): "Номер договора" is no phone column.
_PREFIX = re.compile(
    r"(?:телефон\w*|тел\.?|мобильн\w*|моб\.?|сотов\w*|phone|telephone|tel\.?"
    r"|msisdn|mobile|cell)(?:\s|$|[_.:(])",
)
# Anywhere in a header: questions of a form ("Ваш номер телефона"), CRM names
# ("Рабочий телефон"), Google Contacts' "Phone 1 - Value".
_ANYWHERE = re.compile(r"телефон|тел\.|мобильн|phone|mobile|msisdn")
_HEAD_ROWS = 30  # a header lies among the first non-empty rows
_SAMPLE_ROWS = 200  # rows whose values are judged to find / confirm the phone column
_DIGITS7 = re.compile(r"(?:\d\D{0,3}){7}")


def header_score(value: object) -> int:
    if not isinstance(value, str):
        return 0
    s = " ".join(value.strip().lower().replace("ё", "е").split()).rstrip(":").strip()
    if not s:
        return 0
    if s in _EXACT:
        return 2
    return 1 if _PREFIX.match(s) or _ANYWHERE.search(s) else 0


def header_name_score(value: object) -> int:
    """header_score, 0 for a cell that is a number once words are dropped: such a cell
    ("тел. 8 902 …") is data and never names a column."""
    score = header_score(value)
    if score and isinstance(value, str) and _DIGITS7.search(value):
        if normalize_cell(value).norm[0] is not None:
            return 0
    return score


def blank(v: object) -> bool:
    return v is None or v == "" or (isinstance(v, str) and not v.strip())


def phone_text(v: object) -> tuple[str, bool]:
    """Text of a phone cell and whether it was a spreadsheet number (Excel damage)."""
    if isinstance(v, str):
        return v, False
    if isinstance(v, bool) or v is None:
        return ("" if v is None else str(v)), False
    if isinstance(v, int):
        return str(v), True
    if isinstance(v, float):
        if math.isfinite(v) and v.is_integer():
            return str(int(v)), True
        return repr(v), True
    return str(v), False


def looks_phone(v: object) -> bool:
    s, _ = phone_text(v)
    if not _DIGITS7.search(s):
        return False
    return normalize_value(s)[0] is not None or normalize_cell(s).norm[0] is not None


def has_digit(v: object) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, int | float):
        return True
    return isinstance(v, str) and any(c.isdigit() for c in v)


def _minutes(seconds: float) -> int:
    return math.floor(seconds / 60 + 0.5)


def typed(v: object) -> object:
    """A spreadsheet cell as an add_data value (None for an empty cell)."""
    if isinstance(v, str):
        v = v.strip()
        return v or None
    if v is None:
        return None
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float):
        if not math.isfinite(v):
            return None
        return int(v) if v.is_integer() else v
    if isinstance(v, int):
        return v
    if isinstance(v, dt.datetime):
        # Excel keeps times as fractions of a day; round to the minute, not truncate.
        base = v.replace(second=0, microsecond=0)
        extra = v.second + v.microsecond / 1e6
        if extra >= 30:
            base += dt.timedelta(minutes=1)
        return base.strftime("%Y-%m-%d %H:%M")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dt.time):
        return _time_text(v)
    if isinstance(v, dt.timedelta):
        m = _minutes(v.total_seconds())
        sign, m = ("-", -m) if m < 0 else ("", m)
        return f"{sign}{m // 60:02d}:{m % 60:02d}"
    return str(v)


@functools.lru_cache(maxsize=16384)
def _time_text(v: dt.time) -> str:
    m = _minutes(v.hour * 3600 + v.minute * 60 + v.second + v.microsecond / 1e6) % 1440
    return f"{m // 60:02d}:{m % 60:02d}"


def _number(v: float) -> int | float:
    return int(v) if v.is_integer() else v


def typed_column(values: Sequence[object]) -> list[object]:
    """`typed` over a column, with C-speed paths for the usual one-type columns."""
    kinds = set(map(type, values))
    if kinds <= {str}:
        return list(map(str.strip, values))  # "" stays: an empty cell either way
    if kinds <= {float, str}:
        return [v.strip() if type(v) is str else _number(v) for v in values]  # type: ignore[union-attr]
    if kinds <= {dt.time, str}:
        return [v.strip() if type(v) is str else _time_text(v) for v in values]  # type: ignore[union-attr,arg-type]
    return list(map(typed, values))


def header_text(v: object) -> str:
    t = typed(v)
    return "" if t is None else str(t).strip()


@dataclass(frozen=True)
class Layout:
    phone_col: int
    data_start: int  # index (in the rows given to detect_layout) of the first data row
    header_index: int | None
    phone_header: str | None
    keys: tuple[str, ...]
    key_cols: tuple[int, ...]
    # Every phone column in the file's order (phone_col first among them is not implied:
    # phone_col is the one the header scored best); a row's number comes from the first
    # of them whose cell holds a valid number.
    phone_cols: tuple[int, ...] = ()
    phone_headers: tuple[str, ...] = ()
    # Every phone column found, when one of them was chosen (phone_cols is then that one).
    all_phone_cols: tuple[int, ...] = ()
    all_phone_headers: tuple[str, ...] = ()
    # The header row names the phone column («Телефон»): no other reading is reasonable.
    header_by_name: bool = False


def _cell(row: Sequence[object], c: int) -> object:
    return row[c] if c < len(row) else None


NO_HEADER = -1  # `header_row` for "the first row is data too"


def detect_layout(
    rows: Sequence[Sequence[object]],
    *,
    at_eof: bool,
    phone_col: int | None = None,
    header_row: int | None = None,
) -> Layout:
    """Find the header and the phone column among the first rows of a table.

    `rows` are the file's first rows (empty ones included, so indices map to lines);
    `at_eof` says they are the whole file, which decides "header only" vs "no column".
    `phone_col`: the supervisor chose this one of several phone columns; the others stay
    out of add_data. `header_row`: the supervisor said which row is the header
    (`NO_HEADER`: none, every row is data); the phone column is still found by its values.
    """
    layout = _detect_layout(rows, at_eof=at_eof)
    if header_row is not None:
        layout = _with_header(rows, layout, header_row)
    if phone_col is None or phone_col not in layout.phone_cols or len(layout.phone_cols) < 2:
        return layout
    k = layout.phone_cols.index(phone_col)
    return dataclasses.replace(
        layout,
        phone_col=phone_col,
        phone_header=layout.phone_headers[k] or None,
        phone_cols=(phone_col,),
        phone_headers=(layout.phone_headers[k],),
        all_phone_cols=layout.phone_cols,
        all_phone_headers=layout.phone_headers,
    )


def _detect_layout(rows: Sequence[Sequence[object]], *, at_eof: bool) -> Layout:
    nonempty = [i for i, r in enumerate(rows) if any(not blank(c) for c in r)]
    if not nonempty:
        raise IngestError("empty")
    sample = nonempty[:_SAMPLE_ROWS]

    def phones_below(i: int, c: int) -> int:
        return sum(1 for j in sample if j > i and looks_phone(_cell(rows[j], c)))

    candidates = [
        (i, c, s)
        for i in nonempty[:_HEAD_ROWS]
        for c, v in enumerate(rows[i])
        if (s := header_name_score(v))
    ]
    header: int | None
    if candidates:
        scored = [(phones_below(i, c), s, -i, -c) for i, c, s in candidates]
        below, _, neg_i, _ = max(scored)
        if below == 0 and any(
            looks_phone(v) for j in sample if j < -neg_i for v in rows[j]
        ):  # "not a phone" under numbers is a value, not a header
            candidates = []
    if candidates:
        _, _, neg_i, neg_c = max(scored)
        header, phone_col = -neg_i, -neg_c
        data_start = header + 1
        # Other phone-named columns of the header row that hold numbers (a "Phone 1 -
        # Type" column of labels holds none and stays an add_data column).
        phone_cols = [
            c
            for hi, c, _s in candidates
            if hi == header and (c == phone_col or phones_below(header, c) > 0)
        ]
        if phones_below(header, phone_col) == 0:
            phone_cols = [phone_col]
    else:
        width = max(len(rows[i]) for i in sample)
        counts = [sum(1 for i in sample if looks_phone(_cell(rows[i], c))) for c in range(width)]
        phone_col = max(range(width), key=lambda c: (counts[c], -c))
        if counts[phone_col] == 0:
            only_row = at_eof and len(nonempty) == 1
            raise IngestError("header_only" if only_row else "no_phone_column")
        first = next(i for i in nonempty if has_digit(_cell(rows[i], phone_col)))
        above = [i for i in nonempty if i < first]
        # A row is a header when its phone-column cell is not a phone number: the last
        # such row with text there; rows above it are titles.
        named = [i for i in above if not blank(_cell(rows[i], phone_col))]
        header = named[-1] if named else None
        if header is None and above:
            last = rows[above[-1]]
            texts = [v for v in last if not blank(v)]
            if len(texts) >= 2 and all(isinstance(v, str) for v in texts):
                header = above[-1]
        data_start = header + 1 if header is not None else first
        phone_cols = [phone_col]
    layout = _header_layout(rows, phone_col, tuple(phone_cols), header, data_start)
    return dataclasses.replace(layout, header_by_name=bool(candidates))


def _with_header(rows: Sequence[Sequence[object]], layout: Layout, header_row: int) -> Layout:
    """The detected layout read again with the header the supervisor named."""
    if header_row == NO_HEADER:
        first = next(i for i, r in enumerate(rows) if any(not blank(c) for c in r))
        return _header_layout(rows, layout.phone_col, (layout.phone_col,), None, first)
    if not 0 <= header_row < len(rows):
        return layout  # a stale button: the detected layout stands
    return _header_layout(rows, layout.phone_col, (layout.phone_col,), header_row, header_row + 1)


def _header_layout(
    rows: Sequence[Sequence[object]],
    phone_col: int,
    phone_cols: tuple[int, ...],
    header: int | None,
    data_start: int,
) -> Layout:
    """Keys (add_data names) and phone headers from the header row, if there is one."""
    keys: list[str] = []
    key_cols: list[int] = []
    phone_header = None
    if header is not None:
        phone_header = header_text(_cell(rows[header], phone_col)) or None
        for c, v in enumerate(rows[header]):
            text = header_text(v)
            if c not in phone_cols and text and text not in keys:
                keys.append(text)
                key_cols.append(c)
    headers = tuple(
        (header_text(_cell(rows[header], c)) if header is not None else "") for c in phone_cols
    )
    return Layout(
        phone_col,
        data_start,
        header,
        phone_header,
        tuple(keys),
        tuple(key_cols),
        phone_cols,
        headers,
    )
