"""Local calling hours: each number's time zone, the legal hours there, and campaigns
split by zone. Knows nothing of Telegram."""

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
from .zones import UNKNOWN, ZoneAssignment, assign_zones, offset_label, parse_zone

__all__ = [
    "SUBJECTS",
    "UNKNOWN",
    "CallingHours",
    "CheckMode",
    "GroupCheck",
    "NumberingPlan",
    "PlanCache",
    "PlannedCampaign",
    "UnknownRule",
    "ZoneAssignment",
    "assign_zones",
    "check_window",
    "offset_label",
    "parse_registry",
    "parse_zone",
    "plan_split",
    "spread",
    "subject_zone",
]
