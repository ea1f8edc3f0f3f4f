"""CampaignClient against the fake campaign API over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import orjson
import pytest

from bot.campaigns.client import CampaignClient
from bot.campaigns.errors import (
    CampaignOutcomeUnknown,
    CampaignRejected,
    CampaignUnreachable,
)
from bot.campaigns.model import CampaignRequest, build_request
from tests.fakes.campaign_api import FakeCampaignApi

MakeClient = Callable[..., CampaignClient]


async def test_success_returns_id_and_sends_the_request_verbatim(
    campaign_api: FakeCampaignApi,
    campaign_client: CampaignClient,
    campaign_request: CampaignRequest,
    example_body: dict[str, Any],
) -> None:
    first = await campaign_client.create_campaign(campaign_request)
    second = await campaign_client.create_campaign(campaign_request)

    assert (first, second) == (1, 2)
    assert len(campaign_api.requests) == 2
    seen = campaign_api.requests[0]
    assert seen.method == "POST"
    assert seen.path == "/api/campaigns"  # the base URL's prefix is kept
    assert seen.json == orjson.loads(campaign_request.to_json()) == example_body
    assert seen.headers["Content-Type"] == "application/json"
    assert "Authorization" not in seen.headers


async def test_token_is_sent_as_bearer(
    campaign_api: FakeCampaignApi, make_client: MakeClient, campaign_request: CampaignRequest
) -> None:
    campaign_api.require_token("s3cret")
    client = make_client(campaign_api.base_url, token="s3cret")

    assert await client.create_campaign(campaign_request) == 1
    assert campaign_api.requests[0].headers["Authorization"] == "Bearer s3cret"


async def test_token_header_and_scheme_are_configurable(
    campaign_api: FakeCampaignApi, make_client: MakeClient, campaign_request: CampaignRequest
) -> None:
    campaign_api.require_token("k3y", header="X-Api-Key", scheme="")
    client = make_client(
        campaign_api.base_url, token="k3y", auth_header="X-Api-Key", auth_scheme=""
    )

    assert await client.create_campaign(campaign_request) == 1
    headers = campaign_api.requests[0].headers
    assert headers["X-Api-Key"] == "k3y"
    assert "Authorization" not in headers


async def test_missing_token_is_rejected_401(
    campaign_api: FakeCampaignApi,
    campaign_client: CampaignClient,
    campaign_request: CampaignRequest,
) -> None:
    campaign_api.require_token("s3cret")

    with pytest.raises(CampaignRejected) as caught:
        await campaign_client.create_campaign(campaign_request)

    assert caught.value.status == 401
    assert "Unauthorized" in caught.value.message
    assert len(campaign_api.requests) == 1  # a rejection is never retried


async def test_base_url_with_trailing_slash(
    campaign_api: FakeCampaignApi, make_client: MakeClient, campaign_request: CampaignRequest
) -> None:
    client = make_client(campaign_api.base_url + "/")

    assert await client.create_campaign(campaign_request) == 1
    assert campaign_api.requests[0].path == "/api/campaigns"


@pytest.mark.parametrize(
    ("status", "payload", "expected"),
    [
        (500, {"error": "boom"}, "boom"),
        (400, {"message": "project not found"}, "project not found"),
        (409, {"detail": "duplicate campaign"}, "duplicate campaign"),
        (422, {"error": {"message": "nested reason"}}, "nested reason"),
        (400, {"errors": ["first", "second"]}, "first; second"),
        (503, "maintenance", "maintenance"),
        (400, {"status": "fail"}, '{"status":"fail"}'),
    ],
)
async def test_rejected_with_json_message(
    campaign_api: FakeCampaignApi,
    campaign_client: CampaignClient,
    campaign_request: CampaignRequest,
    status: int,
    payload: Any,
    expected: str,
) -> None:
    campaign_api.fail_next(status=status, json=payload)

    with pytest.raises(CampaignRejected) as caught:
        await campaign_client.create_campaign(campaign_request)

    assert caught.value.status == status
    assert caught.value.message == expected
    assert len(campaign_api.requests) == 1


async def test_rejected_with_fastapi_detail_list(
    campaign_api: FakeCampaignApi,
    campaign_client: CampaignClient,
    campaign_request: CampaignRequest,
) -> None:
    detail = [
        {"loc": ["body", "campaign", "name"], "msg": "field required", "type": "missing"},
        {"loc": ["body", "phones", 0, "phone"], "msg": "bad phone", "input": "+79999999999"},
    ]
    campaign_api.fail_next(status=422, json={"detail": detail})

    with pytest.raises(CampaignRejected) as caught:
        await campaign_client.create_campaign(campaign_request)

    assert caught.value.status == 422
    assert caught.value.message == "campaign.name: field required; phones.0.phone: bad phone"


async def test_rejected_with_plain_text(
    campaign_api: FakeCampaignApi,
    campaign_client: CampaignClient,
    campaign_request: CampaignRequest,
) -> None:
    campaign_api.fail_next(status=503, text="  Service   temporarily\nunavailable  ")

    with pytest.raises(CampaignRejected) as caught:
        await campaign_client.create_campaign(campaign_request)

    assert (caught.value.status, caught.value.message) == (503, "Service temporarily unavailable")


NGINX_502 = """<html>
<head><title>502 Bad Gateway</title></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx/1.25.3</center>
</body>
</html>
"""


async def test_rejected_with_html_error_page(
    campaign_api: FakeCampaignApi,
    campaign_client: CampaignClient,
    campaign_request: CampaignRequest,
) -> None:
    campaign_api.fail_next(status=502, text=NGINX_502, content_type="text/html")

    with pytest.raises(CampaignRejected) as caught:
        await campaign_client.create_campaign(campaign_request)

    assert caught.value.status == 502
    assert caught.value.message == "502 Bad Gateway nginx/1.25.3"
    assert "<" not in caught.value.message


async def test_rejected_message_is_trimmed(
    campaign_api: FakeCampaignApi,
    campaign_client: CampaignClient,
    campaign_request: CampaignRequest,
) -> None:
    campaign_api.fail_next(status=500, json={"message": "x" * 5000})

    with pytest.raises(CampaignRejected) as caught:
        await campaign_client.create_campaign(campaign_request)

    assert len(caught.value.message) == 300
    assert caught.value.message.endswith("…")


async def test_rejected_without_body_uses_reason_phrase(
    campaign_api: FakeCampaignApi,
    campaign_client: CampaignClient,
    campaign_request: CampaignRequest,
) -> None:
    campaign_api.fail_next(status=500, text="")

    with pytest.raises(CampaignRejected) as caught:
        await campaign_client.create_campaign(campaign_request)

    assert (caught.value.status, caught.value.message) == (500, "Internal Server Error")


async def test_redirect_is_not_followed(
    campaign_api: FakeCampaignApi,
    campaign_client: CampaignClient,
    campaign_request: CampaignRequest,
) -> None:
    location = campaign_api.base_url + "/campaigns/v2"
    campaign_api.fail_next(status=307, text="", headers={"Location": location})

    with pytest.raises(CampaignRejected) as caught:
        await campaign_client.create_campaign(campaign_request)

    assert caught.value.status == 307
    assert location in caught.value.message
    assert [r.path for r in campaign_api.requests] == ["/api/campaigns"]  # not resent


async def test_slow_answer_is_outcome_unknown_and_not_retried(
    campaign_api: FakeCampaignApi, make_client: MakeClient, campaign_request: CampaignRequest
) -> None:
    campaign_api.fail_next(delay=5.0)
    client = make_client(campaign_api.base_url, read_timeout=0.2)

    with pytest.raises(CampaignOutcomeUnknown) as caught:
        await client.create_campaign(campaign_request)

    assert "ReadTimeout" in caught.value.reason
    assert len(campaign_api.requests) == 1
    assert campaign_api.requests[0].json == orjson.loads(campaign_request.to_json())


async def test_slow_answer_within_read_timeout_succeeds(
    campaign_api: FakeCampaignApi, make_client: MakeClient, campaign_request: CampaignRequest
) -> None:
    campaign_api.fail_next(delay=0.1)
    client = make_client(campaign_api.base_url, read_timeout=2.0)

    assert await client.create_campaign(campaign_request) == 1
    assert len(campaign_api.requests) == 1


async def test_dropped_connection_is_outcome_unknown_and_not_retried(
    campaign_api: FakeCampaignApi,
    campaign_client: CampaignClient,
    campaign_request: CampaignRequest,
) -> None:
    campaign_api.fail_next(drop=True)

    with pytest.raises(CampaignOutcomeUnknown):
        await campaign_client.create_campaign(campaign_request)

    assert len(campaign_api.requests) == 1
    assert campaign_api.requests[0].json == orjson.loads(campaign_request.to_json())


async def test_connection_cut_mid_answer_is_outcome_unknown(
    campaign_api: FakeCampaignApi,
    campaign_client: CampaignClient,
    campaign_request: CampaignRequest,
) -> None:
    campaign_api.fail_next(partial=True)

    with pytest.raises(CampaignOutcomeUnknown) as caught:
        await campaign_client.create_campaign(campaign_request)

    assert "Error" in caught.value.reason
    assert len(campaign_api.requests) == 1


async def test_malformed_json_200_is_outcome_unknown(
    campaign_api: FakeCampaignApi,
    campaign_client: CampaignClient,
    campaign_request: CampaignRequest,
) -> None:
    campaign_api.fail_next(malformed=True)

    with pytest.raises(CampaignOutcomeUnknown) as caught:
        await campaign_client.create_campaign(campaign_request)

    assert "200" in caught.value.reason
    assert len(campaign_api.requests) == 1


@pytest.mark.parametrize(
    "payload",
    [
        {"campaign": {}},
        {"campaign": {"id": 0}},
        {"campaign": {"id": -3}},
        {"campaign": {"id": "12"}},
        {"campaign": {"id": True}},
        {"campaign": {"id": 1.5}},
        {"id": 12},
        [],
        None,
    ],
)
async def test_2xx_without_a_positive_id_is_outcome_unknown(
    campaign_api: FakeCampaignApi,
    campaign_client: CampaignClient,
    campaign_request: CampaignRequest,
    payload: Any,
) -> None:
    campaign_api.fail_next(status=200, json=payload)

    with pytest.raises(CampaignOutcomeUnknown):
        await campaign_client.create_campaign(campaign_request)

    assert len(campaign_api.requests) == 1


async def test_201_with_id_is_success(
    campaign_api: FakeCampaignApi,
    campaign_client: CampaignClient,
    campaign_request: CampaignRequest,
) -> None:
    campaign_api.fail_next(status=201, json={"campaign": {"id": 777, "state": "Создано"}})

    assert await campaign_client.create_campaign(campaign_request) == 777


async def test_no_id_shortcut_is_outcome_unknown(
    campaign_api: FakeCampaignApi,
    campaign_client: CampaignClient,
    campaign_request: CampaignRequest,
) -> None:
    campaign_api.fail_next(no_id=True)

    with pytest.raises(CampaignOutcomeUnknown):
        await campaign_client.create_campaign(campaign_request)
    assert len(campaign_api.requests) == 1


class CountingTransport(httpx.AsyncBaseTransport):
    """A real transport that counts how many times a request was attempted."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.attempts = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.attempts += 1
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_connection_refused_is_unreachable_after_bounded_retries(
    closed_port: int, make_client: MakeClient, campaign_request: CampaignRequest
) -> None:
    transport = CountingTransport()
    client = make_client(
        f"http://127.0.0.1:{closed_port}/api",
        connect_retries=3,
        backoff_base=0.01,
        backoff_max=0.02,
        transport=transport,
    )
    sleeps: list[float] = []

    async def record_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    client._sleep = record_sleep

    with pytest.raises(CampaignUnreachable) as caught:
        await client.create_campaign(campaign_request)

    assert transport.attempts == 4  # the first try and connect_retries=3 more
    assert sleeps == [0.01, 0.02, 0.02]  # exponential, capped at backoff_max
    assert "ConnectError" in caught.value.reason


