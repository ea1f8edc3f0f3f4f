"""Shared fixtures: the fakes on 127.0.0.1 and a real redis-server when there is one."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

from bot import aiogram_lazy

# As `python -m bot` does: the in-process tests use aiogram's types built on first use.
aiogram_lazy.install()

import pytest  # noqa: E402
import redis  # noqa: E402

from tests.campaigns.conftest import campaign_api  # noqa: F401, E402  (shared fixture)
from tests.fake_telegram.conftest import fake_telegram  # noqa: F401, E402  (shared fixture)

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _redis_available() -> bool:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


@pytest.fixture
def redis_url() -> str:
    """The test Redis URL; skips (or fails, with REQUIRE_REDIS=1 as in CI) without one."""
    if not _redis_available():
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(f"REQUIRE_REDIS=1 but no Redis answers at {REDIS_URL}")
        pytest.skip(f"no Redis at {REDIS_URL}")
    return REDIS_URL


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    prefix = f"test-{secrets.token_hex(4)}"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
