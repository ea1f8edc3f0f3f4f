"""The body of POST /campaigns, exactly as the contract (docs/campaign-api.md) has it."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Annotated, Any, Literal

import orjson
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    field_validator,
    model_validator,
)

from bot.gcpause import gc_paused

E164 = re.compile(r"\+[1-9]\d{6,14}")
_HHMM = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d")

MIN_ATTEMPTS = 1
MAX_ATTEMPTS = 5
PERIOD_ONCE_ID = 1
PERIOD_ONCE_TITLE = "Однократно"
DEFAULT_STATE = "Создано"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Periods(_Strict):
    id: Literal[1] = PERIOD_ONCE_ID
    title: Literal["Однократно"] = PERIOD_ONCE_TITLE


class Attempts(_Strict):
    id: Annotated[StrictInt, Field(ge=MIN_ATTEMPTS, le=MAX_ATTEMPTS)]
    title: str

    @classmethod
    def of(cls, count: int) -> Attempts:
        return cls(id=count, title=str(count))

    @model_validator(mode="after")
    def _title_agrees(self) -> Attempts:
        if self.title != str(self.id):
            raise ValueError(f"attempts title {self.title!r} disagrees with id {self.id}")
        return self


class Schedule(_Strict):
    date: str
    start_time: str
    end_time: str
    periods: Periods = Periods()
    attempts: Attempts
    interval: str

    @field_validator("date")
    @classmethod
    def _real_date(cls, value: str) -> str:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError("date must be YYYY-MM-DD")
        dt.date.fromisoformat(value)  # raises on 2026-02-30
        return value

    @field_validator("start_time", "end_time")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not _HHMM.fullmatch(value):
            raise ValueError("time must be HH:MM")
        return value

    @field_validator("interval")
    @classmethod
    def _whole_minutes(cls, value: str) -> str:
        if not re.fullmatch(r"0|[1-9]\d{0,4}", value):
            raise ValueError("interval must be a whole number of minutes")
        return value

    @model_validator(mode="after")
    def _end_after_start(self) -> Schedule:
        if self.end_time <= self.start_time:
            raise ValueError("end_time must be after start_time")
        return self


class Campaign(_Strict):
    project_id: Annotated[StrictInt, Field(gt=0)]
    name: Annotated[str, Field(min_length=1)]
    description: str = ""
    start_block_id: Annotated[StrictInt, Field(gt=0)]
    schedule: Schedule
    state: str = DEFAULT_STATE
    phone_id: Annotated[StrictInt, Field(gt=0)]


class PhoneRecords:
    """The `phones[]` array: numbers plus one add_data mapping each.

    Kept as plain dicts rather than one model per row so that half a million numbers
    validate and serialize in a fraction of a second; each is checked all the same.
    """

    __slots__ = ("_records",)

    def __init__(self, records: Iterable[Mapping[str, Any]]) -> None:
        with gc_paused():
            self._records = _checked_records(records)
        if not self._records:
            raise ValueError("the phone list is empty")

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._records)

    def as_list(self) -> list[dict[str, Any]]:
        return self._records


_VALUE_TYPES = frozenset({str, int, float})
_COLUMN_TYPES = frozenset({str, int, float, type(None)})


def _checked_records(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each record checked; a well-formed {"phone", "add_data"} dict is kept, not copied."""
    checked: list[dict[str, Any]] = []
    append = checked.append
    match = E164.fullmatch
    for index, record in enumerate(records):
        phone = record.get("phone")
        if type(phone) is not str or not match(phone):
            raise ValueError(f"phones[{index}].phone is not E.164")
        add_data = record.get("add_data")
        if add_data is None:
            add_data = {}
        elif not isinstance(add_data, Mapping):
            raise ValueError(f"phones[{index}].add_data must be an object")
        for value in add_data.values():
            if type(value) not in _VALUE_TYPES:
                raise ValueError(f"phones[{index}].add_data values must be strings or numbers")
        if type(record) is dict and len(record) == 2 and type(add_data) is dict:
            append(record)  # type: ignore[arg-type]
        else:
            append({"phone": phone, "add_data": dict(add_data)})
    return checked


_E164_LINES = re.compile(r"\+[1-9]\d{6,14}(?:\n\+[1-9]\d{6,14})*")
_NO_DATA_HEAD = '{"phone":"'
_NO_DATA_JOIN = '","add_data":{}},{"phone":"'
_NO_DATA_TAIL = '","add_data":{}}'


