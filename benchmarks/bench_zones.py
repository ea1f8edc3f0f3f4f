"""Zones of a big list: registry ranges looked up for every number after the ingest.

- registry load: `parse_registry` + `NumberingPlan` over a synthetic registry the size of
  the real one (~70k ranges over DEF 9xx and ABC 3xx/4xx/8xx, UTF-8, official header);
  baseline: `csv.reader` over the same bytes.
- zones, polars / plain loop (bisect per number): `assign_zones` for N numbers (1M;
  100k with --quick), 85 % mobile, 15 % landline, one add_data column without a zone;
  baseline: the bare pass `int(p[2:])` over the same numbers.
- ingest + zones: the ingest suite's 1M-row CSV (benchmarks.bench_ingest.make_csv)
  through `ingest_bytes`, then `assign_list_zones` on the columnar list (what the ingest
  worker runs); baseline: `csv.reader` over that file, the ingest
  suite's baseline and budget (<= 3.0x). One in-process run: indicative, the ingest
  suite's own row (child process, best of runs) is the reference.
"""

from __future__ import annotations

import csv
import io
import random
import tempfile
import time
from pathlib import Path

from benchmarks.rows import Row

_REGIONS = (
    "г. Москва и Московская обл.", "Челябинская обл.", "Свердловская обл.",
    "Новосибирская обл.", "Приморский край", "Калининградская обл.", "Камчатский край",
    "Республика Татарстан", "Краснодарский край", "Омская обл.", "Иркутская обл.",
    "Ханты - Мансийский - Югра АО", "Российская Федерация",
)
_HEADER = "АВС/ DEF;От;До;Емкость;Оператор;Регион;ИНН;Территория ГАР"


def make_registry(ranges_per_code: int = 200, seed: int = 3) -> bytes:
    rng = random.Random(seed)
    codes = [*range(900, 1000), *range(301, 400), *range(401, 500), *range(811, 890)]
    step = 10**7 // ranges_per_code
    lines = [_HEADER]
    for code in codes:
        for k in range(ranges_per_code):
            start, end = k * step, (k + 1) * step - 1
            region = rng.choice(_REGIONS)
            lines.append(
                f'{code};{start:07d};{end:07d};{end - start + 1};ООО "Оператор";'
                f"{region};7700000000;{region}"
            )
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def make_phones(n: int, seed: int = 4) -> list[str]:
    rng = random.Random(seed)
    mobile = list(range(900, 1000))
    landline = [495, 343, 351, 383, 423, 401, 812, 861, 843, 381]
    return [
        f"+7{rng.choice(mobile if rng.random() < 0.85 else landline)}"
        f"{rng.randrange(10**7):07d}"
        for _ in range(n)
    ]


def _best(fn, reps: int) -> float:
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def run(quick: bool = False) -> list[Row]:
    from bot.calling import NumberingPlan, assign_zones, parse_registry

    rows: list[Row] = []
    reps = 1 if quick else 3
    data = make_registry(40 if quick else 200)

    def bare_csv() -> None:
        for _row in csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""),
                               delimiter=";"):
            pass

    plan_box: list[NumberingPlan] = []

    def load() -> None:
        plan_box[:] = [NumberingPlan(parse_registry(data))]

    load_s, bare_s = _best(load, reps), _best(bare_csv, reps)
    plan = plan_box[0]
    rows.append(Row(f"zones: registry load, {len(plan):,} ranges", "s", load_s, bare_s,
                    load_s / bare_s, unit="s"))

    n = 100_000 if quick else 1_000_000
    phones = make_phones(n)
    keys = ["ФИО"]
    columns = [[f"Имя {i}" for i in range(n)]]

    def bare() -> None:
        for p in phones:
            int(p[2:])

    base = _best(bare, reps)
    # Untimed: polars' first call starts its thread pool; the bot pays that once per life.
    assign_zones(phones[:1000], keys, [c[:1000] for c in columns], plan)
    fast = _best(lambda: assign_zones(phones, keys, columns, plan), reps)
    rows.append(Row(f"zones: {n:,} numbers, polars", "s", fast, base, fast / base,
                    target="—", unit="s"))
    slow = _best(lambda: assign_zones(phones, keys, columns, plan, columnar=False), 1)
    rows.append(Row(f"zones: {n:,} numbers, plain loop", "s", slow, base, slow / base,
                    unit="s"))

    if not quick:
        rows.extend(_ingest_budget(plan))
    return rows


def _ingest_budget(plan) -> list[Row]:
    try:
        from benchmarks.bench_ingest import _bare, _ingest, make_csv
    except ImportError as error:
        return [Row("zones: ingest + zones, csv_1m", "not run", None, note=str(error))]
    from bot.calling import assign_list_zones

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "csv_1m.csv"
        make_csv(path, 1_000_000)
        bare = _best(lambda: _bare(str(path), "csv"), 2)
        t = time.perf_counter()
        result = _ingest(str(path))
        ingest_s = time.perf_counter() - t
        plist = result.phones
        t = time.perf_counter()
        # As the ingest worker does it: on the columnar list, no Python strings.
        assign_list_zones(plist, plan)
        zones_s = time.perf_counter() - t
    total = ingest_s + zones_s
    return [
        Row("zones: csv_1m ingest alone", "s per file", ingest_s, bare, ingest_s / bare,
            unit="s"),
        Row("zones: csv_1m ingest + zones", "s per file", total, bare, total / bare,
            target="<= 3.0x", ok=total / bare <= 3.0, unit="s",
            note=f"zones {zones_s:.2f} s of it"),
    ]
