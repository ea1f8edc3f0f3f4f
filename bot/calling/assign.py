"""Zones of an accepted list where the list was read: a picklable job the ingest worker
runs on the columnar list, handing back only the compact assignment and its counts.

The phones package runs it as its `annotate` hook without knowing what it is; this
package does not import the phones one (see docs/architecture.md, "Zones in the worker").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .registry import NumberingPlan, plan_cache
from .zones import ColumnarList, assign_list_zones


@dataclass(frozen=True, slots=True)
class ListZones:
    """What crosses back from the worker: the per-number assignment as stored
    (ZoneAssignment.to_bytes, ~1 byte a number before compression), zone -> numbers,
    source -> numbers, and the registry's date (ISO) when one was used."""

    blob: bytes
    counts: dict[str, int]
    sources: dict[str, int]
    plan_date: str | None


@dataclass(frozen=True, slots=True)
class ZoneAssigner:
    """`annotate` hook of the ingest: `directory` is NUMBERING_PLAN_DIR (None: no
    registry, zones from the file's columns and landline prefixes only)."""

    directory: Path | None = None
    columnar: bool = True

    def __call__(self, plist: ColumnarList) -> ListZones:
        plan = plan_cache(self.directory).get() if self.directory is not None else None
        return self.run(plist, plan)

    def run(self, plist: ColumnarList, plan: NumberingPlan | None) -> ListZones:
        assignment = assign_list_zones(plist, plan, columnar=self.columnar)
        date = plan.date.isoformat() if plan is not None and plan.date else None
        return ListZones(assignment.to_bytes(), assignment.counts(), assignment.sources, date)
