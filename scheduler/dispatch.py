"""The dispatcher: one pass runs every schedule entry that is due, through the
handler of its kind, and moves the entry to its next occurrence."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from scheduler.clock import Clock
from storage import schedule
from storage.db import Database
from storage.schedule_models import ScheduleEntry

log = logging.getLogger(__name__)
RETRY_AFTER_ERROR = timedelta(minutes=5)


@dataclass(frozen=True)
class Fired:
    """What a kind handler did, and when the subject is due next."""

    outcome: str
    next_due: datetime | None
    next_occurrence: str | None


KindHandler = Callable[[ScheduleEntry, datetime], Awaitable[Fired]]


@dataclass
class PassReport:
    fired: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


class Dispatcher:
    def __init__(
        self, db: Database, clock: Clock, kinds: Mapping[str, KindHandler], batch: int = 200
    ) -> None:
        self.db = db
        self.clock = clock
        self.kinds = kinds
        self.batch = batch

    async def run_once(self) -> PassReport:
        """Everything due now. Handlers are idempotent per occurrence, so an entry that
        fires again after a crash (before its move was committed) does no harm."""
        report = PassReport()
        while True:
            now = self.clock.now()
            async with self.db.session() as session:
                due = await schedule.claim_due(session, now, self.batch)
                for entry in due:
                    await self._fire(entry, now, report)
                    session.add(entry)
            if len(due) < self.batch:
                return report

    async def _fire(self, entry: ScheduleEntry, now: datetime, report: PassReport) -> None:
        name = f"{entry.kind}:{entry.subject_id}@{entry.occurrence}"
        handler = self.kinds.get(entry.kind)
        entry.last_run_at = now
        if handler is None:
            entry.due_at, entry.last_outcome = None, f"no handler for kind {entry.kind!r}"
            report.failed.append(name)
            return
        try:
            fired = await handler(entry, now)
        except Exception as error:  # one broken subject must not stop the others
            log.exception("schedule entry %s failed", name)
            entry.due_at = now + RETRY_AFTER_ERROR
            entry.last_outcome = f"error: {error}"[:300]
            report.failed.append(name)
            return
        entry.due_at, entry.occurrence = fired.next_due, fired.next_occurrence
        entry.last_outcome = fired.outcome[:300]
        report.fired.append(f"{name}: {fired.outcome}")
