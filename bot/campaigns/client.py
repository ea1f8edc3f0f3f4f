"""HTTP client for POST {base}/campaigns, with outcomes typed for the dialog.

One `CampaignClient` (one pooled `httpx.AsyncClient`) per process; close it on shutdown.

Outcome rules (see docs/campaign-api.md):
- 2xx with a positive integer `campaign.id` -> the id;
- any other status (3xx included: a redirected POST could be resent) -> CampaignRejected;
- nothing was sent (DNS, refused, connect or pool timeout) -> retried with backoff, then
  CampaignUnreachable;
- the request may have reached the server (write/read timeout, dropped connection, a 2xx
  we cannot read an id from) -> CampaignOutcomeUnknown, never retried: a resend could
  create the campaign twice.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self

import httpx
import orjson

from bot.campaigns.errors import (
    CampaignOutcomeUnknown,
    CampaignRejected,
    CampaignUnreachable,
)
from bot.campaigns.model import CampaignRequest, mask_phone

if TYPE_CHECKING:
    from types import TracebackType

    from bot.settings import Settings

logger = logging.getLogger("bot.campaigns")

MESSAGE_LIMIT = 300
# An error page bigger than this is not read further: only its start is shown anyway.
ERROR_BODY_LIMIT = 64 * 1024
# A success answer is `{"campaign": {"id": N}}`; anything huge is not that.
SUCCESS_BODY_LIMIT = 1024 * 1024
USER_AGENT = "campaign-bot/0.1"
BIG_LIST = 20_000

# Errors raised before any byte of the request left this process.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError)
# Errors where we cannot tell how much of the request the server got, or whether it acted.
_MAYBE_SENT = (
    httpx.WriteTimeout,
    httpx.WriteError,
    httpx.ReadTimeout,
    httpx.ReadError,
    httpx.RemoteProtocolError,
    httpx.LocalProtocolError,
    httpx.DecodingError,
)


class CampaignClient:
    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        auth_header: str = "Authorization",
        auth_scheme: str = "Bearer",
        connect_timeout: float = 5.0,
        read_timeout: float = 60.0,
        write_timeout: float = 30.0,
        pool_timeout: float = 5.0,
        connect_retries: int = 3,
        backoff_base: float = 0.5,
        backoff_max: float = 5.0,
        max_connections: int = 10,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if connect_retries < 0:
            raise ValueError("connect_retries must be >= 0")
        self.url = base_url.rstrip("/") + "/campaigns"
        self.connect_retries = connect_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._sleep = asyncio.sleep  # tests swap it to observe the backoff
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if token:
            scheme = auth_scheme.strip()
            headers[auth_header] = f"{scheme} {token}" if scheme else token
        self._http = httpx.AsyncClient(
            headers=headers,
            timeout=httpx.Timeout(
                connect=connect_timeout,
                read=read_timeout,
                write=write_timeout,
                pool=pool_timeout,
            ),
            limits=httpx.Limits(max_connections=max_connections),
            # A redirected POST may be resent by the client: never follow, report instead.
            follow_redirects=False,
            transport=transport,
        )

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> CampaignClient:
        token = settings.campaign_api_token
        options: dict[str, Any] = {
            "token": token.get_secret_value() if token is not None else None,
            "auth_header": settings.campaign_api_auth_header,
            "auth_scheme": settings.campaign_api_auth_scheme,
            "connect_timeout": settings.campaign_api_connect_timeout,
            "read_timeout": settings.campaign_api_read_timeout,
            "write_timeout": settings.campaign_api_write_timeout,
            "pool_timeout": settings.campaign_api_pool_timeout,
            "connect_retries": settings.campaign_api_connect_retries,
        }
        options.update(overrides)
        return cls(str(settings.campaign_api_url), **options)

    def __repr__(self) -> str:  # never shows the token
        return f"CampaignClient({self.url!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def closed(self) -> bool:
        return self._http.is_closed

    def backoff(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (1-based): exponential, capped."""
        return min(self.backoff_max, self.backoff_base * (2 ** (retry - 1)))

    async def create_campaign(self, request: CampaignRequest) -> int:
        """POST the campaign; return its id or raise one of the CampaignError subclasses."""
        phones = len(request.phones)
        # Serializing a list of a million numbers takes long enough to stall the bot's loop.
        if phones > BIG_LIST:
            body = await asyncio.to_thread(request.to_json)
        else:
            body = request.to_json()
        attempts = self.connect_retries + 1
        for attempt in range(1, attempts + 1):
            try:
                return await self._post_once(body, phones, attempt)
            except CampaignUnreachable as exc:
                if attempt == attempts:
                    logger.warning(
                        "campaign API unreachable, giving up after %d attempts: %s",
                        attempts,
                        exc.reason,
                    )
                    raise
                delay = self.backoff(attempt)
                logger.warning(
                    "campaign API unreachable (attempt %d/%d, retry in %.2fs): %s",
                    attempt,
                    attempts,
                    delay,
                    exc.reason,
                )
                await self._sleep(delay)
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    async def _post_once(self, body: bytes, phones: int, attempt: int) -> int:
        started = time.monotonic()
        try:
            async with self._http.stream(
                "POST",
                self.url,
                content=body,
                headers={"Content-Type": "application/json"},
            ) as response:
                status = response.status_code
                ok = 200 <= status < 300
                limit = SUCCESS_BODY_LIMIT if ok else ERROR_BODY_LIMIT
                try:
                    raw = await _read_limited(response, limit)
                except _MAYBE_SENT as exc:
                    if ok:
                        raise
                    # The status already says the API refused; a lost error body changes nothing.
                    raw = b""
                    logger.debug("error body unreadable: %s", _describe(exc))
        except _NOT_SENT as exc:
            reason = _describe(exc)
            logger.info(
                "POST /campaigns not sent in %.0f ms, %d phones, attempt %d: %s",
                _ms(started),
                phones,
                attempt,
                reason,
            )
            raise CampaignUnreachable(reason) from exc
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            # A misconfigured URL: nothing can be sent; retrying would not help, but it is
            # bounded and harmless, so it is reported as unreachable like a DNS failure.
            raise CampaignUnreachable(_describe(exc)) from exc
        except _MAYBE_SENT as exc:
            reason = _describe(exc)
            logger.warning(
                "POST /campaigns outcome unknown after %.0f ms, %d phones: %s",
                _ms(started),
                phones,
                reason,
            )
            raise CampaignOutcomeUnknown(reason) from exc
        except httpx.HTTPError as exc:
            # Anything else httpx may raise mid-exchange: assume the worst, never resend.
            raise CampaignOutcomeUnknown(_describe(exc)) from exc

        duration = _ms(started)
        if not ok:
            message = _error_message(response, raw)
            logger.warning(
                "POST /campaigns -> %d in %.0f ms, %d phones: %s",
                status,
                duration,
                phones,
                redact_phones(message),
            )
            raise CampaignRejected(status, message)

        campaign_id = _campaign_id(raw)
        if campaign_id is None:
            logger.warning(
                "POST /campaigns -> %d in %.0f ms, %d phones, but no campaign id in %d bytes",
                status,
                duration,
                phones,
                len(raw),
            )
            raise CampaignOutcomeUnknown(f"HTTP {status} without a campaign id in the answer")
        logger.info(
            "POST /campaigns -> %d in %.0f ms, %d phones, campaign id %d",
            status,
            duration,
            phones,
            campaign_id,
        )
        return campaign_id


