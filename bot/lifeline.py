"""A helper process dies with the process that started it, however that one dies.

Armed in the forkserver by its preload (bot/forkserver_preload.py: it imports nothing else
of the bot, so the forkserver stays free of the threads polars and others start, which a
fork would break) and by every ingest worker at its start. Without it, after a SIGKILL
of the bot the forkserver, the workers and the resource tracker lived on, holding memory
and the bot's stdout pipe.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time

_PR_SET_PDEATHSIG = 1
WATCH_INTERVAL = 0.5  # seconds between parent checks where prctl is missing


def _prctl_pdeathsig(sig: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(WATCH_INTERVAL)
    os.kill(os.getpid(), signal.SIGKILL)


def die_with_parent() -> None:
    """SIGKILL this process when its parent dies. Linux: the kernel's parent-death signal.
    It fires when the parent *thread* that forked us ends: the workers are forked by the
    forkserver's only thread; the forkserver by the bot's thread that first started the
    pool (the event loop's, or one of asyncio's default executor threads, which live as
    long as the loop). Should that thread end early, the pool breaks, one file is refused
    and the next pool starts a new forkserver. Elsewhere: a daemon thread that notices
    the parent has changed."""
    parent = os.getppid()
    if _prctl_pdeathsig(signal.SIGKILL):
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), signal.SIGKILL)
        return
    with contextlib.suppress(RuntimeError):
        threading.Thread(target=_watch, args=(parent,), name="lifeline", daemon=True).start()
