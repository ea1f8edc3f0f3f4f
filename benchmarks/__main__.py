"""`python -m benchmarks [--quick] [--json PATH] [--only NAME ...]`: run the suite, print
the table, write it as JSON (benchmarks/results.json by default)."""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import logging
import os
import platform
import sys
import time
import traceback
from dataclasses import fields
from pathlib import Path
from typing import Any

from benchmarks.rows import Row

HERE = Path(__file__).resolve().parent
DEFAULT_JSON = HERE / "results.json"
# name -> module; each has run(quick: bool) -> list[Row | dict]
SUITES = {
    "dialog": "benchmarks.bench_dialog",
    "responsiveness": "benchmarks.bench_responsive",
    "ingest": "benchmarks.bench_ingest",
    "submission": "benchmarks.bench_submit",
    "e2e": "benchmarks.bench_e2e",
    "zones": "benchmarks.bench_zones",
}
COLUMNS = ("case", "metric", "value", "baseline", "ratio", "target", "ok")


def _as_row(item: Row | dict[str, Any], suite: str) -> Row:
    """A suite's result as a row; dicts from benchmarks.bench_ingest (case, total_s, bare_s,
    ratio, target, meets_target, ...) are mapped onto the table's columns."""
    if isinstance(item, Row):
        return item
    known = {f.name for f in fields(Row)}
    data = {k: v for k, v in item.items() if k in known}
    case = str(data.get("case") or "?")
    data["case"] = case if case.startswith(suite) else f"{suite}: {case}"
    if "value" not in data and "total_s" in item:
        data["value"] = item["total_s"]
        data.setdefault("baseline", item.get("bare_s"))
        data.setdefault("metric", "s per file")
        data.setdefault("unit", "s")
    data.setdefault("metric", "")
    data.setdefault("value", None)
    if data.get("ok") is None and "meets_target" in item:
        data["ok"] = item["meets_target"]
    row = Row(**data)
    row.extra.update({k: v for k, v in item.items() if k not in known})
    if row.ratio is None and row.value is not None and row.baseline:
        row.ratio = row.value / row.baseline
    return row


def run_suite(name: str, quick: bool) -> list[Row]:
    """Import lazily: a suite that is missing or broken becomes one row saying so."""
    try:
        module = importlib.import_module(SUITES[name])
    except ImportError as error:
        return [Row(f"{name}", "not run", None, note=f"cannot import {SUITES[name]}: {error}")]
    try:
        return [_as_row(item, name) for item in module.run(quick=quick)]
    except Exception as error:
        traceback.print_exc()
        return [Row(f"{name}", "failed", None, ok=False, note=f"{type(error).__name__}: {error}")]


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}"
    return str(value)


def format_table(rows: list[Row]) -> str:
    cells = [list(COLUMNS)]
    for row in rows:
        ratio = None if row.ratio is None else f"{row.ratio:.2f}x"
        cells.append(
            [
                row.case,
                row.metric,
                _fmt(row.value),
                _fmt(row.baseline),
                ratio or "—",
                row.target or "—",
                _fmt(row.ok),
            ]
        )
    widths = [max(len(r[i]) for r in cells) for i in range(len(COLUMNS))]
    lines = []
    for n, r in enumerate(cells):
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")
        if n == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write rows")
    parser.add_argument("--only", nargs="*", choices=sorted(SUITES), help="suites to run")
    args = parser.parse_args(argv)

    # One line per failed update would bury the table; a failure shows up as its row.
    logging.getLogger("aiogram.event").setLevel(logging.CRITICAL)
    started = time.perf_counter()
    rows: list[Row] = []
    for name in args.only or list(SUITES):
        print(f"running {name}…", file=sys.stderr, flush=True)
        rows.extend(run_suite(name, args.quick))
    table = format_table(rows)
    print(table)
    notes = [f"- {r.case} / {r.metric}: {r.note}" for r in rows if r.note]
    if notes:
        print("\n" + "\n".join(notes))
    report = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "seconds": round(time.perf_counter() - started, 1),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "rows": [r.to_dict() for r in rows],
        "table": table,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"\nwritten to {args.json}", file=sys.stderr)
    # A suite that raised fails the command; a suite not there yet (ImportError) does not.
    return 1 if any(r.metric == "failed" for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
