"""Local calling hours: each number's time zone, the legal hours there, and campaigns
split by zone. Knows nothing of Telegram.

The names below are loaded on first use: the ingest workers' forkserver reads the
registry and the landline prefixes (pure Python) without polars, whose import starts
threads that a fork must not copy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "ListZones": "assign",
    "ZoneAssigner": "assign",
    "NumberingPlan": "registry",
    "PlanCache": "registry",
    "parse_registry": "registry",
    "CallingHours": "rules",
    "CheckMode": "rules",
    "GroupCheck": "rules",
    "PlannedCampaign": "rules",
    "UnknownRule": "rules",
    "check_window": "rules",
    "plan_split": "rules",
    "spread": "rules",
    "SUBJECTS": "subjects",
    "subject_zone": "subjects",
    "UNKNOWN": "zones",
    "ZoneAssignment": "zones",
    "assign_list_zones": "zones",
    "assign_zones": "zones",
    "offset_label": "zones",
    "parse_zone": "zones",
}
__all__ = [
    "SUBJECTS",
    "UNKNOWN",
    "CallingHours",
    "CheckMode",
    "GroupCheck",
    "ListZones",
    "NumberingPlan",
    "PlanCache",
    "PlannedCampaign",
    "UnknownRule",
    "ZoneAssigner",
    "ZoneAssignment",
    "assign_list_zones",
    "assign_zones",
    "check_window",
    "offset_label",
    "parse_registry",
    "parse_zone",
    "plan_split",
    "spread",
    "subject_zone",
]

if TYPE_CHECKING:
    from .assign import ListZones, ZoneAssigner
    from .registry import NumberingPlan, PlanCache, parse_registry
    from .rules import (
        CallingHours,
        CheckMode,
        GroupCheck,
        PlannedCampaign,
        UnknownRule,
        check_window,
        plan_split,
        spread,
    )
    from .subjects import SUBJECTS, subject_zone
    from .zones import (
        UNKNOWN,
        ZoneAssignment,
        assign_list_zones,
        assign_zones,
        offset_label,
        parse_zone,
    )


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)
