"""The columnar path (polars' CSV reader, whole-column normalization, Arrow storage) and
the plain one (csv module, Python loop) give the same result on every shape of file;
and polars' reader takes exactly the files it reads like the csv module does."""

from __future__ import annotations

import random

import pytest

from bot.phones import IngestLimits, PhoneList
from bot.phones import ingest as ingest_module
from bot.phones.readers import read_frame

from .builders import csv_bytes, xlsx_bytes
from .conftest import assert_same


def _both(data: bytes, name: str, limits: IngestLimits | None = None):
    limits = limits or IngestLimits()
    columnar = ingest_module.ingest_bytes(data, name, limits)
    plain = ingest_module.ingest_bytes(data, name, limits, columnar=False)
    assert_same(columnar, plain)
    return columnar


def _mixed_rows(n: int, seed: int = 5) -> list[list[str]]:
    rng = random.Random(seed)
    forms = [
        "8 (916) {a}-{b}-{c}",
        "+7{n}",
        "7{n}",
        "{n}",
        "8{n} доб. 12",
        "тел. 8 {n}",
        "+7 {n}, +7 922 {a}{b}{c}",
        "'8{n}",
        "7,91612E+10",
        "",
        " ",
        "+44 20 7946 0958",
        "+7 700 123 45 67",
        "8916123",
        "+7 000 123 45 67",
        "89161234567.0",
        "8916 123 45 6O",
    ]
    rows = [["ФИО", "Телефон", "Сумма"]]
    for i in range(n):
        nat = f"916{rng.randrange(10**7):07d}"
        phone = rng.choice(forms).format(n=nat, a=nat[3:6], b=nat[6:8], c=nat[8:])
        rows.append([f"Клиент {i % 50}", phone, rng.choice(["100", "", " 7,5 ", "-"])])
    return rows


@pytest.mark.parametrize("rows", [40, 9000])  # below and above a Python chunk
def test_mixed_forms_csv_agree(rows: int) -> None:
    data = csv_bytes(_mixed_rows(rows))
    assert read_frame(data, ";", IngestLimits()) is not None
    res = _both(data, "mixed.csv")
    assert res.rejected and res.duplicates and res.words_fixed and res.multi_fixed


@pytest.mark.parametrize(
    ("text", "taken"),
    [
        ("Телефон;Имя\r\n89161234567;Анна\r\n89161234568;Борис\r\n", True),  # CRLF
        ("Телефон;Имя\n89161234567;Анна\n\n\n89161234568;Борис\n", True),  # blank lines
        ("Телефон;Имя;Город\n89161234567;Анна\n89161234568;Борис;Тверь\n", True),  # short row
        ("Телефон;Имя\n89161234567;Анна;лишнее\n", False),  # ragged: a longer row
        ('Телефон;Имя\n"8916123 45 67";"Анна ""А"""\n89161234568;"Б;орис"\n', True),
        ('Телефон;Имя\n89161234567;"Анна\nИвановна"\n89161234568;Борис\n', False),
        ("Телефон;Имя\r89161234567;Анна\r", False),  # old Mac line ends
        ('Телефон;Имя\n"89161234567"x;Анна\n', False),  # malformed quoting
        ("Телефон;Имя\n89161234567;Анна", True),  # no final line end
        ("\ufeffphone;name\n79161234567;Anna\n", True),
        ("Телефон\n89161234567\n   \n89161234568\n", True),  # one column, a line of spaces
        ("Телефон\n\n\n89161234567\n\n\n", True),  # blank lines inside and at the end
        ("Телефон;Имя\n89161234567;Анна\n\n", True),  # no quote: lines are not counted
    ],
)
def test_shapes_agree_and_polars_takes_only_what_it_reads_alike(text: str, taken: bool) -> None:
    data = text.encode()
    frame = read_frame(ingest_module.as_utf8(data, "utf-8-sig"), ";", IngestLimits())
    assert (frame is not None) is taken
    _both(data, "shape.csv")


