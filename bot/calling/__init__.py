"""Local calling hours: each number's time zone, the legal hours there, and campaigns
split by zone. Knows nothing of Telegram."""

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
