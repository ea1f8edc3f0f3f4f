"""Client details that need no server: transport errors mapped to outcomes, settings."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from bot.campaigns.client import CampaignClient, redact_phones, shorten
from bot.campaigns.errors import (
    CampaignError,
    CampaignOutcomeUnknown,
    CampaignUnreachable,
)
from bot.campaigns.model import CampaignRequest
from bot.settings import Settings


def raising(exc: Exception) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        raise exc

    return httpx.MockTransport(handler), seen


@pytest.mark.parametrize(
    ("exc", "outcome", "tries"),
    [
        (httpx.ConnectError("[Errno -2] Name or service not known"), CampaignUnreachable, 3),
        (httpx.ConnectTimeout("timed out"), CampaignUnreachable, 3),
        (httpx.PoolTimeout("no connection"), CampaignUnreachable, 3),
        (httpx.WriteTimeout("timed out"), CampaignOutcomeUnknown, 1),
        (httpx.WriteError("broken pipe"), CampaignOutcomeUnknown, 1),
        (httpx.ReadTimeout("timed out"), CampaignOutcomeUnknown, 1),
        (httpx.ReadError("connection reset"), CampaignOutcomeUnknown, 1),
        (httpx.RemoteProtocolError("peer closed"), CampaignOutcomeUnknown, 1),
    ],
)
async def test_transport_errors_map_to_outcomes(
    exc: Exception,
    outcome: type[CampaignError],
    tries: int,
    campaign_request: CampaignRequest,
    make_client: Callable[..., CampaignClient],
) -> None:
    transport, seen = raising(exc)
    client = make_client("http://127.0.0.1:9/api", connect_retries=2, transport=transport)

    with pytest.raises(outcome):
        await client.create_campaign(campaign_request)
    assert len(seen) == tries  # only "nothing was sent" is retried


async def test_body_is_the_request_json_bytes(
    campaign_request: CampaignRequest, make_client: Callable[..., CampaignClient]
) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"campaign": {"id": 9}})

    client = make_client("http://127.0.0.1:9/api/", transport=httpx.MockTransport(handler))
    assert await client.create_campaign(campaign_request) == 9
    assert seen[0].content == campaign_request.to_json()
    assert str(seen[0].url) == "http://127.0.0.1:9/api/campaigns"


def test_backoff_is_exponential_and_capped() -> None:
    client = CampaignClient("http://127.0.0.1:9", backoff_base=0.5, backoff_max=5.0)
    assert [client.backoff(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]


def test_from_settings_uses_every_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token="123:abc",
        campaign_project_id=1,
        campaign_start_block_id=2,
        campaign_phone_id=3,
        campaign_api_url="http://127.0.0.1:8081/api",
        campaign_api_token="s3cret",
        campaign_api_auth_header="X-Token",
        campaign_api_auth_scheme="Token",
        campaign_api_connect_timeout=1.5,
        campaign_api_read_timeout=61,
        campaign_api_write_timeout=31,
        campaign_api_pool_timeout=2.5,
        campaign_api_connect_retries=4,
    )
    client = CampaignClient.from_settings(settings)

    assert client.url == "http://127.0.0.1:8081/api/campaigns"
    assert client.connect_retries == 4
    http = client._http
    assert http.headers["X-Token"] == "Token s3cret"
    assert "Authorization" not in http.headers
    assert http.timeout == httpx.Timeout(connect=1.5, read=61, write=31, pool=2.5)
    assert http.follow_redirects is False
    assert "s3cret" not in repr(client)


def test_no_token_means_no_auth_header() -> None:
    client = CampaignClient("http://127.0.0.1:9", token=None)
    assert "Authorization" not in client._http.headers


def test_shorten_and_redact() -> None:
    assert shorten("a  b\n c") == "a b c"
    long = shorten("y" * 400)
    assert len(long) == 300 and long.endswith("…")
    redacted = redact_phones("bad +79161234567 and 79031112233")
    assert redacted == "bad +7916***4567 and 79031***2233"
    assert redact_phones("date 2026-01-01 at 09:00") == "date 2026-01-01 at 09:00"
