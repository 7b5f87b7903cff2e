"""Parsing and checking the pieces of a schedule: weekdays, wall times, dates, time
zones — with errors that say what was wrong and what is accepted."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal, get_args
from zoneinfo import ZoneInfo, available_timezones

Frequency = Literal["weekly", "biweekly", "monthly"]
FREQUENCIES: tuple[str, ...] = get_args(Frequency)

# Biweekly cadences without an anchor fire in the weeks an even number of weeks from this Monday,
# so every process (and every restart) agrees on which weeks are "on".
BIWEEKLY_EPOCH = date(1970, 1, 5)
# Bound for every forward search (next working day, next allowed time, next send).
SEARCH_DAYS = 400
# A moved send always lands before the next occurrence's day (else it is skipped as superseded),
# and occurrences are at most 35 days apart (monthly), so this look-back finds a send that was
# moved past the `after` instant given to `next_send`.
LOOKBACK = timedelta(days=40)

DAY_SECONDS = 86_400
_FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY_NAMES = {n: i for i, full in enumerate(_FULL_DAYS) for n in (full, full[:3])}
_HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")
ALL_DAYS = frozenset(range(7))


class ScheduleError(ValueError):
    """A cadence, availability or time zone that cannot be scheduled, with a readable message."""


# --------------------------------------------------------------------------- parsing helpers


def parse_weekday(value: int | str) -> int:
    """0..6 (Monday = 0), or a day name: "mon", "Monday", ..."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text.isdigit():
            value = int(text)
        elif text in _WEEKDAY_NAMES:
            return _WEEKDAY_NAMES[text]
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 6:
        return value
    raise ScheduleError(f"weekday must be 0..6 or mon..sun (got {value!r})")


def parse_wall_time(value: str | time, name: str = "at") -> time:
    """A local wall-clock time: "HH:MM" or a naive `datetime.time`."""
    if isinstance(value, time):
        check_wall_time(value, name)
        return value
    match = _HHMM.match(value.strip()) if isinstance(value, str) else None
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise ScheduleError(f"{name} must be HH:MM (got {value!r})")
    return time(int(match[1]), int(match[2]))


def check_wall_time(value: object, name: str) -> None:
    if not isinstance(value, time):
        raise ScheduleError(f"{name} must be HH:MM (got {value!r})")
    if value.tzinfo is not None:
        raise ScheduleError(f"{name} is a local wall time and must not carry a time zone")


def parse_date(value: date | str, name: str) -> date:
    if isinstance(value, datetime):
        raise ScheduleError(f"{name} must be a date, not a datetime (got {value!r})")
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except (ValueError, AttributeError):
        raise ScheduleError(f"{name} must be a date YYYY-MM-DD (got {value!r})") from None


def _parse_window(value: str | tuple[str | time, str | time], name: str) -> tuple[time, time]:
    if isinstance(value, str):
        parts = value.replace("–", "-").split("-")
        if len(parts) != 2:
            raise ScheduleError(f"{name} must be a window HH:MM-HH:MM (got {value!r})")
        value = (parts[0], parts[1])
    start, end = value
    return parse_wall_time(start, f"{name} start"), parse_wall_time(end, f"{name} end")


# --------------------------------------------------------------------------- time zones


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def validate_timezone(name: str, what: str = "time zone") -> ZoneInfo:
    """An IANA zone by name, or a clear error (ZoneInfo alone also accepts odd file paths)."""
    key = name.strip() if isinstance(name, str) else name
    if not isinstance(key, str) or key not in _known_zones():
        raise ScheduleError(
            f"{what} {name!r} is not a known IANA time zone (use a name such as 'Europe/Berlin')"
        )
    return ZoneInfo(key)


def resolve_timezone(
    person_tz: str | None, team_tz: str | None = None, workspace_tz: str | None = None
) -> ZoneInfo:
    """The person's zone, else their team's, else the workspace's.

    There is deliberately no UTC fallback: a fixed UTC hour lands at night for half the world.
    A name that is set but invalid is an error, not a silent fall-through to the next level.
    """
    for level, name in (("person", person_tz), ("team", team_tz), ("workspace", workspace_tz)):
        if name is not None and str(name).strip():
            return validate_timezone(name, f"{level} time zone")
    raise ScheduleError(
        "no time zone set for the person, their team or the workspace; "
        "set an IANA name such as 'Europe/Berlin'"
    )


# --------------------------------------------------------------------------- small helpers


def _as_utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ScheduleError(f"{name} must be a timezone-aware datetime (got {value!r})")
    return value.astimezone(UTC)


def seconds_of_day(value: time) -> int:
    return value.hour * 3600 + value.minute * 60 + value.second


def _time_of(secs: int) -> time:
    return time(secs // 3600, secs % 3600 // 60, secs % 60)
