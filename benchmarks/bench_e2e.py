"""Upload to report, as the supervisor waits for it: `python -m benchmarks --only e2e`.

The real `python -m bot` process polls the fake Telegram (in this process); the fake
serves the uploaded file for download like Telegram does. Timed: from the moment the
document update is queued to the moment the import report message («… · принято: …»)
exists in the fake, beside a bare `csv.reader` (or python-calamine) pass over the same
bytes in this same run. Memory: the peak of the sum of RSS over the bot and all its
children (forkserver, workers), sampled every 20 ms with psutil; and the tree's idle
RSS before the first list and after the last one (after the worker recycle).

Cases: a 1M-row CSV (`phone,region`, UTF-8, LF, 0.5 % invalid, 1 % duplicates), an
xlsx of 100k rows, and 200k numbers pasted as text (a bare `str.split` baseline).

Zones are computed as in production: the bot runs with NUMBERING_PLAN_DIR pointing at a
synthetic registry the size of the real one (benchmarks.bench_zones.make_registry,
~70k ranges), and the report waited for carries the zone spread. BENCH_E2E_PLAN=0
runs without a registry (zones from the file's columns and landline prefixes only).
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.rows import Row

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "987654321:AAE_benchFakeTokenThatMustNeverBeLogged_x"
REPORT_MARK = "· принято:"  # «Строк: … · принято: …», the import report's counters
TARGETS = {"csv_1m": (3.0, 450), "xlsx_100k": (1.5, None)}
_MOBILE = [c for c in range(900, 1000) if c not in (907, 940, 942, 943, 944, 945, 946, 947)]


def make_csv_1m(rows: int, seed: int = 10) -> bytes:
    """`phone,region`: 0.5 % invalid (a code no range has), 1 % repeats of a row above."""
    rng = random.Random(seed)
    out = ["phone,region\n"]
    recent: list[str] = []
    for _ in range(rows):
        r = rng.random()
        if r < 0.01 and recent:
            phone = rng.choice(recent)
        elif r < 0.015:
            phone = f"7000{rng.randrange(10**7):07d}"
        else:
            form = rng.random()
            nat = f"{rng.choice(_MOBILE)}{rng.randrange(10**7):07d}"
            phone = ("7" + nat) if form < 0.5 else ("8" + nat) if form < 0.8 else ("+7" + nat)
            recent.append(phone)
            if len(recent) > 64:
                recent.pop(0)
        out.append(f"{phone},{rng.randrange(1, 90)}\n")
    return "".join(out).encode()


def make_paste(rows: int, seed: int = 11) -> str:
    rng = random.Random(seed)
    return "\n".join(f"+7 {rng.choice(_MOBILE)} {rng.randrange(10**7):07d}" for _ in range(rows))


def bare_csv(data: bytes) -> float:
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        n = 0
        for _row in csv.reader(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline="")):
            n += 1
        best = min(best, time.perf_counter() - t)
    return best


def bare_xlsx(data: bytes) -> float:
    from python_calamine import CalamineWorkbook

    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
        wb.get_sheet_by_index(0).to_python(skip_empty_area=False)
        best = min(best, time.perf_counter() - t)
    return best


def bare_paste(text: str) -> float:
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        [line.split() for line in text.splitlines()]
        best = min(best, time.perf_counter() - t)
    return best


class TreeSampler:
    """Peak of the summed RSS of a process and its descendants, sampled in a thread."""

    def __init__(self, pid: int, every: float = 0.02) -> None:
        import psutil

        self._root = psutil.Process(pid)
        self.every = every
        self.peak = 0
        self.bot_peak = 0  # the bot's own process, for the breakdown
        self.at_peak: list[int] = []  # each process's MB at the tree's peak
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def tree_rss(self) -> int:
        return sum(self._sizes())

    def _sizes(self) -> list[int]:
        import psutil

        try:
            procs = [self._root, *self._root.children(recursive=True)]
        except psutil.Error:
            return [0]
        sizes = []
        for p in procs:
            try:
                sizes.append(p.memory_info().rss)
            except psutil.Error:
                sizes.append(0)
        return sizes

    def _run(self) -> None:
        while not self._stop.is_set():
            sizes = self._sizes()
            if sum(sizes) > self.peak:
                self.at_peak = [round(x / 2**20) for x in sizes]
            self.peak = max(self.peak, sum(sizes))
            self.bot_peak = max(self.bot_peak, sizes[0])
            self._stop.wait(self.every)

    def reset(self) -> None:
        sizes = self._sizes()
        self.peak = sum(sizes)
        self.bot_peak = sizes[0]

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(2)


async def _start_bot(fake: Any, api: Any, tmp: Path) -> asyncio.subprocess.Process:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CAMPAIGN_", "ALLOWED_", "REDIS_", "WEBHOOK_", "PRESETS_"))
    }
    env.update(
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
        BOT_TOKEN=fake.token,
        TELEGRAM_API_URL=fake.base_url,
        CAMPAIGN_API_URL=api.base_url,
        CAMPAIGN_PROJECT_ID="1",
        CAMPAIGN_START_BLOCK_ID="10",
        CAMPAIGN_PHONE_ID="5",
        ALLOWED_USER_IDS="1001",
        LOG_LEVEL=os.environ.get("BENCH_E2E_LOG_LEVEL", "WARNING"),
        TIMEZONE="Asia/Yekaterinburg",
    )
    if os.environ.get("BENCH_E2E_PLAN", "1") != "0":
        from benchmarks.bench_zones import make_registry

        plan = tmp / "numbering-plan"
        plan.mkdir(exist_ok=True)
        (plan / "DEF-9xx.csv").write_bytes(make_registry())
        env["NUMBERING_PLAN_DIR"] = str(plan)
    else:
        env.pop("NUMBERING_PLAN_DIR", None)
    log = Path(os.environ.get("BENCH_E2E_LOG") or tmp / "bot.log").open("wb")  # noqa: ASYNC230
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=tmp,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=log,
        stderr=asyncio.subprocess.STDOUT,
    )
    log.close()
    await fake.wait_polling(timeout=30)
    return process


async def _walk(s: Any) -> None:
    from tests.e2e.conftest import has_button

    await s.say("/new", "Как назовём обзвон", reply=False, timeout=30)
    await s.say("Большой список", has_button("Пропустить"))
    await s.press("Пропустить", has_button("Завтра"))
    await s.press("Завтра", "В какие часы звонить")
    await s.say("9-18", "Сколько попыток")
    await s.say("1", "Пришлите список")


async def _cancel(s: Any) -> None:
    await s.say("/cancel", lambda m: True, reply=False, timeout=30)


async def _idle(sampler: TreeSampler, seconds: float = 3.0) -> int:
    """The tree's RSS once it stopped changing (workers recycled, pages given back)."""
    await asyncio.sleep(0.5)
    deadline = time.monotonic() + seconds * 4
    last = sampler.tree_rss()
    while time.monotonic() < deadline:
        await asyncio.sleep(seconds / 3)
        now = sampler.tree_rss()
        if abs(now - last) < 2 * 2**20:
            return now
        last = now
    return last


