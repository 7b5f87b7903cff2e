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

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduler.calendar.availability import Availability
from scheduler.calendar.cadence import Cadence
from scheduler.calendar.timeparse import (
    BIWEEKLY_EPOCH,
    FREQUENCIES,
    LOOKBACK,
    SEARCH_DAYS,
    Frequency,
    ScheduleError,
    _as_utc,
    _time_of,
    check_wall_time,
    parse_wall_time,
    parse_weekday,
    resolve_timezone,
    seconds_of_day,
    validate_timezone,
)

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
    "plan_occurrence",
    "resolve_timezone",
    "validate_timezone",
]

# --------------------------------------------------------------------------- DST


def local_instant(day: date, at: time, tz: ZoneInfo) -> tuple[datetime, str | None]:
    """The UTC instant of local wall time `at` on `day` in `tz`, and why it differs, if it does.

    - Spring gap: the time does not exist; fold=0 uses the offset from before the transition,
      which lands exactly the gap's length later (02:30 -> 03:30). Detected by a round trip.
      If that would leave the day (a gap just before midnight, as in America/Nuuk, where
      23:00 jumps to 00:00), staying on the cadence's day wins: it moves back by the gap instead.
    - Autumn fold: the time exists twice; fold=0 is the first one, and only that one is used.
    """
    check_wall_time(at, "at")
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
    day, secs, rolled = wall.date(), seconds_of_day(wall.time()), False
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
    window = plan(cadence, availability, after - LOOKBACK, horizon, seed)
    return next((s for s in window if s.skipped is None and s.utc > after), None)


def plan_occurrence(
    cadence: Cadence, availability: Availability, day: date, seed: str = ""
) -> PlannedSend:
    """The send for the occurrence on nominal local `day` (which must be a cadence day)."""
    if not cadence.occurs_on(day):
        raise ScheduleError(f"{day} is not an occurrence of this cadence")
    return _plan_occurrence(cadence, availability, day, seed)
