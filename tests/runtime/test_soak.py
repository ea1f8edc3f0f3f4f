"""A short soak (benchmarks/soak.py): two `python -m bot` replicas in webhook mode behind a
round-robin balancer, one Redis, supervisors creating campaigns for 20 s, one replica
SIGKILLed once and restarted. Counts only: nothing lost, nothing twice, nobody waiting
longer than the product's 10 s promise."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.soak import soak

pytestmark = pytest.mark.redis


async def test_a_kill_under_load_loses_nothing_and_blocks_nobody(
    redis_url: str, tmp_path: Path
) -> None:
    result = await soak(replicas=2, users=8, seconds=20, kill_every=10, redis_url=redis_url,
                        log_dir=tmp_path)
    print(result)
    assert result["kills"] == 1
    assert result["dialogs started"] > 0
    assert result["duplicate POSTs"] == 0
    assert result["drafts lost"] == 0
    assert result["unexpected answers"] == 0
    # A kill during the POST itself: its owner is told the campaign may exist (by the
    # replica left alive) and goes on with /new; every other dialog reached "created".
    assert (result["dialogs completed"] + result["submissions cut by a kill, reported"]
            == result["dialogs started"])
    assert result["submissions cut by a kill, never reported"] == 0
    assert result["/new refused (in flight)"] == 0
    assert result["campaigns created"] >= result["dialogs completed"]
    assert result["users blocked > 10 s"] == 0