async def _run(quick: bool, repeats: int) -> list[Row]:
    from benchmarks.bench_ingest import make_xlsx
    from tests.e2e.conftest import ANNA, Supervisor
    from tests.fakes.campaign_api import FakeCampaignApi
    from tests.fakes.telegram_api import Chat, FakeTelegram

    csv_rows = 100_000 if quick else 1_000_000
    xlsx_rows = 20_000 if quick else 100_000
    paste_rows = 20_000 if quick else 200_000
    csv_bytes = make_csv_1m(csv_rows)
    with tempfile.TemporaryDirectory(prefix="bench_e2e_") as tmp_name:
        tmp = Path(tmp_name)
        xlsx_path = tmp / "list.xlsx"
        make_xlsx(xlsx_path, xlsx_rows)
        xlsx_bytes = xlsx_path.read_bytes()
        paste = make_paste(paste_rows)
        fake = FakeTelegram(token=TOKEN, bot_id=int(TOKEN.split(":", 1)[0]))
        await fake.start()
        rows: list[Row] = []
        async with FakeCampaignApi() as api:
            process = await _start_bot(fake, api, tmp)
            try:
                anna = Supervisor(fake, fake.add_chat(Chat.private(ANNA)), ANNA)
                with TreeSampler(process.pid) as sampler:
                    await asyncio.sleep(3)  # workers started and warmed up
                    idle_before = await _idle(sampler)
                    # The bare pass is timed again before every run (best of 3 each
                    # time) and every run is set against the fastest of all of them: a
                    # slow moment of the machine never flatters a ratio.
                    cases: list[tuple[str, str, Any, Any]] = [
                        (f"csv_{csv_rows // 1000}k".replace("1000k", "1m"), "list.csv",
                         csv_bytes, bare_csv),
                        (f"xlsx_{xlsx_rows // 1000}k", "list.xlsx", xlsx_bytes, bare_xlsx),
                        (f"paste_{paste_rows // 1000}k", "", paste, bare_paste),
                    ]
                    only = os.environ.get("BENCH_E2E_CASES")
                    idle_after = 0
                    for case, filename, payload, bare_pass in cases:
                        if only and case.split("_")[0] not in only.split(","):
                            continue
                        bare = float("inf")
                        timed: list[tuple[int, float, float, float, list[int]]] = []
                        if not filename and not idle_after:
                            # After the files, before the pasted text: the pasted text is
                            # read in the bot's own process (a real message holds at most
                            # 4096 characters; 200k numbers is a stress case only).
                            idle_after = await _idle(sampler, 4.0)
                        for run in range(1, repeats + 1):
                            await _walk(anna)
                            bare = min(bare, bare_pass(payload))
                            sampler.reset()
                            started = time.perf_counter()
                            if filename:
                                update = fake.send_document(anna.chat, ANNA, payload, filename)
                            else:
                                update = fake.send_text(anna.chat, ANNA, payload)
                            mark = update["message"]["message_id"]
                            await fake.wait_for_message(
                                anna.chat.id,
                                lambda m, mark=mark: m.message_id > mark
                                and REPORT_MARK in (m.text or ""),
                                timeout=300,
                            )
                            took = time.perf_counter() - started
                            await asyncio.sleep(0.3)  # what follows the report (storing)
                            timed.append((run, took, sampler.peak / 2**20,
                                          sampler.bot_peak / 2**20, sampler.at_peak))
                            await _cancel(anna)
                        for run, took, peak, bot_peak, at_peak in timed:
                            target = TARGETS.get(case)
                            ok = None
                            if target:
                                ok = took / bare <= target[0] and (
                                    target[1] is None or peak < target[1]
                                )
                            rows.append(
                                Row(
                                    f"e2e: {case} run {run}",
                                    "update → report, s (peak tree RSS MB in note)",
                                    took,
                                    bare,
                                    took / bare,
                                    target=(
                                        f"<= {target[0]}x"
                                        + (f", < {target[1]} MB" if target[1] else "")
                                    )
                                    if target
                                    else "",
                                    ok=ok,
                                    unit="s",
                                    note=(
                                        f"peak tree RSS {peak:.0f} MB (bot {bot_peak:.0f};"
                                        f" processes at the peak {at_peak})"
                                    ),
                                    extra={"peak_tree_mb": round(peak), "bot_mb": round(bot_peak)},
                                )
                            )
                    if not idle_after:
                        idle_after = await _idle(sampler, 4.0)
                rows.append(
                    Row(
                        "e2e: idle tree RSS",
                        "after the files, MB (baseline: before)",
                        idle_after / 2**20,
                        idle_before / 2**20,
                        (idle_after / idle_before) if idle_before else None,
                        target="within 50 MB",
                        ok=(idle_after - idle_before) < 50 * 2**20,
                        unit="MB",
                    )
                )
            finally:
                if process.returncode is None:
                    process.terminate()
                    try:
                        await asyncio.wait_for(process.wait(), 20)
                    except TimeoutError:
                        process.kill()
                        await process.wait()
                await fake.stop()
    return rows


