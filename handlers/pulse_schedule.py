"""Pulse programs on their cadence: when the next round opens, and opening it.

The schedule entry of a program is due at the earliest member's local send time of
the next occurrence; firing it opens the round with every member's own send time,
so Sydney and New York both get 09:00 local."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.events import Refused
from handlers.context import Services
from handlers.pulse_rounds import open_round
from scheduler.dispatch import Fired
from scheduler.localtime import Availability, Cadence, PlannedSend, plan, plan_occurrence
from scheduler.people import availability, person_timezone
from storage import audit, directory, pulse, schedule
from storage.models import Person, Role, Team
from storage.pulse_models import PulseProgram
from storage.schedule_models import ScheduleEntry

KIND = "pulse"
# Catch-up after downtime: an occurrence found this late is recorded as missed,
# not sent (a Monday pulse arriving on Tuesday evening is noise, not a pulse).
CATCH_UP_GRACE = timedelta(hours=12)


def cadence_of(program: PulseProgram) -> Cadence:
    spread = f"{program.at}-{program.spread_until}" if program.spread_until else None
    return Cadence.parse(program.frequency, program.weekday, program.at, spread=spread)


@dataclass(frozen=True)
class Member:
    person: Person
    availability: Availability

    @property
    def id(self) -> int:
        return self.person.id or 0


async def _members(session: AsyncSession, program: PulseProgram) -> tuple[Team, list[Member]]:
    team = await directory.team(session, program.team_id)
    assert team is not None and team.id is not None
    workspace = await directory.workspace(session, team.workspace_id)
    people = await directory.members(session, team.id, Role.EXECUTIVE)
    return team, [Member(p, availability(p, team, workspace)) for p in people]


def _seed(program: PulseProgram, member: Member) -> str:
    return f"{program.id}:{member.id}"


def occurrence_plans(
    program: PulseProgram, members: list[Member], day: date
) -> dict[int, PlannedSend]:
    cadence = cadence_of(program)
    return {m.id: plan_occurrence(cadence, m.availability, day, _seed(program, m)) for m in members}


def _earliest(plans: dict[int, PlannedSend]) -> datetime | None:
    live = [p.utc for p in plans.values() if p.skipped is None]
    return min(live) if live else None


def _next_due(
    program: PulseProgram, members: list[Member], after: date, now: datetime
) -> tuple[date, datetime] | None:
    """The first occurrence after `after` whose earliest send is still ahead."""
    cadence = cadence_of(program)
    day = after
    for _ in range(60):
        day = cadence.next_occurrence(day)
        earliest = _earliest(occurrence_plans(program, members, day))
        if earliest is not None and earliest >= now:
            return day, earliest
    return None


async def reschedule(services: Services, program_id: int) -> ScheduleEntry:
    """(Re)plan a program's next round, e.g. after its cadence or members changed."""
    now = services.clock.now()
    async with services.db.session() as session:
        program = await pulse.program(session, program_id)
        if program is None or not program.active:
            return await schedule.set_due(session, KIND, program_id, None, None)
        team, members = await _members(session, program)
        tz = person_timezone(members[0].person, team, None) if members else None
        today = now.astimezone(tz).date() if tz else now.date()
        found = _next_due(program, members, today - timedelta(days=2), now)
        day, due = found if found else (None, None)
        return await schedule.set_due(
            session, KIND, program_id, due, day.isoformat() if day else None
        )


async def reschedule_all(services: Services) -> int:
    """Make sure every active program has a planned next round (at start and after apply)."""
    async with services.db.session() as session:
        programs = await pulse.active_programs(session)
        planned = {e.subject_id for e in await schedule.entries(session, KIND) if e.due_at}
    count = 0
    for program in programs:
        if program.id not in planned:
            await reschedule(services, program.id or 0)
            count += 1
    return count


async def fire(services: Services, entry: ScheduleEntry, now: datetime) -> Fired:
    async with services.db.session() as session:
        program = await pulse.program(session, entry.subject_id)
        if program is None or not program.active:
            return Fired("program inactive", None, None)
        team, members = await _members(session, program)
    if entry.occurrence is None:
        found = _next_due(program, members, now.date() - timedelta(days=2), now)
        return Fired("planned", *(found[1], found[0].isoformat()) if found else (None, None))
    day = date.fromisoformat(entry.occurrence)
    plans = occurrence_plans(program, members, day)
    earliest = _earliest(plans)
    if earliest is None:
        outcome = f"{day}: nobody to ask"
    elif now - earliest > CATCH_UP_GRACE:
        outcome = f"{day}: missed (due {earliest:%Y-%m-%d %H:%M} UTC, found at {now:%H:%M})"
        async with services.db.session() as session:
            audit.record(
                session, "scheduler", "pulse.missed", f"team:{team.key}", occurrence=str(day)
            )
    else:
        try:
            opened = await open_round(
                services,
                team.key,
                kind="scheduled",
                program_key=program.key,
                occurrence=day.isoformat(),
                send_at={pid: p.utc for pid, p in plans.items() if p.skipped is None},
                skipped={pid: p.skipped for pid, p in plans.items() if p.skipped},
            )
            outcome = f"{day}: round {opened.number} " + (
                "already open" if opened.already else "opened"
            )
        except Refused as refused:
            outcome = f"{day}: not opened: {refused}"
    found = _next_due(program, members, day, now)
    if found is None:
        return Fired(outcome, None, None)
    return Fired(outcome, found[1], found[0].isoformat())


@dataclass(frozen=True)
class PreviewRow:
    person: str
    timezone: str
    what: str
    utc: datetime
    local: datetime
    reasons: tuple[str, ...]
    skipped: str | None


async def preview(services: Services, team_key: str, days: int) -> list[PreviewRow]:
    """Every planned pulse send per person in the next `days` days, with reasons."""
    now = services.clock.now()
    async with services.db.session() as session:
        team = await directory.team_by_key(session, team_key)
        if team is None:
            raise Refused(f"There is no team {team_key!r}.")
        programs = await pulse.programs_for_team(session, team.id or 0)
        rows: list[PreviewRow] = []
        for program in programs:
            _, members = await _members(session, program)
            for m in members:
                for send in plan(
                    cadence_of(program),
                    m.availability,
                    now,
                    now + timedelta(days=days),
                    _seed(program, m),
                ):
                    rows.append(
                        PreviewRow(
                            m.person.handle,
                            m.availability.tz.key,
                            f"pulse {program.key}",
                            send.utc,
                            send.local,
                            send.reasons,
                            send.skipped,
                        )
                    )
    return sorted(rows, key=lambda r: (r.utc, r.person))
