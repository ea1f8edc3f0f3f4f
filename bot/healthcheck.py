"""`python -m bot.healthcheck`: the container's health check (docker/Dockerfile).

Webhook mode: GET the health path beside the webhook's on 127.0.0.1:WEBHOOK_PORT, the same
path the server derives from the same settings. Polling mode has no server: healthy while
the process runs (a crash ends the container and `restart:` brings it back).
"""

from __future__ import annotations

import sys
import urllib.request

from bot.settings import Settings, load_settings_or_exit


def health_url(settings: Settings) -> str | None:
    """What the check GETs; None in polling mode (nothing to ask)."""
    if settings.webhook_url is None:
        return None
    return f"http://127.0.0.1:{settings.webhook_port}{settings.healthz_path}"


def main() -> int:
    url = health_url(load_settings_or_exit())
    if url is None:
        return 0
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            return 0 if response.status == 200 else 1
    except OSError as error:
        print(f"unhealthy: {url}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
