"""Bytes to a UInt8 column and back, every byte value, empty included."""

from __future__ import annotations

import polars as pl
import pytest

from bot.bytes_column import uint8_bytes, uint8_series


@pytest.mark.parametrize("data", [b"", b"\x00", bytes(range(256)) * 3, b"\xff\x00" * 50_000])
def test_bytes_round_trip_through_a_uint8_column(data: bytes) -> None:
    series = uint8_series("c", data)
    assert series.dtype == pl.UInt8 and series.name == "c"
    assert series.to_list() == list(data)
    assert uint8_bytes(series) == data
    assert uint8_bytes(pl.Series("x", list(data), dtype=pl.UInt8)) == data


def test_a_slice_and_a_column_of_several_chunks_give_their_own_bytes() -> None:
    data = bytes(range(256)) * 10
    series = uint8_series("c", data)
    assert uint8_bytes(series.slice(3, 100)) == data[3:103]
    assert uint8_bytes(pl.concat([series, series], rechunk=False)) == data + data