def test_encodings_agree() -> None:
    rows = [["Телефон", "Имя"], ["8 916 123-45-67", "Щукин"], ["89161234568", "Ёлкина"]]
    for encoding in ("cp1251", "utf-16", "utf-8-sig"):
        res = _both(csv_bytes(rows, encoding=encoding), "enc.csv")
        assert res.accepted == 2 and res.phones.records()[0]["add_data"] == {"Имя": "Щукин"}


def test_cell_limit_and_row_limit_refuse_alike() -> None:
    from bot.phones import IngestError

    long = csv_bytes([["Телефон", "Имя"], ["89161234567", "я" * 50]])
    for columnar in (True, False):
        with pytest.raises(IngestError) as error:
            ingest_module.ingest_bytes(
                long, "l.csv", IngestLimits(max_cell_chars=40), columnar=columnar
            )
        assert (error.value.code, error.value.params["row"]) == ("cell_too_long", 2)
    many = csv_bytes([["Телефон"]] + [[f"8916{i:07d}"] for i in range(30)])
    for columnar in (True, False):
        with pytest.raises(IngestError) as error:
            ingest_module.ingest_bytes(many, "m.csv", IngestLimits(max_rows=20), columnar=columnar)
        assert error.value.code == "too_many_rows"


def test_spreadsheet_types_survive_storage() -> None:
    rows = [["Телефон", "Сумма", "Имя"]]
    rows += [[f"8916{i:07d}", (i if i % 3 else i + 0.5) if i % 5 else "нет", f"n{i}"]
             for i in range(12_000)]
    res = _both(xlsx_bytes(rows), "types.xlsx")
    back = PhoneList.from_bytes(res.phones.to_bytes())
    assert back.records() == res.phones.records()
    kinds = {type(r["add_data"].get("Сумма")) for r in back.records()}
    assert kinds == {int, float, str}


def test_stored_list_from_the_previous_version_still_loads() -> None:
    import zlib

    import orjson

    old = zlib.compress(
        orjson.dumps({"v": 1, "p": "+79161234567\n+79161234568", "k": ["a"], "c": [["x", 2]]})
    )
    back = PhoneList.from_bytes(old)
    assert back.records() == [
        {"phone": "+79161234567", "add_data": {"a": "x"}},
        {"phone": "+79161234568", "add_data": {"a": 2}},
    ]
    assert len(back) == 2


@pytest.mark.parametrize(
    "columns",
    [
        [],
        [["Анна \"А\" \\ \n\t\x01", "", "😀\u2028"], [1, None, 2**40]],  # texts and integers
        [["x", "", "z"], [1.5, "нет", None]],  # a mixed column: written by orjson
        [["Иванов И.", "10:00", "a/b <c> 'd' \u00a0\x7f"]],  # texts with nothing to escape
    ],
)
def test_post_body_from_the_stored_list_is_orjson_of_the_records(columns) -> None:
    import orjson

    from bot.campaigns.model import PhoneColumns

    phones = ["+79161234567", "+79161234568", "+375291234567"]
    keys = [f"k{i}\"" for i in range(len(columns))]
    stored = PhoneList.from_bytes(PhoneList(phones, keys, columns).to_bytes())
    expected = orjson.dumps(stored.records())
    for frames in (True, False):
        for rows in (1, 2, 50):
            body = PhoneColumns(stored.keys, stored.chunks(rows, frames=frames))
            assert b"".join([b"[", *body.json_parts(), b"]"]) == expected
            assert len(body) == 3


def test_post_body_refuses_what_the_api_would() -> None:
    import polars as pl

    from bot.campaigns.model import PhoneColumns

    with pytest.raises(ValueError, match=r"phones\[1\]\.phone"):
        PhoneColumns([], [pl.DataFrame({"phone": pl.Series([79161234567, 12], dtype=pl.Int64)})])
    with pytest.raises(ValueError, match=r"phones\[1\]\.phone"):
        PhoneColumns([], [(["+79161234567", "79161234568"], [])])
    with pytest.raises(ValueError, match="add_data"):
        PhoneColumns(["a"], [(["+79161234567"], [[True]])])
    with pytest.raises(ValueError, match="empty"):
        PhoneColumns([], [])
