"""An operator's view of a running server: /healthz, /metrics (with the backlog read
at scrape time), HTTP requests counted by route, and the graceful stop's steps."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.core import metrics
from storage.core import outbox, schedule

if TYPE_CHECKING:
    from bot.app import Pulsecoach
    from scheduler.runtime.jobs import SchedulerRuntime

log = logging.getLogger(__name__)

# /healthz and /metrics read the database; a hung server must not hang the probe.
PROBE_SECONDS = 3.0
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def route_of(request: web.Request) -> str:
    """The matched resource's pattern (`/api/local/{handle}/say`), never the raw path:
    one series per route, whatever the URLs asked for."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def count_requests(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    status = "500"
    try:
        response = await handler(request)
        status = str(response.status)
        return response
    except web.HTTPException as error:
        status = str(error.status)
        raise
    except asyncio.CancelledError:
        status = "499"  # the client went away first
        raise
    finally:
        route = route_of(request)
        method = request.method if request.method in _METHODS else "OTHER"
        metrics.HTTP_REQUESTS.labels(method, route, status).inc()
        metrics.HTTP_SECONDS.labels(route).observe(time.perf_counter() - started)


def _unreachable(error: BaseException) -> str:
    """Why the database did not answer, in a line (the driver's own words name the
    host and port, never the password)."""
    cause = getattr(error, "orig", None) or error.__cause__ or error
    words = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
    return f"database unreachable: {type(cause).__name__}{': ' + words[:200] if words else ''}"


async def health(app: Pulsecoach) -> tuple[int, dict[str, Any]]:
    """503 while the database does not answer; a missing scheduler leader is reported
    (status "degraded") but answered 200: this process still serves requests, and
    another process takes the lock within a probe interval."""
    body: dict[str, Any] = {"status": "ok", "schema": None, "leader": None}
    try:
        async with asyncio.timeout(PROBE_SECONDS):
            body["schema"] = await app.db.current_revision()
            if app.lock.held:
                body["leader"] = "this process"
            elif await app.lock.anyone_leads():
                body["leader"] = "another process"
    except Exception as error:  # whatever the driver raises: the answer is the same
        reason = (
            f"database unreachable: no answer within {PROBE_SECONDS:g} s"
            if isinstance(error, TimeoutError)
            else _unreachable(error)
        )
        body.update(status="unavailable", reason=reason)
        body["channels"] = app.settings.enabled_channels()
        return 503, body
    if body["leader"] is None:
        body.update(status="degraded", reason="no process holds the scheduler lock")
    body["channels"] = app.settings.enabled_channels()
    return 200, body


async def refresh_backlog(app: Pulsecoach) -> None:
    """The gauges a scrape reads from the database: due schedule entries, due outbox
    messages by channel, and how long the oldest has waited. Two grouped reads."""
    now = app.clock.now()
    async with asyncio.timeout(PROBE_SECONDS), app.db.session() as session:
        due = await schedule.due_count(session, now)
        by_channel, oldest = await outbox.due_backlog(session, now)
    metrics.SCHEDULE_DUE.set(due)
    for channel in set(app.messengers) | set(by_channel):
        metrics.OUTBOX_DUE.labels(channel).set(by_channel.get(channel, 0))
    waited = (now - oldest).total_seconds() if oldest is not None else 0.0
    metrics.OUTBOX_OLDEST_DUE.set(max(0.0, waited))


async def exposition(app: Pulsecoach) -> bytes:
    try:
        await refresh_backlog(app)
    except Exception as error:  # the process figures are still worth answering with
        log.warning("metrics: could not read the backlog: %s", _unreachable(error))
    return metrics.exposition()


async def stop_work(app: Pulsecoach, runtime: SchedulerRuntime) -> None:
    """The first step of a graceful stop (the listening sockets are closed already):
    no scheduler job starts again, the outbox drain hands back what it has not sent
    and its lanes' leases, the other runs finish (or are cancelled when late); then
    the scheduler stops (its executor would cancel runs still going: hence last)."""
    runtime.hold()
    budget = app.settings.shutdown_seconds * 0.5
    if not await app.sender.stop(budget):
        log.warning(
            "the outbox drain did not stop within %.0f s: cancelled (its claims return "
            "after their lease)",
            budget,
            extra={"event": "server.drain_cancelled"},
        )
    if cancelled := await runtime.finish(app.settings.shutdown_seconds * 0.2):
        log.warning(
            "%d scheduler runs did not finish in time: cancelled",
            cancelled,
            extra={"event": "server.jobs_cancelled", "count": cancelled},
        )
    runtime.shutdown()


async def release_all(app: Pulsecoach) -> None:
    """The last step: the leader lock released (another process leads at its next
    probe), SQLite's -wal emptied into the database, connections closed."""
    try:
        await app.lock.release()
    except Exception as error:  # its connection gone: PostgreSQL released it already
        log.warning("could not release the scheduler lock: %s", _unreachable(error))
    try:
        await app.db.checkpoint()
    except Exception as error:
        log.warning("could not checkpoint the database: %s", _unreachable(error))
    await app.aclose()
