"""What handlers need from the outside world, handed to them through workflow_data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiogram.fsm.storage.memory import SimpleEventIsolation

from bot.calling import PlanCache
from bot.campaigns.client import CampaignClient
from bot.drafts import InFlightMarks, MemoryInFlightMarks, PhoneListStore
from bot.handoff import HandoffStore, MemoryHandoffStore
from bot.history import SafeHistory
from bot.phones import IngestLimits, IngestResult, ReportTexts, ingest_bytes_async
from bot.presets import Presets
from bot.settings import Settings
from bot.tasks import BackgroundTasks

# (data, filename, limits), `choice=` when a list is read again another way, and
# `report=` (the rejected-rows report's words: it is built where the rows are), and
# `annotate=` (the zones of the list, computed where the list is read).
Ingest = Callable[..., Awaitable[IngestResult]]


async def _ingest_off_loop(
    data: bytes,
    filename: str,
    limits: IngestLimits,
    choice: tuple[str, int] | None = None,
    report: ReportTexts | None = None,
    annotate: Callable[[Any], object] | None = None,
) -> IngestResult:
    return await ingest_bytes_async(
        data, filename, limits, choice=choice, report=report, annotate=annotate
    )


@dataclass
class AppDeps:
    settings: Settings
    presets: Presets
    campaign_client: CampaignClient
    phone_lists: PhoneListStore
    # Defaults to this process as the only holder (memory storage); create_deps passes the
    # backend's, which is shared by replicas with Redis.
    inflight: InFlightMarks = field(
        default_factory=lambda: MemoryInFlightMarks(SimpleEventIsolation())
    )
    tasks: BackgroundTasks = field(default_factory=lambda: BackgroundTasks())
    # Group /new -> private chat links; kept where drafts are (create_deps passes them).
    handoffs: HandoffStore = field(default_factory=lambda: MemoryHandoffStore(900))
    # What was launched; None: not kept (the bot works the same without it).
    history: SafeHistory | None = None
    # Pending approval requests' cards, due at their expiry (bot/dialog/approval_expiry.py);
    # made beside the drafts' storage on first use.
    approval_notes: Any = None
    ingest: Ingest = _ingest_off_loop
    clock: Callable[[], dt.datetime] | None = None
    # The numbering-plan registry of NUMBERING_PLAN_DIR, re-read when its files change.
    numbering_plan: PlanCache | None = None

    def __post_init__(self) -> None:
        if self.numbering_plan is None:
            self.numbering_plan = PlanCache(self.settings.numbering_plan_dir)

    def now(self) -> dt.datetime:
        """Wall-clock time of the call centre (TIMEZONE): 'today' is judged in it."""
        if self.clock is not None:
            return self.clock().astimezone(self.settings.tz)
        return dt.datetime.now(self.settings.tz)

    @property
    def ingest_limits(self) -> IngestLimits:
        s = self.settings
        return IngestLimits(
            max_bytes=s.max_file_bytes,
            max_rows=s.max_rows,
            max_columns=s.max_columns,
            max_cell_chars=s.max_cell_chars,
        )