async def _read_limited(response: httpx.Response, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)[:limit]


def _ms(started: float) -> float:
    return (time.monotonic() - started) * 1000


def _describe(exc: Exception) -> str:
    text = str(exc).strip()
    name = type(exc).__name__
    return f"{name}: {text}" if text else name


def _campaign_id(raw: bytes) -> int | None:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    campaign = data.get("campaign") if isinstance(data, dict) else None
    value = campaign.get("id") if isinstance(campaign, dict) else None
    # bool is an int subclass; `true` is not an id.
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None


# --- the API's own error message --------------------------------------------------------

_MESSAGE_KEYS = ("message", "error", "detail", "error_description", "errors", "title")
_TAG = re.compile(r"<[^>]*>")
_SKIPPED_BLOCK = re.compile(r"<(script|style|head)\b[^>]*>.*?</\1\s*>", re.I | re.S)
_TITLE = re.compile(r"<title\b[^>]*>(.*?)</title\s*>", re.I | re.S)
_SPACE = re.compile(r"\s+")
_PHONE_LIKE = re.compile(r"\+\d{7,15}\b|\b\d{10,15}\b")


def _error_message(response: httpx.Response, raw: bytes) -> str:
    status = response.status_code
    if 300 <= status < 400:
        location = response.headers.get("location")
        text = f"redirect to {location}" if location else "redirect"
        return shorten(text)
    text = ""
    if raw:
        decoded = raw.decode(response.encoding or "utf-8", "replace")
        try:
            # JSON without a known key still says more than the reason phrase: show it raw.
            text = _message_from_json(orjson.loads(raw)) or decoded
        except orjson.JSONDecodeError:
            text = _message_from_text(decoded)
    if not text:
        text = response.reason_phrase or f"HTTP {status}"
    return shorten(text)


def _message_from_json(data: Any, depth: int = 0) -> str:
    if depth > 4:  # a pathological nesting; do not recurse forever
        return ""
    if isinstance(data, str):
        return data.strip()
    if isinstance(data, bool) or data is None:
        return ""
    if isinstance(data, int | float):
        return str(data)
    if isinstance(data, list):
        parts = [_message_from_json(item, depth + 1) for item in data]
        return "; ".join(part for part in parts if part)
    if isinstance(data, Mapping):
        # FastAPI/pydantic: {"loc": [...], "msg": "...", "type": "..."}
        if isinstance(data.get("msg"), str):
            loc = [str(p) for p in data.get("loc") or () if p != "body"]
            msg = data["msg"].strip()
            return f"{'.'.join(loc)}: {msg}" if loc else msg
        for key in _MESSAGE_KEYS:
            if key in data:
                found = _message_from_json(data[key], depth + 1)
                if found:
                    return found
        return ""
    return ""


def _message_from_text(text: str) -> str:
    if "<" in text and ">" in text and _TAG.search(text):
        title = _TITLE.search(text)
        body = _SKIPPED_BLOCK.sub(" ", text)
        body = html.unescape(_TAG.sub("\n", body))
        # nginx repeats "502 Bad Gateway" in <title> and <h1>: keep each line once.
        seen: list[str] = []
        for line in body.splitlines():
            line = _SPACE.sub(" ", line).strip()
            if line and line not in seen:
                seen.append(line)
        text = " ".join(seen)
        if not text and title:
            text = html.unescape(title.group(1))
    return _SPACE.sub(" ", text).strip()


def shorten(text: str, limit: int = MESSAGE_LIMIT) -> str:
    text = _SPACE.sub(" ", text).strip()
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


def redact_phones(text: str) -> str:
    """The API may echo a number in its message; logs must not carry it."""
    return _PHONE_LIKE.sub(lambda m: mask_phone(re.sub(r"[^\d+]", "", m.group())), text)
