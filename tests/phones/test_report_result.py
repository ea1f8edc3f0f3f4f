"""The report file, PhoneList storage and the async entry point."""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import csv
import io
import pickle
import time
import zipfile

import openpyxl
import pytest

from bot.phones import (
    REJECT_REASON_RU,
    IngestError,
    PhoneList,
    build_report,
    ingest_bytes,
    ingest_bytes_async,
    ingest_text,
    shutdown_executor,
)

from .builders import csv_bytes

HOSTILE = ['=HYPERLINK("http://x")', "+79161234567+1", "-2+3", "@SUM(A1)", "\t=1", "\r=2"]


def _result_with_hostile_values():
    rows = [["Телефон", "Имя"]] + [[v, "x"] for v in HOSTILE] + [["89161234567", "ok"]]
    res = ingest_bytes(csv_bytes(rows), "h.csv")
    assert res.rejected_total == len(HOSTILE)
    return res


def test_xlsx_report_is_valid_and_has_no_formulas() -> None:
    res = _result_with_hostile_values()
    data = build_report(res, REJECT_REASON_RU.__getitem__)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "<f " not in sheet
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("Строка", "Значение", "Причина")
    assert [r[0] for r in rows[1:]] == [2, 3, 4, 5, 6, 7]
    assert [r[1] for r in rows[1:]] == HOSTILE
    for row in ws.iter_rows(min_row=2):
        assert row[1].data_type == "s"  # text, never a formula
    assert rows[1][2] == REJECT_REASON_RU[res.rejected_rows[0].reason]
    # python-calamine (the reader used for uploads) reads it back too.
    from python_calamine import CalamineWorkbook

    back = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    assert back[1][1] == HOSTILE[0]


def test_csv_report_escapes_formula_starts() -> None:
    res = _result_with_hostile_values()
    data = build_report(res, lambda code: f"reason:{code}", fmt="csv", headers=("R", "V", "W"))
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["R", "V", "W"]
    assert [r[1] for r in rows[1:]] == ["'" + v for v in HOSTILE]
    assert all(not r[1].startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows[1:])
    assert rows[1][2].startswith("reason:")
    with pytest.raises(ValueError):
        build_report(res, str, fmt="pdf")


def test_report_strips_xml_invalid_characters() -> None:
    res = ingest_text("abc\x01\x02def")
    data = build_report(res, REJECT_REASON_RU.__getitem__)
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    assert ws["B2"].value == "abc\ufffd\ufffddef"


def test_phone_list_records_bytes_and_pickle() -> None:
    pl = PhoneList(
        ["+79161234567", "+79161234568"],
        ["Имя", "Сумма"],
        [["Анна", ""], [None, 15]],
    )
    assert len(pl) == 2
    assert pl.records() == [
        {"phone": "+79161234567", "add_data": {"Имя": "Анна"}},
        {"phone": "+79161234568", "add_data": {"Сумма": 15}},
    ]
    assert PhoneList.from_bytes(pl.to_bytes()).records() == pl.records()
    clone = pickle.loads(pickle.dumps(pl))
    assert clone == pl and clone.keys == ["Имя", "Сумма"]
    empty = PhoneList()
    assert PhoneList.from_bytes(empty.to_bytes()).records() == []
    assert pickle.loads(pickle.dumps(empty)).phones == []
    with pytest.raises(ValueError):
        PhoneList(["+79161234567"], ["a"], [])


def test_to_bytes_is_compact() -> None:
    phones = [f"+7916{i:07d}" for i in range(0, 10_000_000, 100)]
    pl = PhoneList(phones, ["Имя"], [[f"Клиент {i}" for i in range(len(phones))]])
    blob = pl.to_bytes()
    assert len(blob) < 12 * len(phones)  # ~10 bytes per phone with a short column
    assert PhoneList.from_bytes(blob).phones == phones


async def test_async_ingest_in_process_pool_does_not_block_loop() -> None:
    rows = [["Телефон", "Имя"]] + [[f"8916{i:07d}", f"n{i}"] for i in range(150_000)]
    data = csv_bytes(rows)
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0.01)

    task = asyncio.create_task(ticker())
    try:
        started = time.perf_counter()
        res = await asyncio.wait_for(ingest_bytes_async(data, "big.csv"), 120)
        elapsed = time.perf_counter() - started
    finally:
        done.set()
        await task
        shutdown_executor()
    assert res.accepted == 150_000
    assert res.phones.sample(1) == [("+79160000000", {"Имя": "n0"})]
    # The loop kept running while the file was parsed elsewhere.
    assert ticks >= min(5, int(elapsed / 0.01) // 4)


async def test_async_with_given_executor_and_errors() -> None:
    with cf.ThreadPoolExecutor(1) as pool:
        res = await ingest_bytes_async(b"phone\n89161234567\n", "a.csv", executor=pool)
        assert res.phones.phones == ["+79161234567"]
        with pytest.raises(IngestError) as err:
            await ingest_bytes_async(b"", "a.csv", executor=pool)
        assert err.value.code == "empty"


async def test_async_uses_a_thread_only_when_processes_cannot_start(monkeypatch) -> None:
    import bot.phones.executor as ex

    class NoProcesses(cf.Executor):
        def submit(self, *a, **k):
            raise OSError("fork failed")

    monkeypatch.setattr(ex, "_pool", NoProcesses())
    monkeypatch.setattr(ex, "_pool_broken", False)
    res = await ingest_bytes_async(b"phone\n89161234567\n", "a.csv")
    assert res.accepted == 1
    assert ex._pool_broken is True
    monkeypatch.setattr(ex, "_pool_broken", False)