class PhoneColumns:
    """The `phones[]` array written from columns, a chunk at a time: (phones, add_data
    columns) per chunk, `columns[k][i]` the value of `keys[k]` for `phones[i]` (None or
    "" leave the key out of that row's add_data). Each chunk is checked as PhoneRecords
    checks rows and written as JSON at once, so a million numbers never exist as a
    million dicts (peak: one chunk's); the body is the same bytes `orjson` writes for the
    records."""

    __slots__ = ("_count", "_parts")

    def __init__(self, keys: Sequence[str], chunks: Iterable[Any]) -> None:
        """A chunk is (phones, columns), or a polars DataFrame: "phone" as the E.164
        number's digits (Int64), then one String or Int64 column per key, in order
        (written as JSON by polars itself, the same bytes orjson writes)."""
        keys = list(keys)
        parts: list[bytes] = []
        count = 0
        with gc_paused():
            for chunk in chunks:
                if not isinstance(chunk, tuple):
                    if chunk.height:
                        if parts:
                            parts.append(b",")
                        parts.append(_frame_json(keys, chunk, count))
                        count += chunk.height
                    continue
                phones, columns = chunk
                if not phones:
                    continue
                if len(columns) != len(keys) or any(len(c) != len(phones) for c in columns):
                    raise ValueError("one column per key, one value per phone")
                _check_phones(phones, count)
                _check_values(columns, count)
                if parts:
                    parts.append(b",")
                parts.append(_chunk_json(keys, phones, columns))
                count += len(phones)
        if not count:
            raise ValueError("the phone list is empty")
        self._count = count
        self._parts = parts

    def __len__(self) -> int:
        return self._count

    def json_parts(self) -> list[bytes]:
        """The array's items as JSON, without the brackets."""
        return self._parts

    def as_list(self) -> list[dict[str, Any]]:
        return orjson.loads(b"".join([b"[", *self._parts, b"]"]))


def _check_phones(phones: Sequence[str], offset: int) -> None:
    try:
        ok = _E164_LINES.fullmatch("\n".join(phones)) is not None
    except TypeError:
        ok = False
    if not ok:  # find the row, for the message
        for index, phone in enumerate(phones, start=offset):
            if type(phone) is not str or not E164.fullmatch(phone):
                raise ValueError(f"phones[{index}].phone is not E.164")
        raise ValueError("phones: a number is not E.164")


def _check_values(columns: Sequence[Sequence[Any]], offset: int) -> None:
    for column in columns:
        if not set(map(type, column)) <= _COLUMN_TYPES:
            for index, value in enumerate(column, start=offset):
                if value is not None and type(value) not in _VALUE_TYPES:
                    raise ValueError(
                        f"phones[{index}].add_data values must be strings or numbers"
                    )


def _chunk_json(keys: list[str], phones: Sequence[str], columns: Sequence[Sequence[Any]]) -> bytes:
    if not keys:  # checked E.164 numbers need no escaping: one join
        return (_NO_DATA_HEAD + _NO_DATA_JOIN.join(phones) + _NO_DATA_TAIL).encode()
    records = [
        {
            "phone": p,
            "add_data": {k: v for k, v in zip(keys, row, strict=True) if v is not None and v != ""},
        }
        for p, row in zip(phones, zip(*columns, strict=True), strict=True)
    ]
    return orjson.dumps(records)[1:-1]


# The characters a JSON string holds escaped, with orjson's own escapes (taken from it:
# the body must be its bytes exactly); every other character is written as it is.
_ESCAPED = ['"', "\\", *map(chr, range(32))]
_ESCAPES = [orjson.dumps(c).decode()[1:-1] for c in _ESCAPED]


