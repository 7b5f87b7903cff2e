"""`pulsecoach serve`: one aiohttp server, one event loop, until interrupted."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from bot.app import Pulsecoach, build_web_app
from bot.settings import Settings

log = logging.getLogger(__name__)


async def serve(
    settings: Settings, host: str | None = None, port: int | None = None, banner: str = ""
) -> None:
    app = Pulsecoach.build(settings)
    runner = web.AppRunner(build_web_app(app), access_log=None)
    await runner.setup()
    host = host or settings.host
    port = settings.port if port is None else port
    site = web.TCPSite(runner, host, port)
    await site.start()
    url = f"http://{host}:{port}/"
    print(f"pulsecoach {banner + ' ' if banner else ''}serving at {url}", flush=True)
    print(f"channels on: {', '.join(settings.enabled_channels())}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
