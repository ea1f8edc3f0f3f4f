"""Phone-list ingestion benchmark: `python -m benchmarks.bench_ingest [--quick]`.

Generates its own inputs in a temp dir (CSV of 100k and 1M rows in mixed Russian
formats with two extra columns; an xlsx of 100k rows), then for each case runs, in fresh
subprocesses:

- timing: the bare read of the same file (`csv.reader` over the CSV; python-calamine
  `to_python()` over the xlsx) and `ingest_bytes`, alternated, best of N. The first
  ingestion of a process also fills the phone-prefix table (lazily, per 3-digit block);
  that cold run is shown separately: a pool worker pays it once in its life.
- memory: one ingestion in a fresh process; peak RSS (`ru_maxrss`) of that whole process,
  interpreter and input bytes included, and the delta over the RSS just before it.

Targets (2-core machine): CSV 1M <= 3x bare csv.reader and < 600 MB; xlsx 100k <= 2x bare.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"csv_1m": (3.0, 600), "xlsx_100k": (2.0, None)}

_NAMES = ["Иванов Иван", "Петрова Анна", "Сидоров Пётр", "Кузнецова Мария", "Smith John"]


# Real Russian ranges: mobile operator codes and a few big cities' area codes.
_MOBILE = [
    c for c in range(900, 1000) if c not in (907, 940, 942, 943, 944, 945, 946, 947, 948, 949)
]
_LANDLINE = [495, 499, 812, 343, 351, 383, 846, 861, 863, 843]


def _phone(rng: random.Random) -> str:
    """A phone in one of the forms supervisors' lists hold (about 3% broken ones)."""
    r = rng.random()
    code = rng.choice(_MOBILE) if rng.random() < 0.85 else rng.choice(_LANDLINE)
    nat = f"{code}{rng.randrange(10**7):07d}"
    if r < 0.20:
        return f"+7 ({nat[:3]}) {nat[3:6]}-{nat[6:8]}-{nat[8:]}"
    if r < 0.40:
        return "8" + nat
    if r < 0.55:
        return "7" + nat
    if r < 0.65:
        return f"8 {nat[:3]} {nat[3:6]} {nat[6:8]} {nat[8:]}"
    if r < 0.75:
        return nat
    if r < 0.85:
        return "+7" + nat
    if r < 0.90:
        return f"8({nat[:3]}){nat[3:6]}-{nat[6:8]}-{nat[8:]}"
    if r < 0.94:
        return f"+7\u00a0{nat[:3]}\u00a0{nat[3:6]}\u00a0{nat[6:8]}\u00a0{nat[8:]}"
    if r < 0.96:
        return "'8" + nat
    if r < 0.97:
        return nat[:7]  # too short
    if r < 0.98:
        return "7,91612E+10"  # Excel-damaged
    if r < 0.99:
        return f"8 {nat[:3]} {nat[3:6]} {nat[6:8]} {nat[8:]} доб. {rng.randrange(100)}"
    return "+7 000 123 45 67"  # invalid range


def make_csv(path: Path, rows: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, delimiter=";")
        w.writerow(["ФИО", "Телефон", "Время звонка"])
        last = "89161234567"
        for i in range(rows):
            phone = last if rng.random() < 0.01 else _phone(rng)  # ~1% duplicates
            last = phone
            w.writerow(
                [
                    f"{rng.choice(_NAMES)} {i}",
                    phone,
                    f"{rng.randrange(9, 21)}:{rng.choice(('00', '30'))}",
                ]
            )


def make_xlsx(path: Path, rows: int, seed: int = 2) -> None:
    """A minimal real xlsx written by hand (openpyxl takes minutes for 100k rows): phone
    cells as numbers (Excel's damage) or text, names as shared strings, times as styled
    day fractions."""
    rng = random.Random(seed)
    shared: dict[str, int] = {}

    def sst(text: str) -> int:
        if text not in shared:
            shared[text] = len(shared)
        return shared[text]

    parts = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        "<sheetData>"
    ]
    head = "".join(
        f'<c r="{col}1" t="s"><v>{sst(t)}</v></c>'
        for col, t in zip("ABC", ("ФИО", "Телефон", "Время звонка"), strict=True)
    )
    parts.append(f'<row r="1">{head}</row>')
    for r in range(2, rows + 2):
        name = f'<c r="A{r}" t="s"><v>{sst(rng.choice(_NAMES))}</v></c>'
        if rng.random() < 0.5:
            phone = f'<c r="B{r}"><v>{rng.choice("78")}9{rng.randrange(10**9):09d}</v></c>'
        else:
            text = escape(_phone(rng))
            phone = f'<c r="B{r}" t="inlineStr"><is><t>{text}</t></is></c>'
        minutes = rng.randrange(9 * 60, 21 * 60)
        when = f'<c r="C{r}" s="1"><v>{minutes / 1440!r}</v></c>'
        parts.append(f'<row r="{r}">{name}{phone}{when}</row>')
    parts.append("</sheetData></worksheet>")
    strings = "".join(f"<si><t>{escape(s)}</t></si>" for s in shared)
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006"
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(
            "[Content_Types].xml",
            f'<Types xmlns="{pkg}/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{ct}.worksheet+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{ct}.styles+xml"/>'
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{ct}.sharedStrings+xml"/>'
            "</Types>",
        )
        zf.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{pkg}/relationships"><Relationship Id="rId1" '
            f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        zf.writestr(
            "xl/workbook.xml",
            f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
            '<sheet name="Лист1" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        zf.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{pkg}/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{rel}/styles" Target="styles.xml"/>'
            f'<Relationship Id="rId3" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>",
        )
        zf.writestr(
            "xl/styles.xml",
            f'<styleSheet xmlns="{main}"><fonts count="1"><font/></fonts>'
            '<fills count="1"><fill/></fills><borders count="1"><border/></borders>'
            '<cellStyleXfs count="1"><xf/></cellStyleXfs><cellXfs count="2"><xf/>'
            '<xf numFmtId="20" applyNumberFormat="1"/></cellXfs></styleSheet>',
        )
        zf.writestr(
            "xl/sharedStrings.xml",
            f'<sst xmlns="{main}" count="{len(shared)}" uniqueCount="{len(shared)}">'
            f"{strings}</sst>",
        )
        zf.writestr("xl/worksheets/sheet1.xml", "".join(parts))


