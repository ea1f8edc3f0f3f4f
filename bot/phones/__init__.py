"""Phone lists: contact files and pasted numbers -> the campaign's phones[].

Knows nothing of Telegram; see docs/phone-lists.md for the rules it implements.

The names below are loaded on first use: the ingest workers' forkserver imports
`bot.phones.forms` (the prefix table, pure Python) without polars, whose import starts
threads that a fork must not copy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "ERROR_CODES": "errors",
    "IngestError": "errors",
    "IngestLimits": "errors",
    "get_executor": "executor",
    "ingest_bytes_async": "executor",
    "shutdown_executor": "executor",
    "start_executor": "executor",
    "ingest_bytes": "ingest",
    "ingest_text": "ingest",
    "REJECT_REASON_RU": "normalize",
    "REJECT_REASONS": "normalize",
    "normalize_value": "normalize",
    "normalize_phone": "normalize",
    "ReportTexts": "report",
    "build_report": "report",
    "IngestResult": "result",
    "PhoneList": "result",
    "RejectedRow": "result",
    "detect_kind": "sniff",
}
__all__ = [
    "ERROR_CODES",
    "REJECT_REASONS",
    "REJECT_REASON_RU",
    "IngestError",
    "IngestLimits",
    "IngestResult",
    "PhoneList",
    "RejectedRow",
    "ReportTexts",
    "build_report",
    "detect_kind",
    "get_executor",
    "ingest_bytes",
    "ingest_bytes_async",
    "ingest_text",
    "normalize_phone",
    "normalize_value",
    "shutdown_executor",
    "start_executor",
]

if TYPE_CHECKING:
    from .errors import ERROR_CODES, IngestError, IngestLimits
    from .executor import get_executor, ingest_bytes_async, shutdown_executor, start_executor
    from .ingest import ingest_bytes, ingest_text
    from .normalize import REJECT_REASON_RU, REJECT_REASONS, normalize_value
    from .normalize import normalize as normalize_phone
    from .report import ReportTexts, build_report
    from .result import IngestResult, PhoneList, RejectedRow
    from .sniff import detect_kind


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(
        importlib.import_module(f".{module}", __name__),
        "normalize" if name == "normalize_phone" else name,
    )