async def test_no_retries_when_connect_retries_is_zero(
    closed_port: int, make_client: MakeClient, campaign_request: CampaignRequest
) -> None:
    transport = CountingTransport()
    client = make_client(
        f"http://127.0.0.1:{closed_port}/api", connect_retries=0, transport=transport
    )

    with pytest.raises(CampaignUnreachable):
        await client.create_campaign(campaign_request)
    assert transport.attempts == 1


async def test_unreachable_then_up_again_succeeds(
    closed_port: int, make_client: MakeClient, campaign_request: CampaignRequest
) -> None:
    """The retry really resends once the API is back: the fake starts during the backoff."""
    fake = FakeCampaignApi(port=closed_port)
    client = make_client(fake.base_url, connect_retries=3)

    async def start_during_backoff(seconds: float) -> None:
        if fake._runner is None:
            await fake.start()

    client._sleep = start_during_backoff
    try:
        assert await client.create_campaign(campaign_request) == 1
        assert len(fake.requests) == 1
    finally:
        await fake.stop()


async def test_pool_timeout_is_unreachable_and_nothing_is_sent(
    campaign_api: FakeCampaignApi, make_client: MakeClient, campaign_request: CampaignRequest
) -> None:
    campaign_api.fail_next(delay=1.0)
    client = make_client(
        campaign_api.base_url, max_connections=1, pool_timeout=0.1, connect_retries=1
    )

    slow = asyncio.create_task(client.create_campaign(campaign_request))
    for _ in range(200):  # bounded wait until the first request holds the only connection
        if campaign_api.requests:
            break
        await asyncio.sleep(0.01)
    with pytest.raises(CampaignUnreachable) as caught:
        await client.create_campaign(campaign_request)

    assert "PoolTimeout" in caught.value.reason
    assert len(campaign_api.requests) == 1  # only the slow one reached the API
    assert await slow == 1


