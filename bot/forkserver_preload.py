"""The forkserver's preload (multiprocessing imports it there at start): from then on the
forkserver dies with the bot. Imported nowhere else: the bot itself must not die with
whatever started it.

It also fills the +7 prefix table (pure Python, ~2 s, no threads), and for the zones
computed in the worker (bot.calling.ZoneAssigner) libphonenumber's landline prefixes
(~0.4 s, in a child interpreter) and the numbering-plan registry of NUMBERING_PLAN_DIR
(~0.3 s and ~5 MB for the real registry's size, and its 1 MB lookup table): every
ingest worker is forked with them, so a fresh worker (one per list, see
bot.phones.executor) starts warm. Nothing
that starts threads (polars) is imported here: a fork copies no threads.
"""

import os

from bot.lifeline import die_with_parent

die_with_parent()
# Forked workers inherit this: a worker whose parent is no longer the forkserver (it died
# while the worker was still starting, before the worker armed its own lifeline) exits.
FORKSERVER_PID = os.getpid()
# polars' allocator (jemalloc, prefixed _rjem_) gives freed pages back at once instead of
# keeping them for 0.5-1 s: a worker's peak for a million-row list drops by a quarter
# (~270 -> ~200 MB), at no measurable cost in time. polars appends this to its own
# defaults when it loads in a worker (the last setting wins); the bot's own import of
# polars already put its defaults in the inherited environment, hence no setdefault.
os.environ["_RJEM_MALLOC_CONF"] = "dirty_decay_ms:0,muzzy_decay_ms:0"

from bot.phones.forms import PREFIXES  # noqa: E402  - armed first: dies with the bot

PREFIXES.fill_all()

from pathlib import Path  # noqa: E402

from bot.calling.prefixes import landline_prefixes  # noqa: E402
from bot.calling.registry import plan_cache  # noqa: E402

landline_prefixes()
# The bot exports its setting before the forkserver starts (bot.runner); a worker asked
# for another directory (or after the files changed) reads it itself.
_PLAN_DIR = os.environ.get("NUMBERING_PLAN_DIR")
_plan = plan_cache(Path(_PLAN_DIR)).get() if _PLAN_DIR else None
if _plan is not None:
    _plan.cells()  # the dense lookup table (1 MB, ~0.1 s), shared by every worker


def warm_worker() -> None:
    """Run by each ingest worker as it starts (bot.phones.executor), where polars may be
    used: the registry's table as a polars column (~15 ms in a fresh worker, 1 MB), made
    while the worker waits instead of while a supervisor waits for the report."""
    if _plan is not None:
        _plan.warm()
