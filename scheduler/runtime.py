"""APScheduler wiring: a handful of system jobs in the server's event loop.

Schedules are data in the database; these jobs only execute what is due.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[object]]


class SchedulerRuntime:
    def __init__(self) -> None:
        self.scheduler = AsyncIOScheduler(timezone="UTC")

    def every(self, seconds: float, job: Job, name: str) -> None:
        """Run `job` every `seconds`; a run still going makes the next one skip."""

        async def guarded() -> None:
            try:
                await job()
            except Exception:  # a failing pass must not kill the job
                log.exception("scheduler job %s failed", name)

        self.scheduler.add_job(
            guarded,
            "interval",
            seconds=seconds,
            id=name,
            name=name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )

    def start(self) -> None:
        self.scheduler.start()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