@pytest.fixture
async def black_hole() -> AsyncIterator[int]:
    """A 127.0.0.1 server that accepts connections and never reads from them."""
    writers: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        for writer in writers:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_write_timeout_is_outcome_unknown(black_hole: int, make_client: MakeClient) -> None:
    # Far more than the loopback socket buffers hold, so the write blocks.
    phones = [{"phone": f"+7900{i:07d}", "add_data": {"n": "x" * 200}} for i in range(200_000)]
    request = build_request(
        project_id=1,
        start_block_id=1,
        phone_id=1,
        name="big",
        description="",
        date="2030-01-01",
        start_time="09:00",
        end_time="17:00",
        attempts=1,
        interval_minutes=5,
        phones=phones,
    )
    transport = CountingTransport()
    client = make_client(
        f"http://127.0.0.1:{black_hole}/api", write_timeout=0.2, transport=transport
    )

    with pytest.raises(CampaignOutcomeUnknown) as caught:
        await client.create_campaign(request)

    assert "WriteTimeout" in caught.value.reason
    assert transport.attempts == 1


async def test_logs_status_duration_and_count_but_no_token_or_phones(
    campaign_api: FakeCampaignApi,
    make_client: MakeClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    phones = ["+79161234567", "+79167654321", "+79031112233"]
    request = build_request(
        project_id=1,
        start_block_id=10,
        phone_id=5,
        name="n",
        description="",
        date="2030-01-01",
        start_time="09:00",
        end_time="17:00",
        attempts=2,
        interval_minutes=5,
        phones=[{"phone": p, "add_data": {}} for p in phones],
    )
    token = "tok-VERY-SECRET-123"
    campaign_api.require_token(token)
    client = make_client(campaign_api.base_url, token=token)
    caplog.set_level(logging.DEBUG)  # every logger, httpx and httpcore included

    assert await client.create_campaign(request) == 1
    # An API that echoes a number back in its error message.
    campaign_api.fail_next(status=422, json={"message": f"bad number {phones[1]}"})
    with pytest.raises(CampaignRejected) as caught:
        await client.create_campaign(request)
    assert phones[1] in caught.value.message  # the user may see it, the log may not

    ours = [r for r in caplog.records if r.name == "bot.campaigns"]
    text = "\n".join(r.getMessage() for r in ours)
    assert "-> 200" in text and "-> 422" in text
    assert "3 phones" in text
    assert " ms" in text
    everything = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert token not in everything
    for phone in phones:
        assert phone not in everything
        assert phone[1:] not in everything


async def test_client_as_context_manager_closes(
    campaign_api: FakeCampaignApi, campaign_request: CampaignRequest
) -> None:
    async with CampaignClient(campaign_api.base_url, connect_retries=0) as client:
        assert await client.create_campaign(campaign_request) == 1
    assert client.closed
