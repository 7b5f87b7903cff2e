"""The composition root: database, clock, services, features, channels, scheduler and
the HTTP server, wired once from the settings. The only module that knows them all."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial

from aiohttp import web

from bot import collector, ops
from bot import local as local_channel
from bot import slack as slack_channel
from bot import teams as teams_channel
from bot.channel import Channel, ChannelEntry, Wiring
from bot.charts import chart_images, mount_charts
from bot.core.messenger import Messenger
from bot.essentials import Essentials
from bot.settings import Settings
from handlers.router import FEATURES, Router
from scheduler.calendar.clock import Clock
from scheduler.runtime.dispatch import BatchHandler, Dispatcher, KindHandler
from scheduler.runtime.jobs import SchedulerRuntime, SystemJob
from scheduler.runtime.leader import LeaderLock
from scheduler.runtime.leases import LaneLeases
from scheduler.runtime.sender import Sender
from storage.core import outbox

log = logging.getLogger(__name__)

# Every chat channel pulsecoach knows; each turns itself on from the settings.
CHANNELS: tuple[ChannelEntry, ...] = (
    local_channel.ENTRY,
    slack_channel.ENTRY,
    teams_channel.ENTRY,
)


@dataclass
class Pulsecoach(Essentials):
    """Everything one process runs, built once from the settings."""

    router: Router
    sender: Sender
    dispatcher: Dispatcher
    lock: LeaderLock
    channels: list[Channel] = field(default_factory=list)
    messengers: dict[str, Messenger] = field(default_factory=dict)

    @classmethod
    def build(
        cls, settings: Settings, clock: Clock | None = None, channels: bool = True
    ) -> Pulsecoach:
        """`channels=False`: no chat channel is built (CLI commands that only read or
        queue: the outbox is delivered by a running server)."""
        core = Essentials.build(settings, clock)
        db, clock, services = core.db, core.clock, core.services
        kinds: dict[str, KindHandler] = {}
        batches: dict[str, BatchHandler] = {}
        for feature in FEATURES:
            for scheduled in feature.scheduled:
                kinds[scheduled.kind] = partial(scheduled.fire, services)
                if scheduled.fire_many is not None:
                    batches[scheduled.kind] = partial(scheduled.fire_many, services)
        lock = LeaderLock(db)
        router = Router(services)
        messengers: dict[str, Messenger] = {}
        built = cls(
            settings=settings,
            db=db,
            clock=clock,
            services=services,
            router=router,
            sender=Sender(
                db, clock, messengers, leases=LaneLeases(db, settings.lane_lease_seconds)
            ),
            dispatcher=Dispatcher(db, clock, kinds, batches=batches),
            lock=lock,
            messengers=messengers,
        )
        if channels:
            wiring = Wiring(settings, db, clock, services, router, lock, chart_images(services))
            for entry in CHANNELS:
                if entry.enabled(settings):
                    channel = entry.build(wiring)
                    built.channels.append(channel)
                    messengers[channel.messenger.channel] = channel.messenger
        return built

    def system_jobs(self, runtime: SchedulerRuntime) -> None:
        """Every process sends; only the leader plans, opens, closes, purges and runs
        the channels' jobs."""
        settings = self.settings
        runtime.every(SystemJob("send-outbox", settings.send_seconds, self.sender.drain))
        leader_jobs = [
            SystemJob("dispatch-due", settings.dispatch_seconds, self.dispatcher.run_once),
            SystemJob("purge-expired", 3600.0, self.purge),
        ]
        for feature in FEATURES:
            for job in feature.jobs:
                leader_jobs.append(
                    SystemJob(job.name, job.seconds, partial(job.run, self.services))
                )
        for channel in self.channels:
            leader_jobs.extend(channel.system_jobs())
        runtime.lead(self.lock, settings.leader_probe_seconds, leader_jobs)

    async def purge(self) -> int:
        """Drop finished outbox rows past the retention period."""
        cutoff = self.clock.now() - timedelta(days=self.settings.retention_days)
        async with self.db.session() as session:
            return await outbox.purge_finished(session, cutoff)


PULSECOACH_KEY: web.AppKey[Pulsecoach] = web.AppKey("pulsecoach", Pulsecoach)


async def healthz(request: web.Request) -> web.Response:
    status, body = await ops.health(request.app[PULSECOACH_KEY])
    return web.json_response(body, status=status)


async def metrics_endpoint(request: web.Request) -> web.Response:
    body = await ops.exposition(request.app[PULSECOACH_KEY])
    return web.Response(body=body, content_type="text/plain", charset="utf-8")


def build_web_app(app: Pulsecoach, run_scheduler: bool = True) -> web.Application:
    web_app = web.Application(middlewares=[ops.count_requests])
    web_app[PULSECOACH_KEY] = app
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/metrics", metrics_endpoint)
    mount_charts(web_app, app.services)
    runtime = SchedulerRuntime()

    async def on_startup(_: web.Application) -> None:
        await app.db.upgrade()
        if run_scheduler:
            app.system_jobs(runtime)
            runtime.start()
        log.info("channels on: %s", ", ".join(app.settings.enabled_channels()))

    async def on_shutdown(_: web.Application) -> None:
        await ops.stop_work(app, runtime)  # before the channels close their clients

    async def on_cleanup(_: web.Application) -> None:
        await ops.release_all(app)

    web_app.on_startup.append(on_startup)
    web_app.on_shutdown.append(on_shutdown)
    web_app.on_cleanup.append(on_cleanup)
    for channel in app.channels:  # after: their clean-up runs before the database closes
        channel.mount(web_app)

    async def settle_collector(_: web.Application) -> None:
        collector.settle()  # last: after every channel's startup has loaded its part

    web_app.on_startup.append(settle_collector)
    return web_app
