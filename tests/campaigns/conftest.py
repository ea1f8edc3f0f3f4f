"""Fixtures for the campaign API client: the fake API on 127.0.0.1, a request, clients."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.campaigns.client import CampaignClient
from bot.campaigns.model import CampaignRequest, build_request
from tests.fakes.campaign_api import FakeCampaignApi

EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "campaign-api.example-request.json"


@pytest.fixture
def example_body() -> dict[str, Any]:
    """The contract document's own example request, as a dict."""
    return json.loads(EXAMPLE.read_text(encoding="utf-8"))


def request_from_body(body: dict[str, Any]) -> CampaignRequest:
    campaign = body["campaign"]
    schedule = campaign["schedule"]
    return build_request(
        project_id=campaign["project_id"],
        start_block_id=campaign["start_block_id"],
        phone_id=campaign["phone_id"],
        name=campaign["name"],
        description=campaign["description"],
        date=schedule["date"],
        start_time=schedule["start_time"],
        end_time=schedule["end_time"],
        attempts=schedule["attempts"]["id"],
        interval_minutes=int(schedule["interval"]),
        phones=body["phones"],
        state=campaign["state"],
    )


@pytest.fixture
def campaign_request(example_body: dict[str, Any]) -> CampaignRequest:
    return request_from_body(example_body)


@pytest.fixture
async def campaign_api() -> AsyncIterator[FakeCampaignApi]:
    """The fake campaign API on a free port of 127.0.0.1, base URL with an /api prefix."""
    async with FakeCampaignApi() as fake:
        yield fake


# Small enough that a whole fault test takes well under a second.
FAST = {
    "connect_timeout": 1.0,
    "read_timeout": 2.0,
    "write_timeout": 2.0,
    "pool_timeout": 1.0,
    "connect_retries": 2,
    "backoff_base": 0.01,
    "backoff_max": 0.05,
}


@pytest.fixture
async def make_client() -> AsyncIterator[Callable[..., CampaignClient]]:
    """make_client(base_url, **options) -> a CampaignClient closed after the test."""
    clients: list[CampaignClient] = []

    def make(base_url: str, **options: Any) -> CampaignClient:
        client = CampaignClient(base_url, **{**FAST, **options})
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
async def campaign_client(
    campaign_api: FakeCampaignApi, make_client: Callable[..., CampaignClient]
) -> CampaignClient:
    return make_client(campaign_api.base_url)


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
