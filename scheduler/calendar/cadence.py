"""When something recurs: weekly, every two weeks or monthly, at a local wall time."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import cast

from scheduler.calendar.timeparse import (
    BIWEEKLY_EPOCH,
    FREQUENCIES,
    Frequency,
    ScheduleError,
    _parse_window,
    check_wall_time,
    parse_date,
    parse_wall_time,
    parse_weekday,
    seconds_of_day,
)

# --------------------------------------------------------------------------- cadence


@dataclass(frozen=True)
class Cadence:
    """When something recurs, in the person's local wall time.

    - weekly: every `weekday`; biweekly: every second `weekday`, in the ISO week of `anchor`
      (any date of that week; default `BIWEEKLY_EPOCH`) and every second week before and after;
      monthly: the first `weekday` of each month.
    - `at` is the local send time; with `spread=(start, end)` a minute in [start, end) is
      picked instead, deterministically from the seed and the occurrence date.
    """

    frequency: Frequency
    weekday: int
    at: time
    anchor: date | None = None
    spread: tuple[time, time] | None = None

    def __post_init__(self) -> None:
        if self.frequency not in FREQUENCIES:
            raise ScheduleError(
                f"frequency must be one of {', '.join(FREQUENCIES)} (got {self.frequency!r})"
            )
        if isinstance(self.weekday, bool) or not isinstance(self.weekday, int):
            raise ScheduleError(f"weekday must be 0..6 or mon..sun (got {self.weekday!r})")
        parse_weekday(self.weekday)
        check_wall_time(self.at, "at")
        if self.anchor is not None and (
            isinstance(self.anchor, datetime) or not isinstance(self.anchor, date)
        ):
            raise ScheduleError(f"anchor must be a date (got {self.anchor!r}); see Cadence.parse")
        if self.spread is not None:
            self._check_spread(self.spread)

    @staticmethod
    def _check_spread(spread: tuple[time, time]) -> None:
        if not isinstance(spread, tuple) or len(spread) != 2:
            raise ScheduleError(f"spread must be a (start, end) pair of times (got {spread!r})")
        check_wall_time(spread[0], "spread start")
        check_wall_time(spread[1], "spread end")
        if seconds_of_day(spread[1]) // 60 <= seconds_of_day(spread[0]) // 60:
            raise ScheduleError(
                "spread must be a window within one day with start before end "
                f"(got {spread[0]:%H:%M}-{spread[1]:%H:%M})"
            )

    @classmethod
    def parse(
        cls,
        frequency: str,
        weekday: int | str,
        at: str | time,
        anchor: date | str | None = None,
        spread: str | tuple[str | time, str | time] | None = None,
    ) -> Cadence:
        """Build a cadence from user or config input ("weekly", "mon", "09:00", "09:00-17:00")."""
        freq = frequency.strip().lower() if isinstance(frequency, str) else frequency
        if freq not in FREQUENCIES:
            raise ScheduleError(
                f"frequency must be one of {', '.join(FREQUENCIES)} (got {frequency!r})"
            )
        return cls(
            frequency=cast(Frequency, freq),
            weekday=parse_weekday(weekday),
            at=parse_wall_time(at, "at"),
            anchor=None if anchor is None else parse_date(anchor, "anchor"),
            spread=None if spread is None else _parse_window(spread, "spread"),
        )

    def occurs_on(self, day: date) -> bool:
        """Whether `day` (a local date) is a nominal occurrence day."""
        if day.weekday() != self.weekday:
            return False
        if self.frequency == "monthly":
            return day.day <= 7
        if self.frequency == "biweekly":
            weeks = (_monday(day) - _monday(self.anchor or BIWEEKLY_EPOCH)).days // 7
            return weeks % 2 == 0
        return True

    def wall_time(self, day: date, seed: str = "") -> time:
        """The local send time for the occurrence on `day`: `at`, or a stable pick in `spread`.

        hashlib rather than `random`, so a restart (or another process) plans the same instant.
        """
        if self.spread is None:
            return self.at
        start, end = (seconds_of_day(t) // 60 for t in self.spread)
        digest = hashlib.sha256(f"{seed}\x1f{day.isoformat()}".encode()).digest()
        minute = start + int.from_bytes(digest[:8], "big") % (end - start)
        return time(minute // 60, minute % 60)

    def occurrences(self, first: date, last: date) -> Iterator[date]:
        """Nominal occurrence days in [first, last] (inclusive)."""
        day = first + timedelta(days=(self.weekday - first.weekday()) % 7)
        while day <= last:
            if self.occurs_on(day):
                yield day
            day += timedelta(days=7)

    def next_occurrence(self, day: date) -> date:
        """The first nominal occurrence day strictly after `day`."""
        return next(self.occurrences(day + timedelta(days=1), day + timedelta(days=70)))


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())
