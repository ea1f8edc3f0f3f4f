"""The fake campaign API itself: contract validation, routing, faults, control endpoints."""

from __future__ import annotations

import copy
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from tests.fakes.campaign_api import FakeCampaignApi, FakeCampaignApiThread, validate_body

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def http(campaign_api: FakeCampaignApi) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=campaign_api.root_url, timeout=5) as client:
        yield client


def test_the_documents_example_is_valid(example_body: dict[str, Any]) -> None:
    assert validate_body(example_body) == []


def _broken(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of `body` with the field at dotted `path` set to `value` (or removed)."""
    body = copy.deepcopy(body)
    *parents, last = path.split(".")
    node: Any = body
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    key: Any = int(last) if isinstance(node, list) else last
    if value is DELETE:
        del node[key]
    else:
        node[key] = value
    return body


DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "complaint"),
    [
        ("campaign.project_id", DELETE, "campaign.project_id: required"),
        ("campaign.project_id", "1", "campaign.project_id: must be a positive integer"),
        ("campaign.project_id", True, "campaign.project_id: must be a positive integer"),
        ("campaign.start_block_id", 0, "campaign.start_block_id"),
        ("campaign.phone_id", DELETE, "campaign.phone_id: required"),
        ("campaign.name", 5, "campaign.name: must be a string"),
        ("campaign.description", None, "campaign.description"),
        ("campaign.state", 1, "campaign.state"),
        ("campaign.extra", 1, "campaign.extra: unknown field"),
        ("campaign.schedule", DELETE, "campaign.schedule: required"),
        ("campaign.schedule.date", "2026-02-30", "not a real date"),
        ("campaign.schedule.date", "01.01.2026", "YYYY-MM-DD"),
        ("campaign.schedule.date", DELETE, "campaign.schedule.date: required"),
        ("campaign.schedule.start_time", "9:00", "start_time: must be HH:MM"),
        ("campaign.schedule.end_time", "24:00", "end_time: must be HH:MM"),
        ("campaign.schedule.periods", {"id": 2, "title": "Ежедневно"}, "periods"),
        ("campaign.schedule.attempts", {"id": 2, "title": "1"}, "attempts.title"),
        ("campaign.schedule.attempts", {"id": 6, "title": "6"}, "attempts.id"),
        ("campaign.schedule.attempts", {"id": "1", "title": "1"}, "attempts.id"),
        ("campaign.schedule.interval", 5, "interval"),
        ("campaign.schedule.interval", "five", "interval"),
        ("phones", [], "phones: must not be empty"),
        ("phones", DELETE, "phones: required array"),
        ("phones.0.phone", "89999999999", "phones[0].phone: must be an E.164 string"),
        ("phones.0.phone", 79999999999, "phones[0].phone"),
        ("phones.0.add_data", [], "phones[0].add_data: must be an object"),
        ("phones.0.add_data", {"x": {"nested": 1}}, "phones[0].add_data.x"),
        ("phones.0.add_data", {"x": None}, "phones[0].add_data.x"),
    ],
)
def test_contract_violations_are_named(
    example_body: dict[str, Any], path: str, value: Any, complaint: str
) -> None:
    errors = validate_body(_broken(example_body, path, value))
    assert any(complaint in error for error in errors), errors


def test_error_messages_never_carry_the_phone(example_body: dict[str, Any]) -> None:
    errors = validate_body(_broken(example_body, "phones.0.phone", "+7abc9999999"))
    assert errors and all("+7abc" not in error for error in errors)


async def test_example_is_accepted_over_http(
    campaign_api: FakeCampaignApi, http: httpx.AsyncClient, example_body: dict[str, Any]
) -> None:
    first = await http.post("/api/campaigns", json=example_body)
    second = await http.post("/api/campaigns", json=example_body)

    assert first.status_code == 200 and first.json() == {"campaign": {"id": 1}}
    assert second.json() == {"campaign": {"id": 2}}
    assert campaign_api.requests[0].json == example_body
    assert campaign_api.created[1] == example_body


async def test_broken_body_gets_422_with_message(
    campaign_api: FakeCampaignApi, http: httpx.AsyncClient, example_body: dict[str, Any]
) -> None:
    broken = _broken(example_body, "campaign.schedule.attempts", {"id": 3, "title": "2"})
    answer = await http.post("/api/campaigns", json=broken)

    assert answer.status_code == 422
    assert "attempts.title" in answer.json()["message"]
    assert campaign_api.created == {}


async def test_not_json_and_wrong_content_type(
    campaign_api: FakeCampaignApi, http: httpx.AsyncClient, example_body: dict[str, Any]
) -> None:
    garbage = await http.post(
        "/api/campaigns", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    form = await http.post("/api/campaigns", data={"a": "b"})
    untyped = await http.post(
        "/api/campaigns",
        content=orjson.dumps(example_body),
        headers={"Content-Type": "text/plain"},
    )

    assert garbage.status_code == 422
    assert form.status_code == 415
    assert untyped.status_code == 415
    assert len(campaign_api.requests) == 3
    assert campaign_api.requests[2].json == example_body  # recorded even when refused


async def test_routing_404_and_405(campaign_api: FakeCampaignApi, http: httpx.AsyncClient) -> None:
    assert (await http.post("/campaigns", json={})).status_code == 404  # prefix missing
    assert (await http.post("/api/other", json={})).status_code == 404
    got = await http.get("/api/campaigns")
    assert got.status_code == 405 and got.headers["Allow"] == "POST"


async def test_one_shot_and_sticky_faults(
    campaign_api: FakeCampaignApi, http: httpx.AsyncClient, example_body: dict[str, Any]
) -> None:
    campaign_api.set_fault(status=503, text="down")
    campaign_api.fail_next(status=500, json={"error": "boom"})

    statuses = [
        (await http.post("/api/campaigns", json=example_body)).status_code for _ in range(3)
    ]
    assert statuses == [500, 503, 503]  # one-shot first, then the sticky one

    campaign_api.clear_faults()
    assert (await http.post("/api/campaigns", json=example_body)).status_code == 200


async def test_token_requirement(
    campaign_api: FakeCampaignApi, http: httpx.AsyncClient, example_body: dict[str, Any]
) -> None:
    campaign_api.require_token("t")
    without = await http.post("/api/campaigns", json=example_body)
    wrong = await http.post(
        "/api/campaigns", json=example_body, headers={"Authorization": "Bearer x"}
    )
    right = await http.post(
        "/api/campaigns", json=example_body, headers={"Authorization": "Bearer t"}
    )
    assert [without.status_code, wrong.status_code, right.status_code] == [401, 401, 200]


async def test_control_endpoints(
    campaign_api: FakeCampaignApi, http: httpx.AsyncClient, example_body: dict[str, Any]
) -> None:
    health = await http.get("/_fake/health")
    assert health.json() == {"ok": True, "base_url": campaign_api.base_url}

    assert (await http.post("/_fake/fault", json={"status": 502, "text": "bad gw"})).is_success
    failed = await http.post("/api/campaigns", json=example_body)
    assert (failed.status_code, failed.text) == (502, "bad gw")

    await http.post("/_fake/fault", json={"status": 500, "json": {"e": 1}, "sticky": True})
    assert (await http.post("/api/campaigns", json=example_body)).status_code == 500
    assert (await http.post("/api/campaigns", json=example_body)).status_code == 500
    await http.delete("/_fake/fault")

    await http.post("/_fake/token", json={"token": "abc"})
    assert (await http.post("/api/campaigns", json=example_body)).status_code == 401
    await http.post("/_fake/token", json={"token": None})

    await http.post("/_fake/fault", json={"no_id": True})
    assert (await http.post("/api/campaigns", json=example_body)).json() == {"campaign": {}}

    ok = await http.post("/api/campaigns", json=example_body)
    assert ok.status_code == 200

    recorded = (await http.get("/_fake/requests")).json()["requests"]
    assert [r["path"] for r in recorded] == ["/api/campaigns"] * 6
    assert recorded[-1]["json"] == example_body and recorded[-1]["method"] == "POST"

    assert (await http.post("/_fake/fault", json={"json": {}})).status_code == 400
    assert (await http.post("/_fake/reset")).is_success
    assert (await http.get("/_fake/requests")).json() == {"requests": []}


def test_thread_runner_for_sync_callers(example_body: dict[str, Any]) -> None:
    with FakeCampaignApiThread() as fake:
        fake.fail_next(status=500, json={"error": "boom"})
        with httpx.Client(timeout=5) as http:
            first = http.post(fake.base_url + "/campaigns", json=example_body)
            second = http.post(fake.base_url + "/campaigns", json=example_body)
    assert (first.status_code, second.json()) == (500, {"campaign": {"id": 1}})
    assert len(fake.requests) == 2


def test_command_line_prints_the_url() -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.campaign_api", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as process:
        # Bounded: should the child hang silently, the kill ends readline() with EOF.
        watchdog = threading.Timer(10, process.kill)
        watchdog.start()
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            assert "CAMPAIGN_API_URL=http://127.0.0.1:" in line
            url = line.rsplit("=", 1)[1].strip()
            assert url.endswith("/api")
            assert httpx.get(url.removesuffix("/api") + "/_fake/health", timeout=5).json()["ok"]
        finally:
            watchdog.cancel()
            process.terminate()
            process.wait(timeout=10)
