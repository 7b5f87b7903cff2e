"""Turn a cadence into concrete send instants for one person, in that person's own time zone.

Pure functions only: no database, no APScheduler. The rules (PRODUCT_NOTES, "Scheduling"):

- All arithmetic happens on the person's local wall time and is converted with zoneinfo at the
  end, so a weekly send never changes day because of DST.
- A local time that does not exist (spring gap) moves forward by the length of the gap; an
  ambiguous one (autumn fold) fires once, at its first occurrence.
- A holiday or non-working day moves a send to the next working day at the same local time;
  a time in quiet hours or outside working hours moves to the next allowed time.
- Leave and snooze skip an occurrence: it is still planned (with the reason) but not sent.
- Every occurrence gives exactly one `PlannedSend`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Literal, cast, get_args
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
_LOOKBACK = timedelta(days=40)

_DAY = 86_400
_FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY_NAMES = {n: i for i, full in enumerate(_FULL_DAYS) for n in (full, full[:3])}
_HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")
_ALL_DAYS = frozenset(range(7))


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
        _check_wall_time(value, name)
        return value
    match = _HHMM.match(value.strip()) if isinstance(value, str) else None
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise ScheduleError(f"{name} must be HH:MM (got {value!r})")
    return time(int(match[1]), int(match[2]))


def _check_wall_time(value: object, name: str) -> None:
    if not isinstance(value, time):
        raise ScheduleError(f"{name} must be HH:MM (got {value!r})")
    if value.tzinfo is not None:
        raise ScheduleError(f"{name} is a local wall time and must not carry a time zone")


def _parse_date(value: date | str, name: str) -> date:
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
        _check_wall_time(self.at, "at")
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
        _check_wall_time(spread[0], "spread start")
        _check_wall_time(spread[1], "spread end")
        if _seconds(spread[1]) // 60 <= _seconds(spread[0]) // 60:
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
            anchor=None if anchor is None else _parse_date(anchor, "anchor"),
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
        start, end = (_seconds(t) // 60 for t in self.spread)
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
        if not days or not days <= _ALL_DAYS:
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
            work_days=_ALL_DAYS,
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
        windows = [(0, _DAY)]
        if (self.work_start is None) != (self.work_end is None):
            raise ScheduleError("set both work_start and work_end, or neither")
        if self.work_start is not None and self.work_end is not None:
            _check_wall_time(self.work_start, "work_start")
            _check_wall_time(self.work_end, "work_end")
            if self.work_end <= self.work_start:
                raise ScheduleError("work_end must be after work_start")
            windows = [(_seconds(self.work_start), _seconds(self.work_end))]
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
        _check_wall_time(self.quiet_start, "quiet_start")
        _check_wall_time(self.quiet_end, "quiet_end")
        start, end = _seconds(self.quiet_start), _seconds(self.quiet_end)
        if start == end:
            raise ScheduleError("quiet_start and quiet_end must differ")
        # 20:00-08:00 wraps midnight: on any one local day it is [0, 8h) and [20h, 24h).
        return [(start, end)] if start < end else [(0, end), (start, _DAY)]

    def leave_on(self, day: date) -> tuple[date, date] | None:
        return next(((a, b) for a, b in self.leave if a <= day <= b), None)

    def in_quiet_hours(self, local: time) -> bool:
        secs = _seconds(local)
        return any(a <= secs < b for a, b in self._quiet_intervals())


def _subtract(windows: list[tuple[int, int]], cut: tuple[int, int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in windows:
        if start < cut[0]:
            out.append((start, min(end, cut[0])))
        if end > cut[1]:
            out.append((max(start, cut[1]), end))
    return [(a, b) for a, b in out if a < b]


# --------------------------------------------------------------------------- DST


def local_instant(day: date, at: time, tz: ZoneInfo) -> tuple[datetime, str | None]:
    """The UTC instant of local wall time `at` on `day` in `tz`, and why it differs, if it does.

    - Spring gap: the time does not exist; fold=0 uses the offset from before the transition,
      which lands exactly the gap's length later (02:30 -> 03:30). Detected by a round trip.
      If that would leave the day (a gap just before midnight, as in America/Nuuk, where
      23:00 jumps to 00:00), staying on the cadence's day wins: it moves back by the gap instead.
    - Autumn fold: the time exists twice; fold=0 is the first one, and only that one is used.
    """
    _check_wall_time(at, "at")
    naive = datetime.combine(day, at)
    first = naive.replace(tzinfo=tz, fold=0)
    utc = first.astimezone(UTC)
    if _wall(utc, tz) != naive:
        if _wall(utc, tz).date() != day:
            earlier = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
            if _wall(earlier, tz).date() == day:
                return earlier, _gap_reason(naive, earlier, tz) + f" to stay on {day}"
        return utc, _gap_reason(naive, utc, tz)
    if naive.replace(tzinfo=tz, fold=1).utcoffset() != first.utcoffset():
        return utc, (
            f"dst-fold: {at:%H:%M} happens twice on {day} in {tz.key}, "
            f"using the first ({first:%H:%M UTC%z})"
        )
    return utc, None


def _wall(utc: datetime, tz: ZoneInfo) -> datetime:
    return utc.astimezone(tz).replace(tzinfo=None)


def _gap_reason(naive: datetime, resolved: datetime, tz: ZoneInfo) -> str:
    moved = _wall(resolved, tz)
    return (
        f"dst-gap: {naive:%H:%M} does not exist on {naive.date()} in {tz.key}, "
        f"moved {'to' if moved > naive else 'back to'} {moved:%H:%M}"
        + ("" if moved.date() == naive.date() else f" on {moved.date()}")
    )


def _resolve_wall(
    wall: datetime, tz: ZoneInfo, not_before: datetime
) -> tuple[datetime, str | None]:
    """Like `local_instant`, for a move that must never go back before `not_before`."""
    utc, reason = local_instant(wall.date(), wall.time(), tz)
    if utc >= not_before:
        return utc, reason
    # The earlier reading was chosen (a fold's first pass, or a gap resolved backwards):
    # take the later one: a fold's second pass, or forward past the gap.
    readings = [wall.replace(tzinfo=tz, fold=f).astimezone(UTC) for f in (0, 1)]
    later = max(*readings, not_before)
    return later, (_gap_reason(wall, later, tz) if _wall(later, tz) != wall else None)


# --------------------------------------------------------------------------- moving to allowed time


def _day_block(day: date, av: Availability, include_leave: bool) -> str | None:
    """Why nothing may be sent on `day`, or None."""
    if include_leave and (span := av.leave_on(day)) is not None:
        return f"on leave {span[0]}..{span[1]}"
    if day in av.holidays:
        return f"holiday {day.isoformat()}"
    if day.weekday() not in av.work_days:
        return "non-working day"
    return None


def _time_reason(local: time, av: Availability) -> str:
    return "quiet hours" if av.in_quiet_hours(local) else "outside working hours"


def _first_allowed_second(secs: int, av: Availability) -> int | None:
    for start, end in av._windows:
        if secs < end:
            return max(secs, start)
    return None


def _add(reasons: list[str], reason: str) -> None:
    if reason not in reasons:
        reasons.append(reason)


def _advance_wall(
    wall: datetime, av: Availability, include_leave: bool
) -> tuple[datetime, list[str]]:
    """The first allowed local wall time at or after `wall` (naive), with the reasons it moved."""
    reasons: list[str] = []
    day, secs, rolled = wall.date(), _seconds(wall.time()), False
    for _ in range(SEARCH_DAYS):
        blocked = _day_block(day, av, include_leave)
        if blocked is not None:
            _add(reasons, blocked)
        else:
            start = _first_allowed_second(secs, av)
            if start == secs and not rolled:
                return wall, reasons
            if not rolled:  # only the original time-of-day is worth a reason, not 00:00
                _add(reasons, _time_reason(wall.time(), av))
            if start is not None:
                return datetime.combine(day, _time_of(start)), reasons
        day, secs, rolled = day + timedelta(days=1), 0, True
    raise ScheduleError(f"no allowed time within {SEARCH_DAYS} days of {wall:%Y-%m-%d %H:%M}")


def _next_working_day(day: date, av: Availability) -> tuple[date, list[str]]:
    reasons: list[str] = []
    for _ in range(SEARCH_DAYS):
        blocked = _day_block(day, av, include_leave=False)
        if blocked is None:
            return day, reasons
        _add(reasons, blocked)
        day += timedelta(days=1)
    raise ScheduleError(f"no working day within {SEARCH_DAYS} days of {day}")


def next_allowed(when_utc: datetime, availability: Availability) -> tuple[datetime, list[str]]:
    """Move an arbitrary instant (a reminder, a nudge) to the next time it may be sent.

    Unlike a planned send, leave and snooze move it (to after them) instead of skipping it, and a
    blocked day moves it to the start of the next allowed window, not to the same time of day.
    """
    when = _as_utc(when_utc, "when_utc")
    tz, reasons = availability.tz, []
    snooze = availability.snoozed_until
    if snooze is not None and when < snooze:
        when = snooze
        reasons.append(_snooze_reason(snooze, tz))
    wall = when.astimezone(tz).replace(tzinfo=None)
    moved, why = _advance_wall(wall, availability, include_leave=True)
    if moved == wall:
        return when, reasons
    utc, dst = _resolve_wall(moved, tz, not_before=when)
    return utc, reasons + why + ([dst] if dst else [])


def _snooze_reason(until: datetime, tz: ZoneInfo) -> str:
    return f"snoozed until {until.astimezone(tz):%Y-%m-%d %H:%M} {tz.key}"


# --------------------------------------------------------------------------- planning


@dataclass(frozen=True)
class PlannedSend:
    """One occurrence of a cadence for one person. Sent only when `skipped` is None."""

    utc: datetime
    local: datetime
    nominal_day: date
    reasons: tuple[str, ...] = ()
    skipped: str | None = None


def plan(
    cadence: Cadence,
    availability: Availability,
    start_utc: datetime,
    end_utc: datetime,
    seed: str = "",
) -> list[PlannedSend]:
    """One `PlannedSend` per occurrence whose nominal instant falls in [start_utc, end_utc).

    The nominal instant is the cadence's local time (after DST resolution and the `spread` pick,
    before any availability move) on its nominal local day, so consecutive windows partition the
    occurrences: none is planned twice or lost.
    """
    start, end = _as_utc(start_utc, "start_utc"), _as_utc(end_utc, "end_utc")
    tz = availability.tz
    first = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date() + timedelta(days=1)
    sends: list[PlannedSend] = []
    for day in cadence.occurrences(first, last):
        nominal, _ = local_instant(day, cadence.wall_time(day, seed), tz)
        if start <= nominal < end:
            sends.append(_plan_occurrence(cadence, availability, day, seed))
    return sends


def _plan_occurrence(cadence: Cadence, av: Availability, day: date, seed: str) -> PlannedSend:
    tz, at = av.tz, cadence.wall_time(day, seed)
    nominal, dst = local_instant(day, at, tz)
    if (span := av.leave_on(day)) is not None:
        return _planned(nominal, tz, day, [dst] if dst else [], f"on leave {span[0]}..{span[1]}")
    try:
        utc, reasons = _move_to_allowed(day, at, av)
    except ScheduleError as exc:
        return _planned(nominal, tz, day, [dst] if dst else [], str(exc))
    return _planned(utc, tz, day, reasons, _skip_reason(utc, av, cadence.next_occurrence(day)))


def _move_to_allowed(day: date, at: time, av: Availability) -> tuple[datetime, list[str]]:
    """Holiday / non-working day -> next working day at the same time; then the time of day."""
    tz = av.tz
    work_day, reasons = _next_working_day(day, av)
    utc, dst = local_instant(work_day, at, tz)
    if dst:
        reasons.append(dst)
    wall = utc.astimezone(tz).replace(tzinfo=None)
    moved, why = _advance_wall(wall, av, include_leave=False)
    if moved != wall:
        utc, dst = _resolve_wall(moved, tz, not_before=utc)
        reasons += why + ([dst] if dst else [])
    return utc, reasons


def _skip_reason(utc: datetime, av: Availability, next_day: date) -> str | None:
    local_day = utc.astimezone(av.tz).date()
    if (span := av.leave_on(local_day)) is not None:
        return f"on leave {span[0]}..{span[1]}"
    if av.snoozed_until is not None and utc < av.snoozed_until:
        return _snooze_reason(av.snoozed_until, av.tz)
    if local_day >= next_day:
        # Moving this one onto the next occurrence's day would send twice in a row.
        return f"superseded: would move onto the next occurrence on {next_day}"
    return None


def _planned(
    utc: datetime, tz: ZoneInfo, day: date, reasons: list[str], skipped: str | None
) -> PlannedSend:
    return PlannedSend(utc, utc.astimezone(tz), day, tuple(reasons), skipped)


def next_send(
    cadence: Cadence, availability: Availability, after_utc: datetime, seed: str = ""
) -> PlannedSend | None:
    """The first send that is not skipped and is strictly after `after_utc` (within 400 days)."""
    after = _as_utc(after_utc, "after_utc")
    # Start a little earlier: an occurrence just before `after` may have been moved past it.
    horizon = after + timedelta(days=SEARCH_DAYS)
    window = plan(cadence, availability, after - _LOOKBACK, horizon, seed)
    return next((s for s in window if s.skipped is None and s.utc > after), None)


# --------------------------------------------------------------------------- small helpers


def _as_utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ScheduleError(f"{name} must be a timezone-aware datetime (got {value!r})")
    return value.astimezone(UTC)


def _seconds(value: time) -> int:
    return value.hour * 3600 + value.minute * 60 + value.second


def _time_of(secs: int) -> time:
    return time(secs // 3600, secs % 3600 // 60, secs % 60)


__all__ = [
    "BIWEEKLY_EPOCH",
    "FREQUENCIES",
    "SEARCH_DAYS",
    "Availability",
    "Cadence",
    "Frequency",
    "PlannedSend",
    "ScheduleError",
    "local_instant",
    "next_allowed",
    "next_send",
    "parse_wall_time",
    "parse_weekday",
    "plan",
    "resolve_timezone",
    "validate_timezone",
]


def plan_occurrence(
    cadence: Cadence, availability: Availability, day: date, seed: str = ""
) -> PlannedSend:
    """The send for the occurrence on nominal local `day` (which must be a cadence day)."""
    if not cadence.occurs_on(day):
        raise ScheduleError(f"{day} is not an occurrence of this cadence")
    return _plan_occurrence(cadence, availability, day, seed)
