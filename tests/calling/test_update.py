"""The registry updater against a local HTTP server on 127.0.0.1."""

from __future__ import annotations

import email.utils
import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from bot.calling import PlanCache
from bot.calling.update import update_registry

from .registry_files import write_registry

PUBLISHED = "Tue, 01 Dec 2026 06:00:00 GMT"


class _Handler(http.server.BaseHTTPRequestHandler):
    files: ClassVar[dict[str, bytes]] = {}
    seen: ClassVar[list[tuple[str, str | None]]] = []

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("If-Modified-Since")))
        if self.path == "/html/DEF-9xx.csv":
            body = b"<html><body>Service unavailable</body></html>"
            self._send(200, body)
            return
        body = self.files.get(self.path)
        if body is None:
            self._send(404, b"not found")
            return
        since = self.headers.get("If-Modified-Since")
        if since and email.utils.parsedate_to_datetime(since) >= \
                email.utils.parsedate_to_datetime(PUBLISHED):
            self.send_response(304)
            self.end_headers()
            return
        self._send(200, body, modified=PUBLISHED)

    def _send(self, status: int, body: bytes, modified: str | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        if modified:
            self.send_header("Last-Modified", modified)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:  # keep the test output clean
        pass


@pytest.fixture
def registry_server(tmp_path: Path) -> Iterator[str]:
    source = write_registry(tmp_path / "published")
    _Handler.files = {f"/downloads/{p.name}": p.read_bytes() for p in source.glob("*.csv")}
    _Handler.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_update_fetches_checks_and_dates_the_files(tmp_path: Path, registry_server: str):
    target = tmp_path / "plan"
    urls = [f"{registry_server}/downloads/DEF-9xx.csv",
            f"{registry_server}/downloads/ABC-3xx.csv"]
    outcomes = update_registry(target, urls)
    assert [(o.name, o.status) for o in outcomes] == [
        ("DEF-9xx.csv", "updated"), ("ABC-3xx.csv", "updated")
    ]
    plan = PlanCache(target).get()
    assert plan is not None and len(plan) == 8
    assert plan.date.isoformat() == "2026-12-01"  # the server's Last-Modified
    assert sorted(p.name for p in target.iterdir()) == ["ABC-3xx.csv", "DEF-9xx.csv"]

    # Again: the server says 304 to If-Modified-Since, the files stay as they are.
    again = update_registry(target, urls)
    assert [o.status for o in again] == ["unchanged", "unchanged"]
    assert all(since is not None for _, since in _Handler.seen[-2:])


def test_a_bad_download_never_replaces_a_good_file(tmp_path: Path, registry_server: str):
    target = write_registry(tmp_path / "plan")
    before = (target / "DEF-9xx.csv").read_bytes()
    os.utime(target / "DEF-9xx.csv", (0, 0))  # old, so that the server would send it
    outcomes = update_registry(target, [
        f"{registry_server}/html/DEF-9xx.csv",
        f"{registry_server}/downloads/ABC-4xx.csv",
        f"{registry_server}/downloads/not-a-table.txt",
    ])
    assert [o.status for o in outcomes] == ["failed", "failed", "failed"]
    assert "region" in outcomes[0].detail or "column" in outcomes[0].detail
    assert outcomes[1].detail == "HTTP 404"
    assert (target / "DEF-9xx.csv").read_bytes() == before
    assert not [p for p in target.iterdir() if p.name.startswith(".")]  # no .part left


def test_update_command_exit_codes(tmp_path: Path, registry_server: str) -> None:
    env = {**os.environ, "NUMBERING_PLAN_DIR": str(tmp_path / "plan")}
    ok = subprocess.run(
        [sys.executable, "-m", "bot.calling.update", "--url",
         f"{registry_server}/downloads/DEF-9xx.csv"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == "DEF-9xx.csv: updated (7 ranges)"
    bad = subprocess.run(
        [sys.executable, "-m", "bot.calling.update", "--url",
         f"{registry_server}/html/DEF-9xx.csv"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert bad.returncode == 1 and "failed" in bad.stdout
    env.pop("NUMBERING_PLAN_DIR")
    missing = subprocess.run([sys.executable, "-m", "bot.calling.update"], env=env,
                             capture_output=True, text=True, timeout=60, check=False)
    assert missing.returncode == 2
