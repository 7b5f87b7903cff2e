"""Scheduler time test helpers: a few zones and short constructors for aware datetimes."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
SYDNEY = ZoneInfo("Australia/Sydney")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(
    tz: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=tz)
