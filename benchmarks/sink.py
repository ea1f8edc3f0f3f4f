"""A byte sink on 127.0.0.1 for the submission benchmark: reads a POST body, discards it,
answers `{"campaign": {"id": 1}}`. Separates the bot's cost from the fake API's own work.

    python -m benchmarks.sink   # prints its CAMPAIGN_API_URL, serves until terminated
"""

from __future__ import annotations

import asyncio

from aiohttp import web


async def _campaigns(request: web.Request) -> web.Response:
    async for _chunk in request.content.iter_any():
        pass
    return web.json_response({"campaign": {"id": 1}})


async def _serve() -> None:
    app = web.Application(client_max_size=1 << 30)
    app.router.add_post("/api/campaigns", _campaigns)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    print(f"byte sink listening; use CAMPAIGN_API_URL=http://127.0.0.1:{port}/api", flush=True)
    await asyncio.Event().wait()  # until terminated


if __name__ == "__main__":
    asyncio.run(_serve())
