"""APScheduler wiring: a handful of system jobs in the server's event loop.

Schedules are data in the database; these jobs only execute what is due. Every
process sends (outbox claims do not collide); only the leader runs the rest.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.core.metrics import JOB_SKIPS, LEADER
from scheduler.runtime.leader import LeaderLock

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class SystemJob:
    name: str
    seconds: float
    run: Job


class SchedulerRuntime:
    def __init__(self) -> None:
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self.stopping = False  # shutting down: no job starts a new run
        self.runs: set[asyncio.Task[object]] = set()  # the runs under way

    def every(self, job: SystemJob, start_now: bool = False) -> None:
        """Run the job every `seconds`; a run still going makes the next tick a no-op.

        The skip is ours, not APScheduler's: with max_instances=1 APScheduler logs a
        warning for every tick that finds the job running (each second of a
        ten-minute drain). Two instances allowed, the second returns at once and is
        counted (pulsecoach_job_ticks_skipped_total); coalesce folds ticks missed
        while the loop was busy into one."""
        running = False

        async def guarded() -> None:
            nonlocal running
            if running or self.stopping:
                JOB_SKIPS.labels(job.name).inc()
                return
            running = True
            task = asyncio.current_task()
            if task is not None:
                self.runs.add(task)
            try:
                await job.run()
            except Exception:  # a failing pass must not kill the job
                log.exception("scheduler job %s failed", job.name)
            finally:
                running = False
                self.runs.discard(task)

        self.scheduler.add_job(
            guarded,
            "interval",
            seconds=job.seconds,
            id=job.name,
            name=job.name,
            max_instances=2,
            coalesce=True,
            misfire_grace_time=None,
            replace_existing=True,
            **({"next_run_time": datetime.now(UTC)} if start_now else {}),
        )

    def has(self, name: str) -> bool:
        return self.scheduler.get_job(name) is not None

    def remove(self, name: str) -> None:
        if self.has(name):
            self.scheduler.remove_job(name)

    def lead(
        self, lock: LeaderLock, probe_seconds: float, leader_jobs: Sequence[SystemJob]
    ) -> None:
        """Probe the lock every `probe_seconds`; run `leader_jobs` only while holding it.
        On taking over, the jobs run at once: catch-up starts without waiting."""

        async def follow() -> None:
            leading = await lock.probe()
            running = all(self.has(job.name) for job in leader_jobs)
            if leading and not running:
                for job in leader_jobs:
                    self.every(job, start_now=True)
            elif not leading and running:
                for job in leader_jobs:
                    self.remove(job.name)
            LEADER.set(1 if leading else 0)

        self.every(SystemJob("leadership", probe_seconds, follow), start_now=True)

    def start(self) -> None:
        self.scheduler.start()

    def hold(self) -> None:
        """No job starts a new run; the runs under way go on (see `finish`)."""
        self.stopping = True
        if self.scheduler.running:
            self.scheduler.pause()

    def shutdown(self) -> None:
        """Stop the scheduler. Its executor cancels the runs still under way: `hold`
        and `finish` first for a graceful stop."""
        self.stopping = True
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        LEADER.set(0)

    async def finish(self, seconds: float) -> int:
        """Wait up to `seconds` for the runs under way (a dispatch pass, a roster
        read), then cancel the rest; how many were cancelled."""
        if self.runs:
            await asyncio.wait(list(self.runs), timeout=seconds)
        late = [task for task in self.runs if not task.done()]
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
        return len(late)
