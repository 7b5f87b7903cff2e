"""Circuit breakers for the language model: after it failed for want of an answer
(timeouts, unreachable, an HTTP error after the retries; not a bad answer), summaries
skip it for a cool-down and fall back at once, so the digests of N teams due together
do not each wait out the retry bound.

`SharedBreaker` keeps the state in the database (`model_breaker`), so every process —
the server, the scheduler, each `pulsecoach digest …` run from cron — skips a model
that stopped answering; bot/app.py gives it to the adapter. `LocalBreaker` keeps it in
the process (an adapter built without a database, e.g. in tests).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

from handlers.digests.summarizer import SummarySkipped
from scheduler.calendar.clock import Clock
from storage.core.db import Database
from storage.digests import breaker as breaker_rows


def skipped(why: str, since: datetime, until: datetime) -> SummarySkipped:
    return SummarySkipped(
        f"the language model was skipped: it stopped answering at {since:%d %b %H:%M} UTC "
        f"({why}); it is asked again from {until:%H:%M} UTC"
    )


class Breaker(Protocol):
    cooldown: float

    async def check(self) -> None:
        """Raise `SummarySkipped` (saying since when and why) while the breaker is open."""

    async def trip(self, why: str) -> None: ...

    async def reset(self) -> None: ...


class SharedBreaker:
    """The breaker as a database row per endpoint and model."""

    def __init__(self, db: Database, clock: Clock, key: str, cooldown: float) -> None:
        self.db, self.clock, self.key, self.cooldown = db, clock, key[:300], cooldown
        self._open = False  # this process saw it open or tripped it: reset on success

    async def check(self) -> None:
        async with self.db.session() as session:
            row = await breaker_rows.state(session, self.key)
        if row is None:
            return
        self._open = True
        if row.open_until > self.clock.now():
            raise skipped(row.reason, row.tripped_at, row.open_until)

    async def trip(self, why: str) -> None:
        now = self.clock.now()
        until = now + timedelta(seconds=self.cooldown)
        async with self.db.session() as session:
            await breaker_rows.trip(session, self.key, now, until, why)
        self._open = True

    async def reset(self) -> None:
        if not self._open:
            return  # the common case costs no write
        async with self.db.session() as session:
            await breaker_rows.reset(session, self.key)
        self._open = False


class LocalBreaker:
    """The breaker in this process only."""

    def __init__(self, cooldown: float) -> None:
        self.cooldown = cooldown
        self.open_until = 0.0
        self.why = ""
        self.since: datetime | None = None

    async def check(self) -> None:
        if time.monotonic() < self.open_until and self.since is not None:
            left = timedelta(seconds=self.open_until - time.monotonic())
            raise skipped(self.why, self.since, datetime.now(self.since.tzinfo) + left)

    async def trip(self, why: str) -> None:
        self.open_until = time.monotonic() + self.cooldown
        self.why, self.since = why, datetime.now(UTC)

    async def reset(self) -> None:
        self.open_until, self.why, self.since = 0.0, "", None


_LOCAL: dict[tuple[str, str], LocalBreaker] = {}


def local_breaker(base_url: str, model: str, cooldown: float) -> LocalBreaker:
    """One breaker per endpoint and model for the process: it must outlive an adapter."""
    found = _LOCAL.setdefault((base_url, model), LocalBreaker(cooldown))
    found.cooldown = cooldown
    return found
