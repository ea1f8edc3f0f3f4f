"""The table's rows and the statistics behind them (no bot imports: the runner can always
report, even when a suite cannot be imported)."""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Row:
    """One line of the table. `ratio` is value/baseline for times, baseline/value for
    rates, so that 2.0 always reads "twice as slow as the bare baseline"."""

    case: str
    metric: str
    value: float | None
    baseline: float | None = None
    ratio: float | None = None
    target: str = ""
    ok: bool | None = None
    unit: str = ""
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def time_ratio(value: float | None, baseline: float | None) -> float | None:
    if value is None or not baseline:
        return None
    return value / baseline


def rate_ratio(value: float | None, baseline: float | None) -> float | None:
    if not value or baseline is None:
        return None
    return baseline / value


def percentile(samples: Iterable[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sample."""
    ordered = sorted(samples)
    if not ordered:
        raise ValueError("no samples")
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


class Stopwatch:
    def __enter__(self) -> Stopwatch:
        self.started = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.started
