"""One source of "now" for the whole scheduling engine.

Everything that needs the current time takes a `Clock`, so tests move time forward with a
fake clock (tests/support/clock.py) instead of sleeping, and production uses `SystemClock`.
Both return timezone-aware UTC datetimes: local time only exists per person, in
`scheduler.calendar.localtime`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


__all__ = ["Clock", "SystemClock"]
