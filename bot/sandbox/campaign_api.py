"""A fake campaign API: a real HTTP server on 127.0.0.1 that checks bodies against
docs/campaign-api.md and can be switched into faults at run time.

In tests (same event loop)::

    async with FakeCampaignApi() as fake:
        client = CampaignClient(fake.base_url)      # e.g. http://127.0.0.1:PORT/api
        fake.fail_next(status=500, json={"error": "boom"})
        fake.requests[-1].json

From another thread or a sync test: ``with FakeCampaignApiThread() as fake: ...``.

By hand (prints the CAMPAIGN_API_URL to use)::

    python -m bot.sandbox.campaign_api --port 8081 [--token SECRET]

Out of process, the control endpoints (not under the API prefix):

    POST   /_fake/fault     {"status": 500, "json": {...}} | {"text": "...", "content_type": ...}
                            | {"delay": 2} | {"drop": true} | {"partial": true}
                            | {"malformed": true} | {"no_id": true}
                            ; "times": N (default 1) or "sticky": true
    DELETE /_fake/fault     clear all faults
    POST   /_fake/token     {"token": "s3cret", "header": "Authorization", "scheme": "Bearer"}
                            ({"token": null} stops requiring one)
    GET    /_fake/requests  the recorded requests, oldest first
    POST   /_fake/reset     faults, token requirement and recorded requests cleared
    GET    /_fake/health    {"ok": true, "base_url": ...}
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import re
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Self

import orjson
from aiohttp import web

_UNSET: Any = object()
MAX_BODY = 512 * 1024 * 1024  # big phone lists are legitimate
MAX_REPORTED_ERRORS = 20

E164 = re.compile(r"\+[1-9]\d{6,14}")
HHMM = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d")
YMD = re.compile(r"\d{4}-\d{2}-\d{2}")
DIGITS = re.compile(r"\d+")
PERIODS = {"id": 1, "title": "Однократно"}
CAMPAIGN_KEYS = {
    "project_id",
    "name",
    "description",
    "start_block_id",
    "schedule",
    "state",
    "phone_id",
}
SCHEDULE_KEYS = {"date", "start_time", "end_time", "periods", "attempts", "interval"}


# --- contract validation -----------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_body(body: Any) -> list[str]:
    """Every way `body` breaks the contract, as readable messages; [] when it is valid.

    Written from the document, independently of bot.campaigns.model, so that a mistake
    there is not mirrored here. Messages name indexes, never phone numbers.
    """
    errors: list[str] = []
    if not isinstance(body, dict):
        return ["body must be a JSON object"]
    for key in sorted(set(body) - {"campaign", "phones"}):
        errors.append(f"unknown field {key!r}")

    campaign = body.get("campaign")
    if not isinstance(campaign, dict):
        errors.append("campaign: required object")
    else:
        _check_campaign(campaign, errors)

    phones = body.get("phones")
    if not isinstance(phones, list):
        errors.append("phones: required array")
    elif not phones:
        errors.append("phones: must not be empty")
    else:
        for index, entry in enumerate(phones):
            _check_phone(index, entry, errors)
            if len(errors) > MAX_REPORTED_ERRORS:
                break
    return errors[:MAX_REPORTED_ERRORS]


def _check_campaign(campaign: dict[str, Any], errors: list[str]) -> None:
    for key in sorted(set(campaign) - CAMPAIGN_KEYS):
        errors.append(f"campaign.{key}: unknown field")
    for key in ("project_id", "start_block_id", "phone_id"):
        if key not in campaign:
            errors.append(f"campaign.{key}: required")
        elif not _is_int(campaign[key]) or campaign[key] <= 0:
            errors.append(f"campaign.{key}: must be a positive integer")
    for key in ("name", "description", "state"):
        if key in campaign and not isinstance(campaign[key], str):
            errors.append(f"campaign.{key}: must be a string")
    schedule = campaign.get("schedule")
    if not isinstance(schedule, dict):
        errors.append("campaign.schedule: required object")
        return
    for key in sorted(set(schedule) - SCHEDULE_KEYS):
        errors.append(f"campaign.schedule.{key}: unknown field")
    for key in sorted(SCHEDULE_KEYS - set(schedule)):
        errors.append(f"campaign.schedule.{key}: required")

    date = schedule.get("date")
    if "date" in schedule:
        if not isinstance(date, str) or not YMD.fullmatch(date):
            errors.append("campaign.schedule.date: must be YYYY-MM-DD")
        else:
            try:
                dt.date.fromisoformat(date)
            except ValueError:
                errors.append("campaign.schedule.date: not a real date")
    for key in ("start_time", "end_time"):
        value = schedule.get(key)
        if key in schedule and (not isinstance(value, str) or not HHMM.fullmatch(value)):
            errors.append(f"campaign.schedule.{key}: must be HH:MM")
    if "periods" in schedule and schedule["periods"] != PERIODS:
        errors.append('campaign.schedule.periods: must be {"id": 1, "title": "Однократно"}')
    if "attempts" in schedule:
        attempts = schedule["attempts"]
        if not isinstance(attempts, dict) or set(attempts) != {"id", "title"}:
            errors.append("campaign.schedule.attempts: must be {id, title}")
        elif not _is_int(attempts["id"]) or not 1 <= attempts["id"] <= 5:
            errors.append("campaign.schedule.attempts.id: must be an integer 1..5")
        elif attempts["title"] != str(attempts["id"]):
            errors.append("campaign.schedule.attempts.title: must equal the id as a string")
    if "interval" in schedule:
        interval = schedule["interval"]
        if not isinstance(interval, str) or not DIGITS.fullmatch(interval):
            errors.append("campaign.schedule.interval: must be minutes as a numeric string")


def _check_phone(index: int, entry: Any, errors: list[str]) -> None:
    where = f"phones[{index}]"
    if not isinstance(entry, dict):
        errors.append(f"{where}: must be an object")
        return
    for key in sorted(set(entry) - {"phone", "add_data"}):
        errors.append(f"{where}.{key}: unknown field")
    phone = entry.get("phone")
    if not isinstance(phone, str) or not E164.fullmatch(phone):
        errors.append(f"{where}.phone: must be an E.164 string")
    if "add_data" in entry:
        add_data = entry["add_data"]
        if not isinstance(add_data, dict):
            errors.append(f"{where}.add_data: must be an object")
            return
        for key, value in add_data.items():
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                errors.append(f"{where}.add_data.{key}: must be a string or a number")


# --- faults and records --------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """How to answer instead of normally. With only `delay`, answer normally after it."""

    status: int | None = None
    json: Any = _UNSET
    text: str | None = None
    body: bytes | None = None
    content_type: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False
    partial: bool = False  # 200 headers and half a body, then the connection is cut

    @classmethod
    def from_options(
        cls,
        *,
        status: int | None = None,
        json: Any = _UNSET,
        text: str | None = None,
        body: bytes | None = None,
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
        drop: bool = False,
        partial: bool = False,
        malformed: bool = False,
        no_id: bool = False,
    ) -> Fault:
        if malformed:  # a 200 that says JSON and is not
            status = status or 200
            body = b'{"campaign": {"id": 1'
            content_type = "application/json"
        if no_id:
            status = status or 200
            json = {"campaign": {}}
        if status is None and (json is not _UNSET or text is not None or body is not None):
            raise ValueError("a fault with a body needs a status")
        return cls(
            status=status,
            json=json,
            text=text,
            body=body,
            content_type=content_type,
            headers=dict(headers or {}),
            delay=delay,
            drop=drop,
            partial=partial,
        )

    def response(self) -> web.Response:
        assert self.status is not None
        if self.json is not _UNSET:
            return web.Response(
                status=self.status,
                body=orjson.dumps(self.json),
                content_type=self.content_type or "application/json",
                headers=self.headers,
            )
        if self.body is not None:
            return web.Response(
                status=self.status,
                body=self.body,
                content_type=self.content_type or "application/octet-stream",
                headers=self.headers,
            )
        return web.Response(
            status=self.status,
            text=self.text or "",
            content_type=self.content_type or "text/plain",
            headers=self.headers,
        )


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    json: Any  # the parsed body, or None when it was absent or not JSON
    raw_size: int
    query: dict[str, str] = field(default_factory=dict)
    # How the fake answered (None while it has not, or when it cut the connection).
    status: int | None = None
    response: Any = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _TokenRule:
    token: str
    header: str = "Authorization"
    scheme: str = "Bearer"

    @property
    def expected(self) -> str:
        return f"{self.scheme} {self.token}" if self.scheme else self.token


# --- the server ------------------------------------------------------------------------------


class FakeCampaignApi:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        prefix: str = "/api",
        token: str | None = None,
        first_id: int = 1,
    ) -> None:
        self.host = host
        self.port = port
        self.prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
        self.requests: list[RecordedRequest] = []
        self.next_id = first_id
        self.created: dict[int, Any] = {}  # id -> body, like campaigns the API now holds
        self._lock = threading.Lock()  # control methods may come from another thread
        self._once: deque[Fault] = deque()
        self._sticky: Fault | None = None
        self._token: _TokenRule | None = _TokenRule(token) if token else None
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._stopping: asyncio.Event | None = None

    # lifecycle

    @property
    def base_url(self) -> str:
        """What CAMPAIGN_API_URL should be; the client appends /campaigns."""
        return f"http://{self.host}:{self.port}{self.prefix}"

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> str:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_route("*", "/_fake/{action}", self._control)
        app.router.add_route("*", "/{tail:.*}", self._api)
        # Handlers are cancelled when the client goes away (a timed-out slow answer),
        # and shutdown does not wait for them.
        self._runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=0.5, access_log=None
        )
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, self.host, self.port)
        await self._site.start()
        self.port = self._runner.addresses[0][1]
        self._stopping = asyncio.Event()
        return self.base_url

    @property
    def online(self) -> bool:
        return self._site is not None

    async def go_offline(self) -> None:
        """Stop listening: connections are refused, as when the API is down (nothing can
        be sent). go_online() listens again on the same port."""
        if self._site is not None:
            await self._site.stop()
            self._site = None

    async def go_online(self) -> None:
        if self._site is None and self._runner is not None:
            self._site = web.TCPSite(self._runner, self.host, self.port)
            await self._site.start()

    async def stop(self) -> None:
        if self._stopping is not None:
            self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            self._site = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # control (Python)

    def fail_next(self, times: int = 1, **options: Any) -> Fault:
        """Answer the next `times` requests with this fault (queued after earlier ones)."""
        fault = Fault.from_options(**options)
        with self._lock:
            self._once.extend([fault] * times)
        return fault

    def set_fault(self, fault: Fault | None = None, **options: Any) -> Fault | None:
        """Answer every request with this fault until cleared (one-shot faults go first)."""
        if fault is None and options:
            fault = Fault.from_options(**options)
        with self._lock:
            self._sticky = fault
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self._once.clear()
            self._sticky = None

    def require_token(
        self, token: str | None, *, header: str = "Authorization", scheme: str = "Bearer"
    ) -> None:
        with self._lock:
            self._token = _TokenRule(token, header, scheme) if token else None

    def reset(self) -> None:
        """Back to a healthy, open API with no history; ids keep growing like a real one."""
        with self._lock:
            self._once.clear()
            self._sticky = None
            self._token = None
            self.requests.clear()
            self.created.clear()

    @property
    def campaign_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == self.prefix + "/campaigns"]

    def _take_fault(self) -> Fault | None:
        with self._lock:
            if self._once:
                return self._once.popleft()
            return self._sticky

    # HTTP

    async def _api(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        parsed: Any = None
        if raw:
            with contextlib.suppress(orjson.JSONDecodeError):
                parsed = orjson.loads(raw)
        record = RecordedRequest(
            method=request.method,
            path=request.path,
            # str(): aiohttp's istr keys are a str subclass orjson refuses.
            headers={str(k): v for k, v in request.headers.items()},
            json=parsed,
            raw_size=len(raw),
            query={str(k): v for k, v in request.query.items()},
        )
        with self._lock:
            self.requests.append(record)
        response = await self._answer(request, raw, parsed)
        record.status = response.status
        if isinstance(response, web.Response) and response.body is not None:
            body = bytes(response.body)  # type: ignore[arg-type]
            try:
                record.response = orjson.loads(body)
            except orjson.JSONDecodeError:
                record.response = body[:1000].decode("utf-8", "replace")
        return response

    async def _answer(self, request: web.Request, raw: bytes, parsed: Any) -> web.StreamResponse:

        if request.path.rstrip("/") != self.prefix + "/campaigns":
            return _json_response(404, {"message": "Not Found"})
        if request.method != "POST":
            return _json_response(405, {"message": "Method Not Allowed"}, {"Allow": "POST"})

        fault = self._take_fault()
        if fault is not None:
            if fault.delay > 0:
                await self._sleep(fault.delay)
            if fault.drop:
                # Read the request, then vanish without a byte of answer.
                assert request.transport is not None
                request.transport.abort()
                raise asyncio.CancelledError  # aiohttp then sends nothing on this socket
            if fault.partial:
                return await self._cut_answer(request)
            if fault.status is not None:
                return fault.response()

        with self._lock:
            rule = self._token
        if rule is not None and request.headers.get(rule.header) != rule.expected:
            return _json_response(401, {"message": "Unauthorized: missing or invalid token"})

        if request.content_type != "application/json":
            return _json_response(415, {"message": "Content-Type must be application/json"})
        if raw and parsed is None:
            return _json_response(422, {"message": "body is not valid JSON"})
        errors = validate_body(parsed)
        if errors:
            return _json_response(422, {"message": "; ".join(errors), "errors": errors})

        with self._lock:
            campaign_id = self.next_id
            self.next_id += 1
            self.created[campaign_id] = parsed
        return _json_response(200, {"campaign": {"id": campaign_id}})

    async def _cut_answer(self, request: web.Request) -> web.StreamResponse:
        """Start a 200 answer, send part of it, and drop the connection mid-answer."""
        body = orjson.dumps({"campaign": {"id": self.next_id}})
        response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        response.content_length = len(body)
        await response.prepare(request)
        await response.write(body[: len(body) // 2])
        await asyncio.sleep(0.05)  # let the half reach the client before the cut
        assert request.transport is not None
        request.transport.abort()
        raise asyncio.CancelledError

    async def _sleep(self, seconds: float) -> None:
        assert self._stopping is not None
        # Ends early on stop() so a slow answer never holds up shutdown.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _control(self, request: web.Request) -> web.Response:
        action = request.match_info["action"]
        method = request.method
        data: Any = {}
        if method in {"POST", "PUT"} and request.can_read_body:
            try:
                data = orjson.loads(await request.read() or b"{}")
            except orjson.JSONDecodeError:
                return _json_response(400, {"message": "control body must be JSON"})
            if not isinstance(data, dict):
                return _json_response(400, {"message": "control body must be an object"})

        if action == "fault" and method == "POST":
            data = dict(data)
            sticky = bool(data.pop("sticky", False))
            times = int(data.pop("times", 1))
            if isinstance(data.get("body"), str):
                data["body"] = data["body"].encode()
            try:
                if sticky:
                    self.set_fault(**data)
                else:
                    self.fail_next(times, **data)
            except (TypeError, ValueError) as exc:
                return _json_response(400, {"message": str(exc)})
            return _json_response(200, {"ok": True})
        if action == "fault" and method == "DELETE":
            self.clear_faults()
            return _json_response(200, {"ok": True})
        if action == "token" and method == "POST":
            self.require_token(
                data.get("token"),
                header=data.get("header", "Authorization"),
                scheme=data.get("scheme", "Bearer"),
            )
            return _json_response(200, {"ok": True})
        if action == "requests" and method == "GET":
            with self._lock:
                records = [r.to_dict() for r in self.requests]
            return _json_response(200, {"requests": records})
        if action == "reset" and method == "POST":
            self.reset()
            return _json_response(200, {"ok": True})
        if action == "health" and method == "GET":
            return _json_response(200, {"ok": True, "base_url": self.base_url})
        return _json_response(404, {"message": f"no control {method} /_fake/{action}"})


def _json_response(
    status: int, payload: Any, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.Response(
        status=status,
        body=orjson.dumps(payload),
        content_type="application/json",
        headers=headers,
    )


class FakeCampaignApiThread:
    """The fake on its own event loop in a daemon thread: for sync tests, or tests that
    block (subprocess.run) while a bot process talks to the fake."""

    def __init__(self, **options: Any) -> None:
        self.fake = FakeCampaignApi(**options)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> FakeCampaignApi:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.fake.start(), self._loop).result(timeout=10)
        return self.fake

    def __exit__(self, *exc_info: object) -> None:
        asyncio.run_coroutine_threadsafe(self.fake.stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


# --- command line ------------------------------------------------------------------------------


async def _serve(args: argparse.Namespace) -> None:
    fake = FakeCampaignApi(host=args.host, port=args.port, prefix=args.prefix, token=args.token)
    await fake.start()
    print(f"fake campaign API listening; use CAMPAIGN_API_URL={fake.base_url}", flush=True)
    print(f"control: {fake.root_url}/_fake/{{fault,token,requests,reset,health}}", flush=True)
    try:
        await asyncio.Event().wait()  # until Ctrl-C
    finally:
        await fake.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake campaign API for local runs and tests")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    parser.add_argument("--prefix", default="/api", help="path prefix of the base URL")
    parser.add_argument("--token", default=None, help="require this bearer token")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
