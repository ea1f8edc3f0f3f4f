"""libphonenumber's Russian landline prefixes ("351", "4012", ...) -> IANA zone, through
the region names it gives («Челябинская обл.»); its own zone table is not used (it says
Europe/Bucharest for Kaliningrad).

The table (~90 entries) is computed in a child interpreter: libphonenumber keeps every
country's region names in one module (~146 MB and ~0.6 s to import), and a process that
imported it would keep most of that memory. Pure Python, no polars: the ingest workers'
forkserver fills it once, and every worker starts with it (bot/forkserver_preload.py).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

from .subjects import subject_zone

log = logging.getLogger(__name__)

_ROOT = Path(__file__).resolve().parents[2]


def compute() -> dict[str, str]:
    """The table, from libphonenumber's data, in this process."""
    try:
        from phonenumbers.geodata import GEOCODE_DATA
    except ImportError:  # pragma: no cover - an older or newer layout
        return {}
    out: dict[str, str] = {}
    for prefix, names in GEOCODE_DATA.items():
        # +7 6xx / 7xx is Kazakhstan; +7 9xx has no region in libphonenumber.
        if not prefix.startswith("7") or len(prefix) < 2 or prefix[1] in "679":
            continue
        name = names.get("ru") or names.get("en") or ""
        zone = subject_zone(name)
        if zone:
            out[prefix[1:]] = zone
    return out


@lru_cache(maxsize=1)
def landline_prefixes() -> dict[str, str]:
    """The table, computed once per process in a child interpreter (in this one only if
    no child can start)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_ROOT), env.get("PYTHONPATH")) if p)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bot.calling.prefixes"],
            capture_output=True, timeout=120, env=env, check=True, cwd=_ROOT,
            stdin=subprocess.DEVNULL,
        )
        table = json.loads(done.stdout)
        if isinstance(table, dict):
            return {str(k): str(v) for k, v in table.items()}
        log.warning("landline prefixes: the child gave no table; computed here")
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        log.warning("landline prefixes: no child interpreter (%s); computed here", exc)
    return compute()


if __name__ == "__main__":
    sys.stdout.write(json.dumps(compute(), ensure_ascii=False))
