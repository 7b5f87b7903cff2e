"""When a person may be messaged: working days and hours, quiet hours, holidays,
leave and snooze, in their own time zone."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from scheduler.calendar.timeparse import (
    ALL_DAYS,
    DAY_SECONDS,
    ScheduleError,
    check_wall_time,
    seconds_of_day,
)

# --------------------------------------------------------------------------- availability


@dataclass(frozen=True)
class Availability:
    """When a person may be messaged. Times are local wall times in `tz`.

    `work_start`/`work_end` (both or neither; None = any time of day) and
    `quiet_start`/`quiet_end` (both or neither; may wrap midnight) limit the time of day;
    `work_days` (0 = Monday), `holidays` and `leave` (inclusive date ranges) limit days.
    """

    tz: ZoneInfo
    work_days: frozenset[int] = frozenset(range(5))
    work_start: time | None = time(9, 0)
    work_end: time | None = time(18, 0)
    quiet_start: time | None = time(20, 0)
    quiet_end: time | None = time(8, 0)
    holidays: frozenset[date] = frozenset()
    snoozed_until: datetime | None = None
    leave: tuple[tuple[date, date], ...] = ()
    # Allowed seconds-of-day as [start, end) intervals; derived, so not part of equality.
    _windows: tuple[tuple[int, int], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.tz, ZoneInfo):
            raise ScheduleError(f"tz must be a ZoneInfo (got {self.tz!r}); see resolve_timezone")
        days = frozenset(self.work_days)
        if not days or not days <= ALL_DAYS:
            raise ScheduleError(f"work_days must be a non-empty set of 0..6 (got {sorted(days)})")
        object.__setattr__(self, "work_days", days)
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "leave", self._checked_leave(self.leave))
        if self.snoozed_until is not None:
            if self.snoozed_until.tzinfo is None or self.snoozed_until.utcoffset() is None:
                raise ScheduleError("snoozed_until must be a timezone-aware datetime")
            object.__setattr__(self, "snoozed_until", self.snoozed_until.astimezone(UTC))
        object.__setattr__(self, "_windows", self._allowed_windows())

    @classmethod
    def anytime(
        cls,
        tz: ZoneInfo,
        *,
        holidays: frozenset[date] = frozenset(),
        snoozed_until: datetime | None = None,
        leave: tuple[tuple[date, date], ...] = (),
    ) -> Availability:
        """Every day, any hour, no quiet hours: only DST, holidays, snooze and leave apply."""
        return cls(
            tz,
            work_days=ALL_DAYS,
            work_start=None,
            work_end=None,
            quiet_start=None,
            quiet_end=None,
            holidays=holidays,
            snoozed_until=snoozed_until,
            leave=leave,
        )

    @staticmethod
    def _checked_leave(leave: Iterable[tuple[date, date]]) -> tuple[tuple[date, date], ...]:
        ranges = tuple((first, last) for first, last in leave)
        for first, last in ranges:
            if last < first:
                raise ScheduleError(f"leave range ends before it starts ({first}..{last})")
        return ranges

    def _allowed_windows(self) -> tuple[tuple[int, int], ...]:
        windows = [(0, DAY_SECONDS)]
        if (self.work_start is None) != (self.work_end is None):
            raise ScheduleError("set both work_start and work_end, or neither")
        if self.work_start is not None and self.work_end is not None:
            check_wall_time(self.work_start, "work_start")
            check_wall_time(self.work_end, "work_end")
            if self.work_end <= self.work_start:
                raise ScheduleError("work_end must be after work_start")
            windows = [(seconds_of_day(self.work_start), seconds_of_day(self.work_end))]
        for quiet in self._quiet_intervals():
            windows = _subtract(windows, quiet)
        if not windows:
            raise ScheduleError("working hours lie entirely inside quiet hours")
        return tuple(windows)

    def _quiet_intervals(self) -> list[tuple[int, int]]:
        if (self.quiet_start is None) != (self.quiet_end is None):
            raise ScheduleError("set both quiet_start and quiet_end, or neither")
        if self.quiet_start is None or self.quiet_end is None:
            return []
        check_wall_time(self.quiet_start, "quiet_start")
        check_wall_time(self.quiet_end, "quiet_end")
        start, end = seconds_of_day(self.quiet_start), seconds_of_day(self.quiet_end)
        if start == end:
            raise ScheduleError("quiet_start and quiet_end must differ")
        # 20:00-08:00 wraps midnight: on any one local day it is [0, 8h) and [20h, 24h).
        return [(start, end)] if start < end else [(0, end), (start, DAY_SECONDS)]

    def leave_on(self, day: date) -> tuple[date, date] | None:
        return next(((a, b) for a, b in self.leave if a <= day <= b), None)

    def in_quiet_hours(self, local: time) -> bool:
        secs = seconds_of_day(local)
        return any(a <= secs < b for a, b in self._quiet_intervals())


def _subtract(windows: list[tuple[int, int]], cut: tuple[int, int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in windows:
        if start < cut[0]:
            out.append((start, min(end, cut[0])))
        if end > cut[1]:
            out.append((max(start, cut[1]), end))
    return [(a, b) for a, b in out if a < b]
