"""The ingest job's annotate hook: run on the accepted list where it is read."""

from __future__ import annotations

import pytest

from bot.phones import ingest_bytes
from bot.phones.executor import run_job

CSV = b"phone\n89161234567\n89161234568\nnot a phone\n"


def _count_numbers(plist) -> int:
    return len(plist.numbers())


def _broken(plist) -> object:
    raise RuntimeError("boom")


def _never(plist) -> object:
    raise AssertionError("called without accepted numbers")


def test_the_hook_sees_the_accepted_list() -> None:
    result = run_job(ingest_bytes, (CSV, "a.csv", None), None, _count_numbers)
    assert result.accepted == 2 and result.annotation == 2
    assert "annotate_ms" in result.timings


def test_a_failing_hook_keeps_the_list(caplog: pytest.LogCaptureFixture) -> None:
    result = run_job(ingest_bytes, (CSV, "a.csv", None), None, _broken)
    assert result.accepted == 2 and result.annotation is None
    assert "annotate hook failed" in caplog.text


def test_no_hook_call_for_an_empty_list() -> None:
    result = run_job(ingest_bytes, (b"phone\nxx\n", "a.csv", None), None, _never)
    assert result.accepted == 0 and result.annotation is None
