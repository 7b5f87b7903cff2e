"""`pulsecoach serve`: one aiohttp server, one event loop, until SIGTERM or SIGINT.

A stop is graceful and bounded (PULSECOACH_SHUTDOWN_SECONDS): the listening socket
closes, no scheduler job starts again, the outbox drain hands back what it has not
sent, requests under way get a few seconds to finish, the leader lock is released
and SQLite's -wal file checkpointed away (bot/ops.py)."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from bot.app import Pulsecoach, build_web_app
from bot.settings import Settings

log = logging.getLogger(__name__)


async def serve(
    settings: Settings, host: str | None = None, port: int | None = None, banner: str = ""
) -> int:
    """Serve until asked to stop; 0 when the stop was clean within its bound, 1 if not."""
    app = Pulsecoach.build(settings)
    requests_grace = min(5.0, settings.shutdown_seconds * 0.2)
    runner = web.AppRunner(build_web_app(app), access_log=None, shutdown_timeout=requests_grace)
    stop = asyncio.Event()
    signals: list[str] = []

    def asked(sig: signal.Signals) -> None:
        signals.append(sig.name)
        stop.set()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, asked, sig)
    await runner.setup()
    host = host or settings.host
    port = settings.port if port is None else port
    site = web.TCPSite(runner, host, port)
    await site.start()
    url = f"http://{host}:{port}/"
    print(f"pulsecoach {banner + ' ' if banner else ''}serving at {url}", flush=True)
    print(f"channels on: {', '.join(settings.enabled_channels())}", flush=True)
    try:
        await stop.wait()
    except BaseException:  # cancelled from outside: still close what we opened
        await runner.cleanup()
        raise
    return await _stop(runner, settings, signals[0])


async def _stop(runner: web.AppRunner, settings: Settings, why: str) -> int:
    log.info(
        "stopping (%s): finishing what is under way",
        why,
        extra={"event": "server.stopping", "bound_seconds": settings.shutdown_seconds},
    )
    started = asyncio.get_running_loop().time()
    try:
        async with asyncio.timeout(settings.shutdown_seconds):
            await runner.cleanup()
    except TimeoutError:
        log.error(
            "the stop took longer than %.0f s: exiting anyway",
            settings.shutdown_seconds,
            extra={"event": "server.stopped", "clean": False},
        )
        return 1
    seconds = asyncio.get_running_loop().time() - started
    log.info(
        "stopped in %.1f s",
        seconds,
        extra={"event": "server.stopped", "clean": True, "seconds": round(seconds, 3)},
    )
    return 0