def _frame_json(keys: list[str], frame: Any, offset: int) -> bytes:
    import polars as pl

    if frame.width != len(keys) + 1 or frame.columns[0] != "phone":
        raise ValueError("one column per key, after the phone column")
    phone = frame["phone"]
    if phone.dtype != pl.Int64 or phone.null_count() or not (
        10**6 <= phone.min() and phone.max() < 10**15  # type: ignore[operator]
    ):
        bad = phone.is_null() | (phone < 10**6) | (phone >= 10**15)
        index = offset + (int(bad.arg_true()[0]) if bad.any() else 0)
        raise ValueError(f"phones[{index}].phone is not E.164")
    number = pl.col("phone").cast(pl.String)
    if not keys:
        # No add_data: the numbers joined by the text that stands between two of them,
        # one pass in Rust (no per-row concatenation).
        numbers = frame.select(number.str.join(_NO_DATA_JOIN + "+").cast(pl.Binary)).item()
        return (_NO_DATA_HEAD + "+").encode() + numbers + _NO_DATA_TAIL.encode()
    # Per key: the pieces of its `"key":value`, the test of a row having it (an empty
    # cell leaves the key out of that row), and whether every row of the chunk has it.
    fields: list[tuple[list, Any, bool]] = []
    for key, name in zip(keys, frame.columns[1:], strict=True):
        column, values = pl.col(name), frame[name]
        label = orjson.dumps(key).decode() + ":"
        if values.dtype == pl.String:
            text = column.str.replace_many(_ESCAPED, _ESCAPES)
            fields.append((
                [pl.lit(label + '"'), text, pl.lit('"')],
                column.is_not_null() & (column != ""),
                not values.null_count() and not (values == "").any(),
            ))
        elif values.dtype == pl.Int64:
            fields.append((
                [pl.lit(label), column.cast(pl.String)],
                column.is_not_null(),
                not values.null_count(),
            ))
        else:
            raise ValueError(f"phones[{offset}].add_data values must be strings or numbers")
    head = [pl.lit(_NO_DATA_HEAD + "+"), number, pl.lit('","add_data":{')]
    if all(always for _, _, always in fields):
        # Every row has every key: one concatenation of the row's pieces.
        pieces = [*head]
        for i, (parts, _, _) in enumerate(fields):
            pieces += ([pl.lit(",")] if i else []) + parts
        row = pl.concat_str([*pieces, pl.lit("}}")])
    else:
        present = [
            pl.concat_str(parts) if always else pl.when(has).then(pl.concat_str(parts))
            for parts, has, always in fields
        ]
        data = pl.concat_str(present, separator=",", ignore_nulls=True).fill_null("")
        row = pl.concat_str([*head, data, pl.lit("}}")])
    # As Binary: the bytes straight from the column (a str would be built, then encoded).
    return frame.select(row.str.join(",").cast(pl.Binary)).item()


class CampaignRequest:
    """A validated request: the campaign object plus its phones."""

    __slots__ = ("campaign", "phones")

    def __init__(self, campaign: Campaign, phones: PhoneRecords | PhoneColumns) -> None:
        self.campaign = campaign
        self.phones = phones

    def to_dict(self) -> dict[str, Any]:
        return {
            "campaign": self.campaign.model_dump(mode="json"),
            "phones": self.phones.as_list(),
        }

    def to_json(self) -> bytes:
        if isinstance(self.phones, PhoneColumns):
            campaign = orjson.dumps(self.campaign.model_dump(mode="json"))
            return b"".join(
                [b'{"campaign":', campaign, b',"phones":[', *self.phones.json_parts(), b"]}"]
            )
        return orjson.dumps(self.to_dict())


def build_request(
    *,
    project_id: int,
    start_block_id: int,
    phone_id: int,
    name: str,
    description: str,
    date: dt.date | str,
    start_time: dt.time | str,
    end_time: dt.time | str,
    attempts: int,
    interval_minutes: int,
    phones: Iterable[Mapping[str, Any]] | PhoneColumns,
    state: str = DEFAULT_STATE,
) -> CampaignRequest:
    """Build and validate the request from domain values; raises pydantic.ValidationError
    or ValueError where the API would refuse it."""
    campaign = Campaign(
        project_id=project_id,
        name=name,
        description=description,
        start_block_id=start_block_id,
        schedule=Schedule(
            date=date.isoformat() if isinstance(date, dt.date) else date,
            start_time=_hhmm(start_time),
            end_time=_hhmm(end_time),
            attempts=Attempts.of(attempts),
            interval=_interval(interval_minutes),
        ),
        state=state,
        phone_id=phone_id,
    )
    if isinstance(phones, PhoneColumns):
        return CampaignRequest(campaign, phones)
    return CampaignRequest(campaign, PhoneRecords(phones))


def _hhmm(value: dt.time | str) -> str:
    return value.strftime("%H:%M") if isinstance(value, dt.time) else value


def _interval(minutes: int) -> str:
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise ValueError("interval must be a whole number of minutes")
    return str(minutes)


def mask_phone(phone: str) -> str:
    """+79161234567 -> +7916***4567: enough to recognise, not enough to dial."""
    if len(phone) <= 6:
        return "***"
    return phone[:5] + "***" + phone[-4:]
