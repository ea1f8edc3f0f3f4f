"""Phone lists: contact files and pasted numbers -> the campaign's phones[].

Knows nothing of Telegram; see docs/phone-lists.md for the rules it implements.
"""

from .errors import ERROR_CODES, IngestError, IngestLimits
from .executor import get_executor, ingest_bytes_async, shutdown_executor, start_executor
from .ingest import ingest_bytes, ingest_text
from .normalize import REJECT_REASON_RU, REJECT_REASONS, normalize_value
from .normalize import normalize as normalize_phone
from .report import build_report
from .result import IngestResult, PhoneList, RejectedRow
from .sniff import detect_kind

__all__ = [
    "ERROR_CODES",
    "REJECT_REASONS",
    "REJECT_REASON_RU",
    "IngestError",
    "IngestLimits",
    "IngestResult",
    "PhoneList",
    "RejectedRow",
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
