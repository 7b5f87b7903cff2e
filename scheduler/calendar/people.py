"""From stored people to the scheduler's view of them: time zone and availability."""

from __future__ import annotations

from datetime import date, time
from zoneinfo import ZoneInfo

from scheduler.calendar.localtime import Availability, resolve_timezone
from storage.core.models import Person, Team, Workspace


def person_timezone(person: Person, team: Team | None, workspace: Workspace | None) -> ZoneInfo:
    """Person's IANA zone, else the team's, else the workspace's — never a fixed UTC hour."""
    return resolve_timezone(
        person.timezone, team.timezone if team else None, workspace.timezone if workspace else None
    )


def _hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def availability(person: Person, team: Team | None, workspace: Workspace | None) -> Availability:
    holidays = frozenset(
        date.fromisoformat(day) for day in (workspace.holidays if workspace else [])
    )
    leave: tuple[tuple[date, date], ...] = ()
    if person.leave_from and person.leave_until:
        leave = ((person.leave_from, person.leave_until),)
    quiet = person.quiet_hours.split("-") if person.quiet_hours else None
    return Availability(
        tz=person_timezone(person, team, workspace),
        work_days=frozenset(person.work_days),
        work_start=_hhmm(person.work_start),
        work_end=_hhmm(person.work_end),
        quiet_start=_hhmm(quiet[0]) if quiet else None,
        quiet_end=_hhmm(quiet[1]) if quiet else None,
        holidays=holidays,
        snoozed_until=person.snoozed_until,
        leave=leave,
    )
