"""Both paths over the whole format suite: every `ingest_bytes` call a test in this
folder makes is also run with `columnar=False` (the csv module and the plain Python
loop), and the two results must be the same in every field the bot uses: phones,
add_data with each value's type, counts, reasons, report rows, alternatives. A
refusal must be the same refusal (code and parameters)."""

from __future__ import annotations

import pytest

from bot.phones import IngestError, IngestLimits, IngestResult
from bot.phones import ingest as ingest_module

_FIELDS = (
    "rows_read",
    "accepted",
    "fixed",
    "duplicates",
    "rejected",
    "rejected_rows",
    "countries",
    "phone_column",
    "has_header",
    "source_kind",
    "keys",
    "multi_fixed",
    "words_fixed",
    "left_out",
    "phone_columns",
    "alternatives",
    "sheet",
)


def typed_records(result: IngestResult) -> list[tuple]:
    """phones[] with each add_data value's type beside it (1 and 1.0 and "1" differ)."""
    return [
        (r["phone"], [(k, type(v).__name__, v) for k, v in r["add_data"].items()])
        for r in result.phones.records()
    ]


def assert_same(columnar: IngestResult, plain: IngestResult) -> None:
    for name in _FIELDS:
        assert getattr(columnar, name) == getattr(plain, name), name
    assert typed_records(columnar) == typed_records(plain)
    assert columnar.phones.keys == plain.phones.keys
    assert len(columnar.phones) == len(plain.phones) == columnar.accepted


def both_paths(real):
    def ingest_bytes(data, filename, limits=None, choice=None, *, columnar=True):
        args = (data, filename, limits or IngestLimits(), choice)
        if not columnar:
            return real(*args, columnar=False)
        try:
            result = real(*args)
        except IngestError as error:
            with pytest.raises(IngestError) as plain:
                real(*args, columnar=False)
            assert (plain.value.code, plain.value.params) == (error.code, error.params)
            raise
        assert_same(result, real(*args, columnar=False))
        return result

    return ingest_bytes


@pytest.fixture(autouse=True)
def _compare_paths(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    real = ingest_module.ingest_bytes
    wrapper = both_paths(real)
    module = request.module
    if getattr(module, "ingest_bytes", None) is real:
        monkeypatch.setattr(module, "ingest_bytes", wrapper)
    monkeypatch.setattr("bot.phones.ingest_bytes", wrapper, raising=False)
