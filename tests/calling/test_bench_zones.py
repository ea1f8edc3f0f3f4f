"""The zones benchmark runs and gives each figure beside its baseline (no timing checked)."""

from __future__ import annotations

from benchmarks.bench_zones import make_phones, make_registry, run
from bot.calling import NumberingPlan, assign_zones, parse_registry


def test_quick_run_has_every_row_with_a_baseline() -> None:
    rows = run(quick=True)
    assert [r.case for r in rows][1:] == [
        "zones: 100,000 numbers, polars", "zones: 100,000 numbers, plain loop"
    ]
    assert rows[0].case.startswith("zones: registry load, ")
    for row in rows:
        assert row.value is not None and row.value > 0
        assert row.baseline is not None and row.baseline > 0
        assert row.ratio == row.value / row.baseline


def test_synthetic_registry_resolves_the_synthetic_numbers() -> None:
    plan = NumberingPlan(parse_registry(make_registry(10)))
    phones = make_phones(2000)
    got = assign_zones(phones, [], [], plan)
    # Every number falls in some range; only the country-wide ones stay unknown.
    assert got.sources.get("registry", 0) > 1500
    assert sum(got.sources.values()) == len(phones)
