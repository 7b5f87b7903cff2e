"""The dispatcher: one pass runs every schedule entry that is due, through the
handler of its kind, and moves the entry to its next occurrence."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.core.metrics import DISPATCHED, LAST_DISPATCH
from scheduler.calendar.clock import Clock
from scheduler.calendar.fired import Fired
from storage.core import schedule
from storage.core.db import Database
from storage.core.schedule_models import ScheduleEntry

log = logging.getLogger(__name__)
RETRY_AFTER_ERROR = timedelta(minutes=5)


KindHandler = Callable[[ScheduleEntry, datetime], Awaitable[Fired]]
# Many entries of one kind at once: a result (or the error) for each, in order.
BatchHandler = Callable[[Sequence[ScheduleEntry], datetime], Awaitable[Sequence[Fired | Exception]]]


@dataclass
class PassReport:
    fired: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


class Dispatcher:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        kinds: Mapping[str, KindHandler],
        batch: int = 200,
        batches: Mapping[str, BatchHandler] | None = None,
    ) -> None:
        """`batches`: kinds whose due entries are fired together, so that their cost
        follows what is due, not the number of entries (one by one should that fail)."""
        self.db = db
        self.clock = clock
        self.kinds = kinds
        self.batch = batch
        self.batches = batches or {}

    async def run_once(self) -> PassReport:
        """Everything due now. Handlers are idempotent per occurrence, so an entry that
        fires again after a crash (before its move was committed) does no harm."""
        report = PassReport()
        while True:
            now = self.clock.now()
            async with self.db.session() as session:
                due = await schedule.claim_due(session, now, self.batch)
                by_kind: dict[str, list[ScheduleEntry]] = {}
                for entry in due:
                    by_kind.setdefault(entry.kind, []).append(entry)
                for kind, entries in by_kind.items():
                    await self._fire_kind(kind, entries, now, report)
                session.add_all(due)
            if len(due) < self.batch:
                LAST_DISPATCH.set_to_current_time()
                DISPATCHED.labels("fired").inc(len(report.fired))
                DISPATCHED.labels("failed").inc(len(report.failed))
                return report

    async def _fire_kind(
        self, kind: str, entries: list[ScheduleEntry], now: datetime, report: PassReport
    ) -> None:
        results: Sequence[Fired | Exception] | None = None
        if (together := self.batches.get(kind)) is not None:
            try:
                results = await together(entries, now)
            except Exception as error:
                log.exception("firing %d %s entries together failed", len(entries), kind)
                if kind not in self.kinds:  # nothing to fall back on: retried soon
                    results = [error] * len(entries)
        if results is None:
            for entry in entries:
                await self._fire(entry, now, report)
            return
        for entry, result in zip(entries, results, strict=True):
            self._record(entry, now, result, report)

    async def _fire(self, entry: ScheduleEntry, now: datetime, report: PassReport) -> None:
        handler = self.kinds.get(entry.kind)
        if handler is None:
            self._record(entry, now, None, report)
            return
        try:
            fired: Fired | Exception = await handler(entry, now)
        except Exception as error:  # one broken subject must not stop the others
            fired = error
        self._record(entry, now, fired, report)

    @staticmethod
    def _record(
        entry: ScheduleEntry, now: datetime, fired: Fired | Exception | None, report: PassReport
    ) -> None:
        """Move the entry on: to its next occurrence, or retried soon after an error."""
        name = f"{entry.kind}:{entry.subject_id}@{entry.occurrence}"
        entry.last_run_at = now
        if fired is None:
            entry.due_at, entry.last_outcome = None, f"no handler for kind {entry.kind!r}"
            report.failed.append(name)
        elif isinstance(fired, Exception):
            log.error("schedule entry %s failed", name, exc_info=fired)
            entry.due_at = now + RETRY_AFTER_ERROR
            entry.last_outcome = f"error: {fired}"[:300]
            report.failed.append(name)
        else:
            entry.due_at, entry.occurrence = fired.next_due, fired.next_occurrence
            entry.last_outcome = fired.outcome[:300]
            report.fired.append(f"{name}: {fired.outcome}")