def breakdown(path: str) -> dict[str, float]:
    """In a fresh process: where a worker's time goes for the CSV, phase by phase, and
    the bare csv.reader pass over the same bytes (ms, best of 3)."""
    from bot.phones import IngestLimits, build_report, ingest_bytes
    from bot.phones.column import _classify, _polars
    from bot.phones.ingest import detect_layout
    from bot.phones.normalize import warm_up
    from bot.phones.readers import read_delimited, read_frame

    warm_up()  # a worker inherits the filled table from the forkserver
    data = Path(path).read_bytes()
    limits = IngestLimits()
    best: dict[str, float] = {}

    def timed(name: str, fn: Any, *args: Any) -> Any:
        started = time.perf_counter()
        out = fn(*args)
        took = (time.perf_counter() - started) * 1000
        best[name] = min(best.get(name, took), took)
        return out

    for _ in range(3):
        best["bare csv.reader"] = min(best.get("bare csv.reader", 1e9), bare_csv(data) * 1000)
        sample = next(iter(read_delimited(data, "utf-8", ",", limits)))[0][:300]
        layout = detect_layout(sample, at_eof=False)
        frame = timed("read (polars CSV reader)", read_frame, data, ",", limits)
        raw = frame[frame.columns[layout.phone_col]].slice(layout.data_start)
        classified = timed("normalize (vectorized rules)", _classify, raw)
        timed("dedupe + reference path for the rest", _polars, [classified], set(), set())
        result = timed("whole ingest_bytes", ingest_bytes, data, "list.csv", limits)
        timed("report (xlsx of rejected rows)", build_report, result, str)
        timed("store (Arrow IPC, zstd)", result.phones.to_bytes)
    return best


def breakdown_rows(quick: bool = False) -> list[Row]:
    import json
    import subprocess

    rows_n = 100_000 if quick else 1_000_000
    with tempfile.TemporaryDirectory(prefix="bench_e2e_") as tmp:
        path = Path(tmp) / "list.csv"
        path.write_bytes(make_csv_1m(rows_n))
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.bench_e2e", "--breakdown", str(path)],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
            timeout=600,
        )
    best = json.loads(out.stdout.strip().splitlines()[-1])
    bare = best.pop("bare csv.reader")
    case = f"in-process: csv_{rows_n // 1000}k".replace("1000k", "1m")
    return [
        Row(f"{case} {name}", "ms (baseline: bare csv.reader)", ms, bare, ms / bare, unit="ms")
        for name, ms in best.items()
    ]


def run(quick: bool = False, repeats: int | None = None) -> list[Row]:
    rows = asyncio.run(_run(quick, repeats or (1 if quick else 3)))
    return [*rows, *breakdown_rows(quick)]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--breakdown"]:
        import json

        print(json.dumps(breakdown(sys.argv[2])))
    else:
        from benchmarks.__main__ import format_table

        print(format_table(run(quick="--quick" in sys.argv)))
