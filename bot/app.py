"""Assembles pulsecoach: database, clock, handlers, channels, scheduler, HTTP server."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aiohttp import web

from bot import collector
from bot.charts import setup_charts
from bot.core import metrics
from bot.core.messenger import Messenger
from bot.local import api as local_api
from bot.local.channel import LocalMessenger
from bot.settings import Settings
from bot.slack.mount import mount_slack, slack_messenger
from handlers.commitments import schedule as commitment_schedule
from handlers.context import Services
from handlers.contracts import schedule as contract_schedule
from handlers.digests import schedule as digest_schedule
from handlers.digests.commands import digest_options
from handlers.pulse import schedule as pulse_schedule
from handlers.pulse.close import close_due_rounds
from handlers.router import Router
from prompts.instruments import load_instruments
from scheduler.calendar.clock import Clock, SystemClock
from scheduler.runtime.dispatch import Dispatcher, Fired, KindHandler
from scheduler.runtime.jobs import SchedulerRuntime, SystemJob
from scheduler.runtime.leader import LeaderLock
from scheduler.runtime.sender import Sender
from storage.core import outbox
from storage.core.db import Database
from storage.core.schedule_models import ScheduleEntry

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
    dispatcher: Dispatcher
    lock: LeaderLock
    messengers: dict[str, Messenger] = field(default_factory=dict)

    @classmethod
    def build(cls, settings: Settings, clock: Clock | None = None) -> Pulsecoach:
        db = Database(settings.effective_database_url)
        clock = clock or SystemClock()
        dirs = [d for d in settings.instrument_dirs.split(":") if d]
        services = Services(db=db, clock=clock, instruments=load_instruments(dirs))
        messengers: dict[str, Messenger] = {"local": LocalMessenger(db)}

        async def fire_pulse(entry: ScheduleEntry, now: datetime) -> Fired:
            return await pulse_schedule.fire(services, entry, now)

        async def fire_pulses(
            entries: Sequence[ScheduleEntry], now: datetime
        ) -> list[Fired | Exception]:
            return await pulse_schedule.fire_many(services, entries, now)

        async def fire_commitment(entry: ScheduleEntry, now: datetime) -> Fired:
            return await commitment_schedule.fire(services, entry, now)

        async def fire_contract(entry: ScheduleEntry, now: datetime) -> Fired:
            return await contract_schedule.fire(services, entry, now)

        async def fire_digest(entry: ScheduleEntry, now: datetime) -> Fired:
            async with digest_options(settings) as options:
                return await digest_schedule.fire(services, entry, now, options)

        kinds: dict[str, KindHandler] = {
            pulse_schedule.KIND: fire_pulse,
            commitment_schedule.KIND: fire_commitment,
            contract_schedule.KIND: fire_contract,
            digest_schedule.KIND: fire_digest,
        }
        lock = LeaderLock(db)  # also the sender's: only the leader sends paced lanes
        built = cls(
            settings=settings,
            db=db,
            clock=clock,
            services=services,
            router=Router(services),
            sender=Sender(db, clock, messengers, leader=lock),
            dispatcher=Dispatcher(db, clock, kinds, batches={pulse_schedule.KIND: fire_pulses}),
            lock=lock,
            messengers=messengers,
        )
        if (slack := slack_messenger(built)) is not None:
            messengers["slack"] = slack
        return built

    def system_jobs(self, runtime: SchedulerRuntime) -> None:
        """Every process sends; only the leader plans, opens, closes and purges."""
        settings = self.settings
        runtime.every(SystemJob("send-outbox", settings.send_seconds, self.sender.drain))
        runtime.lead(
            self.lock,
            settings.leader_probe_seconds,
            [
                SystemJob(
                    "plan-schedules", 300.0, lambda: pulse_schedule.reschedule_all(self.services)
                ),
                SystemJob("dispatch-due", settings.dispatch_seconds, self.dispatcher.run_once),
                SystemJob("close-rounds", 30.0, lambda: close_due_rounds(self.services)),
                SystemJob("purge-expired", 3600.0, self.purge),
            ],
        )

    async def purge(self) -> int:
        """Drop finished outbox rows past the retention period."""
        cutoff = self.clock.now() - timedelta(days=self.settings.retention_days)
        async with self.db.session() as session:
            return await outbox.purge_finished(session, cutoff)


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
    if app.settings.local_enabled:
        local_api.setup(web_app, app.db, app.router)
    setup_charts(web_app, app)
    runtime = SchedulerRuntime()

    async def on_startup(_: web.Application) -> None:
        await app.db.upgrade()
        if run_scheduler:
            app.system_jobs(runtime)
            runtime.start()
        log.info("channels on: %s", ", ".join(app.settings.enabled_channels()))

    async def on_cleanup(_: web.Application) -> None:
        runtime.shutdown()
        await app.lock.release()
        await app.db.dispose()

    web_app.on_startup.append(on_startup)
    web_app.on_cleanup.append(on_cleanup)
    mount_slack(web_app, app)  # after: its cleanup runs before the database closes

    async def settle_collector(_: web.Application) -> None:
        collector.settle()  # last: after every channel's startup has loaded its part

    web_app.on_startup.append(settle_collector)
    return web_app
