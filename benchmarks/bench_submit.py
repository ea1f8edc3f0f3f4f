"""Submission: building and sending POST /campaigns for 100k and 500k phones (with
add_data) to the fake campaign API, beside a bare `json.dumps` of the same data.

The fake API runs as its own process (`python -m tests.fakes.campaign_api`), so that its
work (reading and parsing the body) is not charged to the bot's event loop; it answers
with a canned 200 (a sticky fault): its pure-Python contract check of every phone is the
fake's cost, not the bot's, and the tests already check the contract."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.common import Row, time_ratio
from bot.campaigns.client import CampaignClient
from bot.campaigns.model import build_request

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 20.0


def phone_records(count: int) -> list[dict[str, Any]]:
    return [
        {
            "phone": f"+7916{i:07d}",
            "add_data": {"name": f"Иванов Иван {i}", "time": "10:00", "debt": i % 9000 + 0.5},
        }
        for i in range(count)
    ]


def campaign_fields() -> dict[str, Any]:
    return {
        "project_id": 1,
        "start_block_id": 10,
        "phone_id": 5,
        "name": "Долги ноябрь",
        "description": "",
        "date": "2026-11-28",
        "start_time": "09:00",
        "end_time": "18:00",
        "attempts": 3,
        "interval_minutes": 15,
    }


def bare_body(records: list[dict[str, Any]]) -> dict[str, Any]:
    f = campaign_fields()
    return {
        "campaign": {
            "project_id": f["project_id"],
            "name": f["name"],
            "description": f["description"],
            "start_block_id": f["start_block_id"],
            "schedule": {
                "date": f["date"],
                "start_time": f["start_time"],
                "end_time": f["end_time"],
                "periods": {"id": 1, "title": "Однократно"},
                "attempts": {"id": f["attempts"], "title": str(f["attempts"])},
                "interval": str(f["interval_minutes"]),
            },
            "state": "Создано",
            "phone_id": f["phone_id"],
        },
        "phones": records,
    }


class ServerProcess:
    """A child process serving on 127.0.0.1 that prints its CAMPAIGN_API_URL first:
    the fake campaign API (default) or the byte sink; stopped on exit."""

    def __init__(self, *argv: str) -> None:
        self.argv = argv or ("tests.fakes.campaign_api", "--host", "127.0.0.1", "--port", "0")

    async def __aenter__(self) -> ServerProcess:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            *self.argv,
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            stdin=asyncio.subprocess.DEVNULL,
        )
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), START_TIMEOUT)
        text = line.decode()
        if "CAMPAIGN_API_URL=" not in text:
            await self.__aexit__()
            raise RuntimeError(f"{self.argv[0]} did not start: {text!r}")
        self.base_url = text.split("CAMPAIGN_API_URL=", 1)[1].strip()
        self.root_url = self.base_url.rsplit("/", 1)[0]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 5)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.process.kill()
                await asyncio.wait_for(self.process.wait(), 5)


async def _submit(base_url: str, records: list[dict[str, Any]]) -> float:
    client = CampaignClient(base_url, read_timeout=300, write_timeout=300)
    try:
        started = time.perf_counter()
        # What the bot does off the loop (summary._build), then the POST (create_campaign
        # serializes the body in a thread for a big list).
        request = await asyncio.to_thread(build_request, phones=records, **campaign_fields())
        await client.create_campaign(request)
        return time.perf_counter() - started
    finally:
        await client.aclose()


async def run_async(quick: bool = False) -> list[Row]:
    sizes = [10_000, 50_000] if quick else [100_000, 500_000]
    repeats = 1 if quick else 3
    rows: list[Row] = []
    async with ServerProcess() as api, ServerProcess("benchmarks.sink") as sink:
        async with httpx.AsyncClient(timeout=10) as control:
            reply = await control.post(
                f"{api.root_url}/_fake/fault",
                json={"status": 200, "json": {"campaign": {"id": 1}}, "sticky": True},
            )
            reply.raise_for_status()
        for size in sizes:
            records = phone_records(size)
            bare = []
            for _ in range(repeats):
                started = time.perf_counter()
                body = json.dumps(bare_body(records))
                bare.append(time.perf_counter() - started)
            baseline = min(bare) * 1000
            note = f"{len(body.encode()) / 1e6:.0f} MB body; best of {repeats}"
            del body
            for where, url in (("fake API", api.base_url), ("byte sink", sink.base_url)):
                value = min([await _submit(url, records) for _ in range(repeats)]) * 1000
                ratio = time_ratio(value, baseline)
                rows.append(
                    Row(
                        f"submission: {size // 1000}k phones -> {where}",
                        "build+POST ms",
                        value,
                        baseline,
                        ratio,
                        "≤2x",
                        ratio is not None and ratio <= 2,
                        "ms",
                        note
                        + (
                            "; includes the fake's parse and record of the body"
                            if where == "fake API"
                            else "; the bot's own cost"
                        ),
                    )
                )
    return rows


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def columnar_body_rows(quick: bool = False) -> list[Row]:
    """The body as the bot writes it now: from the stored list (Arrow IPC), a chunk at a
    time (PhoneColumns), beside a bare `orjson.dumps` of the same records as a list of
    dicts; and the peak RSS growth while writing it, against the body's own size."""
    import threading

    import orjson

    from bot.campaigns.model import PhoneColumns
    from bot.phones import PhoneList

    size = 100_000 if quick else 1_000_000
    rows: list[Row] = []
    for label, with_data in (("phones only", False), ("with text add_data", True)):
        records = phone_records(size)
        if not with_data:
            records = [{"phone": r["phone"], "add_data": {}} for r in records]
        else:  # a CSV's columns: texts (a "debt" number is a spreadsheet's, written apart)
            for r in records:
                r["add_data"]["debt"] = str(r["add_data"]["debt"]) if r["phone"][-1] != "0" else ""
                if not r["add_data"]["debt"]:
                    del r["add_data"]["debt"]
        keys = list(records[0]["add_data"])
        stored = PhoneList(
            [r["phone"] for r in records], keys, [[r["add_data"][k] for r in records] for k in keys]
        ).to_bytes()
        bare = []
        for _ in range(3):
            started = time.perf_counter()
            body = orjson.dumps(records)
            bare.append(time.perf_counter() - started)
        body_size = len(body)
        del body, records
        times, peaks = [], []
        for _ in range(3):
            base = _rss()
            peak = [base]
            done = threading.Event()

            def sample(peak: list[int] = peak, done: threading.Event = done) -> None:
                while not done.is_set():
                    peak[0] = max(peak[0], _rss())
                    done.wait(0.002)

            sampler = threading.Thread(target=sample)
            sampler.start()
            started = time.perf_counter()
            stored_list = PhoneList.from_bytes(stored)
            phones = PhoneColumns(stored_list.keys, stored_list.chunks(frames=True))
            out = b"".join([b"[", *phones.json_parts(), b"]"])
            times.append(time.perf_counter() - started)
            done.set()
            sampler.join()
            peaks.append(peak[0] - base)
            del out, phones, stored_list
        value, baseline = min(times) * 1000, min(bare) * 1000
        ratio = time_ratio(value, baseline)
        rows.append(
            Row(
                f"submission: {size // 1000}k {label}, body from the stored columns",
                "write ms (baseline: orjson.dumps of the dicts)",
                value,
                baseline,
                ratio,
                "≤1.5x",
                ratio is not None and ratio <= 1.5,
                "ms",
                f"{body_size / 1e6:.0f} MB body; stored list {len(stored) / 1e6:.1f} MB; best of 3",
            )
        )
        growth = min(peaks) / 2**20
        rows.append(
            Row(
                f"submission: {size // 1000}k {label}, body from the stored columns",
                "peak RSS growth MB (baseline: body MB)",
                growth,
                body_size / 2**20,
                growth / (body_size / 2**20),
                "≤3x the list",
                growth <= 3 * body_size / 2**20,
                "MB",
            )
        )
    return rows


def run(quick: bool = False) -> list[Row]:
    return [*columnar_body_rows(quick), *asyncio.run(run_async(quick))]