# --- measurement, run in fresh subprocesses ------------------------------------------------


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _bare(path: str, kind: str) -> int:
    if kind == "csv":
        n = 0
        with open(path, newline="", encoding="utf-8") as f:
            for _row in csv.reader(f, delimiter=";"):
                n += 1
        return n
    from python_calamine import CalamineWorkbook

    with open(path, "rb") as f:
        wb = CalamineWorkbook.from_filelike(f)
        return len(wb.get_sheet_by_index(0).to_python(skip_empty_area=False))


def _ingest(path: str):
    from bot.phones import IngestLimits, ingest_bytes

    limits = IngestLimits(max_bytes=1 << 30)
    with open(path, "rb") as f:
        data = f.read()
    return ingest_bytes(data, os.path.basename(path), limits)


def _child_timing(path: str, kind: str, reps: int) -> dict:
    import bot.phones  # noqa: F401  - imports are not part of either timing

    bare, ingest, cold = [], [], None
    result = None
    for _ in range(reps):
        t = time.perf_counter()
        _bare(path, kind)
        bare.append(time.perf_counter() - t)
        t = time.perf_counter()
        result = _ingest(path)
        took = time.perf_counter() - t
        if cold is None:
            cold = took
        else:
            ingest.append(took)
    assert result is not None
    return {
        "bare_s": min(bare),
        "cold_s": cold,
        "total_s": min(ingest) if ingest else cold,
        "rows_read": result.rows_read,
        "accepted": result.accepted,
        "rejected": result.rejected_total,
        "duplicates": result.duplicates,
    }


def _child_memory(path: str) -> dict:
    import bot.phones  # noqa: F401

    before = _rss_mb()
    result = _ingest(path)
    return {"peak_mb": _peak_mb(), "delta_mb": _peak_mb() - before, "accepted": result.accepted}


def _spawn(*args: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_ingest", "--child", *args],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=900,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(quick: bool = False) -> list[dict]:
    """Generate inputs, measure every case; one dict per case (also printed as a table)."""
    cases = [
        ("csv_100k", "csv", 100_000),
        ("csv_1m", "csv", 1_000_000),
        ("xlsx_100k", "xlsx", 100_000),
    ]
    if quick:
        cases = [("csv_100k", "csv", 100_000), ("xlsx_20k", "xlsx", 20_000)]
    reps = 2 if quick else 4
    results = []
    with tempfile.TemporaryDirectory(prefix="bench_ingest_") as tmp:
        for name, kind, rows in cases:
            path = Path(tmp) / f"{name}.{kind}"
            (make_csv if kind == "csv" else make_xlsx)(path, rows)
            timing = _spawn("timing", str(path), kind, str(reps))
            memory = _spawn("memory", str(path))
            row = {
                "case": name,
                "rows": rows,
                "file_mb": round(path.stat().st_size / 2**20, 1),
                **timing,
                "rows_per_s": round(rows / timing["total_s"]),
                "ratio": round(timing["total_s"] / timing["bare_s"], 2),
                "peak_mb": round(memory["peak_mb"]),
                "delta_mb": round(memory["delta_mb"]),
            }
            target = TARGETS.get(name)
            if target:
                ok = row["ratio"] <= target[0] and (target[1] is None or row["peak_mb"] < target[1])
                row["target"] = f"<= {target[0]}x" + (f", < {target[1]} MB" if target[1] else "")
                row["meets_target"] = ok
            results.append(row)
    return results


def print_table(rows: list[dict]) -> None:
    head = (
        f"{'case':<10} {'rows':>9} {'MB':>5} {'total s':>8} {'cold s':>7} {'rows/s':>9} "
        f"{'peak MB':>8} {'+MB':>5} {'bare s':>7} {'ratio':>6}  target"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        target = r.get("target", "")
        if target:
            target += "  OK" if r["meets_target"] else "  MISSED"
        print(
            f"{r['case']:<10} {r['rows']:>9} {r['file_mb']:>5} {r['total_s']:>8.2f} "
            f"{r['cold_s']:>7.2f} {r['rows_per_s']:>9} {r['peak_mb']:>8} {r['delta_mb']:>5} "
            f"{r['bare_s']:>7.2f} {r['ratio']:>5.2f}x  {target}"
        )
    print(
        "total/cold: ingest_bytes incl. reading the file (cold = first call in a fresh process,"
        " fills the prefix table); bare: csv.reader / python-calamine over the same file, same "
        "process, best of N; peak MB: ru_maxrss of a fresh process doing one ingestion; "
        "+MB: over its RSS before the call."
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small inputs, fewer repetitions")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON too")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        mode, *rest = args.child
        if mode == "timing":
            out = _child_timing(rest[0], rest[1], int(rest[2]))
        else:
            out = _child_memory(rest[0])
        print(json.dumps(out))
        return
    rows = run(quick=args.quick)
    print_table(rows)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
