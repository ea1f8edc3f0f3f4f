"""Zones of numbers: the subjects table, the registry reader, the sources in order."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path

import polars as pl
import pytest

from bot.calling import (
    SUBJECTS,
    UNKNOWN,
    NumberingPlan,
    PlanCache,
    assign_zones,
    parse_registry,
    parse_zone,
    subject_zone,
)
from bot.calling.registry import RegistryFormatError
from bot.calling.zones import (
    Source,
    assign_list_zones,
    landline_zone,
    utc_offset_minutes,
    zone_columns,
)
from bot.phones import ingest_bytes

from .registry_files import ABC_HEADER, DEF_HEADER, FIVE_ZONES, write_registry

DAY = dt.date(2026, 12, 1)


def _offset(zone: str) -> int:
    return utc_offset_minutes(zone, DAY) // 60


def test_all_89_subjects_with_real_zones() -> None:
    assert len(SUBJECTS) == 89
    assert len({s.name for s in SUBJECTS}) == 89
    for s in SUBJECTS:
        zoneinfo.ZoneInfo(s.zone)
        # Every subject is found by its own official name.
        assert subject_zone(s.name) == s.zone, s.name
    offsets = {_offset(s.zone) for s in SUBJECTS}
    assert offsets == set(range(2, 13))  # Russia's eleven zones, UTC+2 .. UTC+12


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("Челябинская обл.", 5),
        ("Приморский край", 10),
        ("Калининградская обл.", 2),
        ("г. Москва и Московская обл.", 3),
        ("г. Санкт - Петербург и Ленинградская обл.", 3),
        ("Ханты - Мансийский - Югра АО", 5),
        ("Ямало-Ненецкий АО", 5),
        ("Ненецкий АО", 3),
        ("Республика Саха /Якутия/", 9),
        ("Кемеровская обл. - Кузбасс", 7),
        ("Камчатский край", 12),
        ("Чукотский АО", 12),
        ("Самарская обл.", 4),
        ("Тюменская обл.|Ханты-Мансийский АО", 5),
        ("Екатеринбург", 5),
        ("Республика Татарстан (Татарстан)", 3),
    ],
)
def test_registry_and_libphonenumber_spellings(text: str, offset: int) -> None:
    zone = subject_zone(text)
    assert zone is not None
    assert _offset(zone) == offset


def test_regions_in_different_zones_or_none_give_no_zone() -> None:
    assert subject_zone("Московская обл.|Калининградская обл.") is None
    assert subject_zone("Российская Федерация") is None
    assert subject_zone("Россия") is None
    assert subject_zone("") is None


@pytest.mark.parametrize(
    ("value", "zone"),
    [
        ("UTC+3", "UTC+03:00"),
        ("utc +5", "UTC+05:00"),
        ("GMT+05:00", "UTC+05:00"),
        ("МСК+2", "UTC+05:00"),
        ("МСК", "UTC+03:00"),
        ("мск-1", "UTC+02:00"),
        ("+7", "UTC+07:00"),
        ("Asia/Omsk", "Asia/Omsk"),
        ("Новосибирск", "Asia/Novosibirsk"),
        ("завтра", None),
        ("UTC+25", None),
    ],
)
def test_zone_column_values(value: str, zone: str | None) -> None:
    assert parse_zone(value) == zone


def test_zone_columns_found_by_header() -> None:
    keys = ["name", "Город", "Часовой пояс", "sum", "time_zone", "REGION"]
    assert zone_columns(keys) == [2, 4, 1, 5]


def test_registry_file_read_by_header_both_encodings(tmp_path: Path) -> None:
    write_registry(tmp_path)
    utf = parse_registry((tmp_path / "DEF-9xx.csv").read_bytes())
    assert (9140000000, 9140999999, "Asia/Vladivostok") in utf
    assert (9580000000, 9580999999, None) in utf  # a range over the whole country
    cp = parse_registry((tmp_path / "ABC-3xx.csv").read_bytes())
    assert cp == [
        (3512000000, 3512999999, "Asia/Yekaterinburg"),
        (3433000000, 3433999999, "Asia/Yekaterinburg"),
    ]
    # Columns in another order, one more unknown column: still read by their headers.
    shuffled = (
        "Регион;Оператор;До;От;Что-то новое;ABC/DEF\n"
        "Омская обл.;X;9999999;0;1;381\n"
    ).encode()
    assert parse_registry(shuffled) == [(3810000000, 3819999999, "Asia/Omsk")]


def test_not_a_registry_file_is_refused() -> None:
    with pytest.raises(RegistryFormatError):
        parse_registry(b"<html><body>Not found</body></html>")
    with pytest.raises(RegistryFormatError):
        parse_registry(DEF_HEADER.replace("Регион", "Область").encode())
    assert parse_registry((ABC_HEADER + "\n351;xx;yy;1;o;Челябинская обл.\n").encode()) == []


def test_plan_lookup_edges_and_both_paths(tmp_path: Path) -> None:
    plan = NumberingPlan.from_files(sorted(write_registry(tmp_path).glob("*.csv")))
    assert [f.name for f in plan.files] == ["ABC-3xx.csv", "DEF-9xx.csv"]
    assert plan.date == dt.datetime.now(dt.UTC).date()
    probes = [9140000000, 9140999999, 9141000000, 9000061999, 9000062000, 3512000000,
              3511999999, 1, 9999999999]
    expected = ["Asia/Vladivostok", "Asia/Vladivostok", None, "Europe/Moscow", None,
                "Asia/Yekaterinburg", None, None, None]
    assert [plan.lookup_one(n) for n in probes] == expected
    vectorized = [plan.zones[c] if c >= 0 else None for c in plan.lookup_codes(probes)]
    assert vectorized == expected
    plain = [
        plan.zones[c] if c >= 0 else None for c in plan.lookup_codes(probes, columnar=False)
    ]
    assert plain == expected


def test_dense_table_agrees_with_the_range_search_on_ragged_ranges() -> None:
    """The dense table answers whole blocks; ranges that start or end inside a block,
    overlap, share a start or leave gaps send those blocks to the search. Every probe
    (edges, their neighbours, random numbers) answers as the bisect reference does."""
    import random

    from bot.calling.registry import CELL, MIXED

    rng = random.Random(7)
    zones = ["Europe/Moscow", "Asia/Omsk", "Asia/Vladivostok", "Europe/Kaliningrad"]
    rows: list[tuple[int, int, str | None]] = []
    at = 9_000_000_000
    while at < 9_100_000_000:
        size = rng.choice([1, 999, CELL, 3 * CELL, 12_345, 10**6, 62_000])
        gap = rng.choice([0, 0, 0, 1, 500, CELL])
        zone = rng.choice([*zones, None])
        rows.append((at, at + size - 1, zone))
        if rng.random() < 0.1:  # overlapping, nested or same-start ranges, as bad data has
            inner = rng.choice([0, size // 4, size // 2])
            end = rng.choice([at + size + CELL, at + inner + size // 8])
            rows.append((at + inner, end, rng.choice(zones)))
        at += size + gap
    plan = NumberingPlan(rows)
    cells = plan.cells()
    assert cells is not None and len(cells) == 10**6
    assert MIXED in cells and any(0 < c < MIXED for c in cells) and 0 in cells
    probes = [9_999_999_999, 0, 8_999_999_999]
    for start, end, _ in rows:
        probes += [start - 1, start, start + 1, end - 1, end, end + 1]
    probes += [rng.randrange(9_000_000_000, 9_100_000_000) for _ in range(20_000)]
    reference = plan.lookup_codes(probes, columnar=False)
    assert plan.lookup_codes(probes) == reference
    assert plan.lookup_codes(pl.Series([None, *probes[:10]], dtype=pl.Int64)) == [
        -1, *reference[:10]
    ]
    # The form the zones take from it: 1 + the index, null for no range.
    ordinals = plan.lookup_ordinals_series(pl.Series([None, *probes], dtype=pl.Int64))
    assert ordinals.to_list() == [None, *(c + 1 if c >= 0 else None for c in reference)]


def test_lookup_without_the_dense_table_and_in_an_empty_registry() -> None:
    """More zones than a byte of the table holds: every number by the range search;
    no range at all: nothing found."""
    import random

    rng = random.Random(1)
    rows = [(9_000_000_000 + i * 1000, 9_000_000_499 + i * 1000, f"Etc/Z{i}") for i in range(300)]
    plan = NumberingPlan(rows)
    assert plan.cells() is None
    probes = [rng.randrange(9_000_000_000, 9_000_400_000) for _ in range(5000)] + [0]
    reference = plan.lookup_codes(probes, columnar=False)
    assert plan.lookup_codes(probes) == reference
    ordinals = plan.lookup_ordinals_series(pl.Series(probes, dtype=pl.Int64)).to_list()
    assert ordinals == [c + 1 if c >= 0 else None for c in reference]
    empty = NumberingPlan([])
    assert empty.lookup_codes([9_161_234_567, 0]) == [-1, -1]
    assert empty.lookup_ordinals_series(pl.Series([1, None], dtype=pl.Int64)).to_list() == [
        None,
        None,
    ]


def test_landline_from_libphonenumber_region_not_its_zone_table() -> None:
    assert landline_zone("4012123456") == "Europe/Kaliningrad"  # libphonenumber: Bucharest
    assert landline_zone("3512123456") == "Asia/Yekaterinburg"
    assert landline_zone("4232123456") == "Asia/Vladivostok"
    assert landline_zone("9161234567") is None


def test_kazakhstan_shares_plus_seven_and_has_one_zone() -> None:
    got = assign_zones(["+77012345678", "+77172123456", "+12125551234", "+79161234567"])
    assert [got.zone_of(i) for i in range(4)] == [
        "Asia/Almaty", "Asia/Almaty", "America/New_York", UNKNOWN
    ]
    assert got.sources == {"foreign": 3, "unknown": 1}


def test_five_zones_from_every_source(tmp_path: Path) -> None:
    plan = NumberingPlan.from_files(sorted(write_registry(tmp_path).glob("*.csv")))
    phones = [p for p, _ in FIVE_ZONES]
    keys = ["Часовой пояс", "Город"]
    columns = [[row.get(k, "") for _, row in FIVE_ZONES] for k in keys]
    got = assign_zones(phones, keys, columns, plan)
    offsets = [
        None if got.zone_of(i) == UNKNOWN else _offset(got.zone_of(i)) for i in range(len(got))
    ]
    assert offsets == [5, 2, 10, 10, 5, 7, 7, None]
    assert got.sources == {"column": 2, "registry": 4, "landline": 1, "unknown": 1}
    # Without the registry: the landlines still resolve, the mobile numbers do not.
    bare = assign_zones(phones, keys, columns, None)
    assert bare.sources == {"column": 2, "landline": 2, "unknown": 4}
    counts = got.counts()
    assert counts[UNKNOWN] == 1 and sum(counts.values()) == len(phones)
    assert type(got).from_bytes(got.to_bytes()) == got
    assert got.indices({"Asia/Vladivostok"}) == [2, 3]


@pytest.mark.parametrize("with_plan", [True, False])
def test_polars_and_plain_paths_agree(tmp_path: Path, with_plan: bool) -> None:
    import random

    from bot.phones import PhoneList

    plan = NumberingPlan.from_files(sorted(write_registry(tmp_path).glob("*.csv")))
    rng = random.Random(5)
    prefixes = ["+7914000", "+7922", "+7923", "+7958", "+7351", "+7401", "+7495", "+7343",
                "+7812", "+7700", "+7717", "+7999", "+49301", "+1212", "+3706"]
    phones = [p + "".join(rng.choice("0123456789") for _ in range(12 - len(p)))
              for p in (rng.choice(prefixes) for _ in range(3000))]
    keys = ["Часовой пояс", "name", "Регион"]
    zone_values = ["", "", "UTC+7", "МСК", "nonsense", None, 5]
    places = ["", "Омская обл.", "Москва", "", None]
    columns = [[rng.choice(zone_values) for _ in phones], ["x"] * len(phones),
               [rng.choice(places) for _ in phones]]
    used = plan if with_plan else None
    fast = assign_zones(phones, keys, columns, used)
    plain = assign_zones(phones, keys, columns, used, columnar=False)
    assert [fast.zone_of(i) for i in range(len(phones))] == [
        plain.zone_of(i) for i in range(len(phones))
    ]
    assert fast.sources == plain.sources
    assert fast.counts() == plain.counts()  # the counted tally, the plain recount
    assert set(fast.sources) >= {"column", "landline", "foreign", "unknown"}
    # The worker's way: the list as it is held (E.164 integers, typed columns).
    unique = sorted(set(phones), key=phones.index)
    at = [phones.index(p) for p in unique]
    held = PhoneList.from_frame(
        pl.Series([int(p[1:]) for p in unique], dtype=pl.Int64), keys,
        [[c[i] for i in at] for c in columns],
    )
    listed = assign_list_zones(held, used)
    listed_plain = assign_list_zones(held, used, columnar=False)
    assert [listed.zone_of(j) for j in range(len(unique))] == [
        plain.zone_of(i) for i in at
    ] == [listed_plain.zone_of(j) for j in range(len(unique))]
    assert listed.sources == listed_plain.sources
    assert listed.counts() == listed_plain.counts()
    assert assign_zones([], (), (), used).codes == b""


def test_zones_after_a_real_ingest(tmp_path: Path) -> None:
    """The zone columns arrive as add_data keys of the ingested list."""
    text = "phone;Часовой пояс\n+7 914 000 00 01;UTC+3\n8 (351) 212-34-56;\n"
    result = ingest_bytes(text.encode(), "list.csv")
    plist = result.phones
    assert plist.keys == ["Часовой пояс"]
    plan = NumberingPlan.from_files(sorted(write_registry(tmp_path).glob("*.csv")))
    got = assign_zones(plist.phones, plist.keys, plist.columns, plan)
    assert [got.zone_of(i) for i in range(2)] == ["UTC+03:00", "Asia/Yekaterinburg"]
    assert got.sources == {Source.COLUMN: 1, Source.REGISTRY: 1}
    held = assign_list_zones(ingest_bytes(text.encode(), "list.csv").phones, plan)
    assert held == got


def test_plan_cache_rereads_a_changed_directory(tmp_path: Path) -> None:
    cache = PlanCache(tmp_path)
    assert cache.get() is not None and len(cache.get()) == 0
    write_registry(tmp_path)
    plan = cache.get()
    assert plan is not None and len(plan) == 8  # the country-wide range has no zone
    assert cache.get() is plan  # unchanged files are not read again
    (tmp_path / "ABC-3xx.csv").unlink()
    assert len(cache.get()) == 6
    assert PlanCache(None).get() is None


async def test_zones_come_back_from_a_real_ingest_worker(tmp_path: Path, monkeypatch) -> None:
    """The worker computes the zones (its own registry copy) from the columnar list;
    the bot gets the compact assignment and counts, the same as computed in process."""
    import asyncio

    import bot.phones.executor as ex
    from bot.calling import ListZones, ZoneAssigner, ZoneAssignment
    from bot.phones import ingest_bytes_async, shutdown_executor

    plan_dir = write_registry(tmp_path / "plan")
    text = "phone;Часовой пояс\n+7 914 000 00 01;\n8 (351) 212-34-56;\n+7 999 1;\n89221234567;МСК\n"
    assigner = ZoneAssigner(plan_dir)
    shutdown_executor()

    async def no_thread(*_a, **_k):
        raise AssertionError("read in the bot's own process")

    monkeypatch.setattr(ex.asyncio, "to_thread", no_thread)
    try:
        result = await asyncio.wait_for(
            ingest_bytes_async(text.encode(), "list.csv", annotate=assigner), 60
        )
    finally:
        shutdown_executor()
    zones = result.annotation
    assert isinstance(zones, ListZones)
    got = ZoneAssignment.from_bytes(zones.blob)
    assert [got.zone_of(i) for i in range(len(got))] == [
        "Asia/Vladivostok", "Asia/Yekaterinburg", "UTC+03:00"
    ]
    assert zones.counts == got.counts() and sum(zones.counts.values()) == result.accepted
    assert zones.sources == {"registry": 2, "column": 1}
    assert zones.plan_date is not None
    plist = ingest_bytes(text.encode(), "list.csv").phones
    plan = NumberingPlan.from_files(sorted(plan_dir.glob("*.csv")))
    assert assign_zones(plist.phones, plist.keys, plist.columns, plan, columnar=False) == got
