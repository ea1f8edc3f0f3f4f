"""Fetch the numbering-plan registry files into NUMBERING_PLAN_DIR.

    python -m bot.calling.update [--dir DIR] [--url URL ...]

Each file is downloaded beside the old one, checked to be a registry table (header and
at least one range), then put in its place in one rename: a cut download or a page of
HTML never replaces a good file. The file's date is set to the server's Last-Modified,
which is the date the bot shows; an unchanged file (304 to If-Modified-Since) is kept.
Runs without the bot's other settings (no token needed), e.g. monthly from cron.
"""

from __future__ import annotations

import argparse
import email.utils
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from .registry import REGISTRY_FILES, RegistryFormatError, parse_registry

# Where the registry is published as open data (one file per numbering range).
DEFAULT_BASE_URL = "https://opendata.digital.gov.ru/downloads/"
DEFAULT_URLS = tuple(DEFAULT_BASE_URL + name for name in REGISTRY_FILES)
MAX_BYTES = 256 * 1024 * 1024  # the biggest file (ABC-3xx..DEF-9xx) is a few tens of MB


@dataclass(frozen=True, slots=True)
class Outcome:
    name: str
    status: str  # "updated" | "unchanged" | "failed"
    detail: str = ""


def _file_name(url: str) -> str:
    name = Path(urlsplit(url).path).name
    if not name.lower().endswith(".csv"):
        raise ValueError(f"{url}: not a .csv file")
    return name


def _fetch_one(client: httpx.Client, url: str, directory: Path) -> Outcome:
    try:
        name = _file_name(url)
    except ValueError as exc:
        return Outcome(url, "failed", str(exc))
    target = directory / name
    part = directory / f".{name}.part"
    headers = {}
    if target.is_file():
        headers["If-Modified-Since"] = email.utils.formatdate(
            target.stat().st_mtime, usegmt=True
        )
    try:
        with client.stream("GET", url, headers=headers) as response:
            if response.status_code == 304:
                return Outcome(name, "unchanged")
            if response.status_code != 200:
                return Outcome(name, "failed", f"HTTP {response.status_code}")
            size = 0
            with part.open("wb") as fp:
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > MAX_BYTES:
                        raise ValueError(f"larger than {MAX_BYTES // 2**20} MB")
                    fp.write(chunk)
            modified = response.headers.get("Last-Modified")
        ranges = parse_registry(part.read_bytes())
        if not ranges:
            raise RegistryFormatError("no number ranges in it")
        stamp = time.time()
        if modified:
            parsed = email.utils.parsedate_to_datetime(modified)
            stamp = parsed.timestamp()
        os.utime(part, (stamp, stamp))
        os.replace(part, target)
        return Outcome(name, "updated", f"{len(ranges)} ranges")
    except (httpx.HTTPError, OSError, ValueError) as exc:
        return Outcome(name, "failed", str(exc) or type(exc).__name__)
    finally:
        part.unlink(missing_ok=True)


def update_registry(
    directory: Path, urls: Sequence[str] = DEFAULT_URLS, *, timeout: float = 120.0
) -> list[Outcome]:
    """Fetch each URL into `directory`; one outcome per URL (a failure leaves the file
    that was there). A command, not the bot: blocking I/O is what it should do."""
    directory.mkdir(parents=True, exist_ok=True)
    with httpx.Client(timeout=timeout, follow_redirects=True) as client:
        return [_fetch_one(client, url, directory) for url in urls]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.calling.update", description=__doc__)
    parser.add_argument("--dir", default=os.environ.get("NUMBERING_PLAN_DIR"))
    parser.add_argument(
        "--url", action="append", help="a registry file's URL (repeat; default: all four)"
    )
    args = parser.parse_args(argv)
    if not args.dir:
        print("set NUMBERING_PLAN_DIR or pass --dir", file=sys.stderr)
        return 2
    env_urls = [u for u in os.environ.get("NUMBERING_PLAN_URLS", "").split() if u]
    urls = args.url or env_urls or list(DEFAULT_URLS)
    outcomes = update_registry(Path(args.dir), urls)
    for o in outcomes:
        print(f"{o.name}: {o.status}" + (f" ({o.detail})" if o.detail else ""))
    return 1 if any(o.status == "failed" for o in outcomes) else 0


if __name__ == "__main__":
    raise SystemExit(main())
