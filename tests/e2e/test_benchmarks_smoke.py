"""The benchmark runner works: `python -m benchmarks --quick` prints its table and writes
JSON rows with numbers and ratios. No timing is asserted: this machine's speed varies."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.e2e


def test_quick_benchmark_prints_a_table_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--json", str(out),
         "--only", "dialog", "submission"],
        cwd=ROOT, capture_output=True, text=True, timeout=240, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    header = next(line for line in done.stdout.splitlines() if line.startswith("| case"))
    assert [c.strip() for c in header.strip("|").split("|")] == [
        "case", "metric", "value", "baseline", "ratio", "target", "ok"
    ]
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["quick"] is True
    rows = report["rows"]
    measured = [r for r in rows if isinstance(r["value"], int | float)]
    assert len(measured) >= 5, rows
    with_ratio = [r for r in measured if isinstance(r["ratio"], int | float) and r["ratio"] > 0]
    cases = {r["case"].split(":")[0] for r in with_ratio}
    assert {"dialog", "submission"} <= cases, rows
    for row in with_ratio:
        assert row["baseline"] > 0 and row["value"] > 0
        assert row["case"] in done.stdout


def test_ingest_rows_map_onto_the_table() -> None:
    """benchmarks.bench_ingest returns its own dicts; the runner maps them to columns."""
    from benchmarks.__main__ import _as_row, format_table

    row = _as_row(
        {"case": "csv_1m", "rows": 1_000_000, "total_s": 2.5, "bare_s": 1.0, "ratio": 2.5,
         "target": "<= 3x", "meets_target": True, "peak_mb": 300},
        "ingest",
    )
    assert (row.case, row.metric, row.value, row.baseline, row.ratio, row.ok) == (
        "ingest: csv_1m", "s per file", 2.5, 1.0, 2.5, True
    )
    assert row.extra["peak_mb"] == 300
    assert "ingest: csv_1m" in format_table([row])
