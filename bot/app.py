"""Assembles pulsecoach: database, clock, handlers, channels, scheduler, HTTP server."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from aiohttp import web

from bot import metrics
from bot.local import api as local_api
from bot.local.channel import LocalMessenger
from bot.messenger import Messenger
from bot.settings import Settings
from handlers.context import Services
from handlers.pulse_close import close_due_rounds
from handlers.router import Router
from prompts.instruments import load_instruments
from scheduler.clock import Clock, SystemClock
from scheduler.runtime import SchedulerRuntime
from scheduler.sender import Sender
from storage.db import Database

log = logging.getLogger(__name__)


@dataclass
class Pulsecoach:
    """Everything one process runs, built once from the settings."""

    settings: Settings
    db: Database
    clock: Clock
    services: Services
    router: Router
    sender: Sender
    messengers: dict[str, Messenger] = field(default_factory=dict)

    @classmethod
    def build(cls, settings: Settings, clock: Clock | None = None) -> Pulsecoach:
        db = Database(settings.effective_database_url)
        clock = clock or SystemClock()
        dirs = [d for d in settings.instrument_dirs.split(":") if d]
        services = Services(db=db, clock=clock, instruments=load_instruments(dirs))
        messengers: dict[str, Messenger] = {"local": LocalMessenger(db)}
        return cls(
            settings=settings,
            db=db,
            clock=clock,
            services=services,
            router=Router(services),
            sender=Sender(db, clock, messengers),
            messengers=messengers,
        )

    def system_jobs(self, runtime: SchedulerRuntime) -> None:
        runtime.every(1.0, self.sender.drain, "drain-outbox")
        runtime.every(30.0, lambda: close_due_rounds(self.services), "close-rounds")


PULSECOACH_KEY: web.AppKey[Pulsecoach] = web.AppKey("pulsecoach", Pulsecoach)


async def healthz(request: web.Request) -> web.Response:
    app = request.app[PULSECOACH_KEY]
    revision = await app.db.current_revision()
    return web.json_response(
        {"status": "ok", "schema": revision, "channels": app.settings.enabled_channels()}
    )


async def metrics_endpoint(request: web.Request) -> web.Response:
    return web.Response(body=metrics.exposition(), content_type="text/plain", charset="utf-8")


def build_web_app(app: Pulsecoach, run_scheduler: bool = True) -> web.Application:
    web_app = web.Application()
    web_app[PULSECOACH_KEY] = app
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/metrics", metrics_endpoint)
    local_api.setup(web_app, app.db, app.router)
    runtime = SchedulerRuntime()

    async def on_startup(_: web.Application) -> None:
        await app.db.upgrade()
        if run_scheduler:
            app.system_jobs(runtime)
            runtime.start()
        log.info("channels on: %s", ", ".join(app.settings.enabled_channels()))

    async def on_cleanup(_: web.Application) -> None:
        runtime.shutdown()
        await app.db.dispose()

    web_app.on_startup.append(on_startup)
    web_app.on_cleanup.append(on_cleanup)
    return web_app
