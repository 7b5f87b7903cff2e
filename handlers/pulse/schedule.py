"""Pulse programs on their cadence: when the next round opens, and opening it.

The schedule entry of a program is due at the earliest member's local send time of
the next occurrence; firing it opens the round with every member's own send time,
so Sydney and New York both get 09:00 local."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.events import Refused
from handlers.context import Services
from handlers.pulse.rounds import Opening, RoundOpened, open_rounds
from scheduler.calendar.fired import Fired
from scheduler.calendar.localtime import Availability, Cadence, PlannedSend, plan, plan_occurrence
from scheduler.calendar.people import availability, person_timezone
from storage.core import audit, directory, schedule
from storage.core.models import Person, Role, Team, Workspace
from storage.core.schedule_models import ScheduleEntry
from storage.pulse import rounds as pulse
from storage.pulse.models import PulseProgram

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
    return team, _as_members(people, team, workspace)


def _as_members(people: list[Person], team: Team, workspace: Workspace | None) -> list[Member]:
    return [Member(p, availability(p, team, workspace)) for p in people]


def _seed(program: PulseProgram, member: Member) -> str:
    return f"{program.id}:{member.id}"


def occurrence_plans(
    program: PulseProgram, members: list[Member], day: date
) -> dict[int, PlannedSend]:
    cadence = cadence_of(program)
    alike: dict[object, PlannedSend] = {}
    plans: dict[int, PlannedSend] = {}
    for m in members:
        # Without a spread the seed plays no part: members alike in availability (a team
        # in one office) share one plan.
        key = m.availability if cadence.spread is None else (m.availability, _seed(program, m))
        if key not in alike:
            alike[key] = plan_occurrence(cadence, m.availability, day, _seed(program, m))
        plans[m.id] = alike[key]
    return plans


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
    [fired] = await fire_many(services, [entry], now)
    if isinstance(fired, Exception):
        raise fired
    return fired


@dataclass(frozen=True)
class _Occurrence:
    """A due occurrence of a program: opened, or recorded as missed or as nobody's."""

    program: PulseProgram
    team: Team
    members: list[Member]
    day: date
    outcome: str | None = None  # set when there is no round to open
    opening: Opening | None = None
    missed: bool = False  # found too late to send: recorded, not sent


async def fire_many(
    services: Services, entries: Sequence[ScheduleEntry], now: datetime
) -> list[Fired | Exception]:
    """`fire` for every entry of a dispatch pass: programs, teams and members loaded in
    a few queries, the due rounds opened together (`open_rounds`). One entry's error is
    its own result; the others still fire."""
    async with services.db.session() as session:
        loaded = await pulse.programs_with_teams(session, [e.subject_id for e in entries])
        people = await pulse.executives(session, sorted({t.id or 0 for _, t, _ in loaded.values()}))
    prepared: list[Fired | _Occurrence | Exception] = []
    for entry in entries:
        try:
            prepared.append(_prepare(entry, loaded.get(entry.subject_id), people, now))
        except Exception as error:
            prepared.append(error)
    due = [p for p in prepared if isinstance(p, _Occurrence)]
    if missed := [p for p in due if p.missed]:
        async with services.db.session() as session:
            for p in missed:
                audit.record(
                    session,
                    "scheduler",
                    "pulse.missed",
                    f"team:{p.team.key}",
                    occurrence=str(p.day),
                )
    opened = iter(await open_rounds(services, [p.opening for p in due if p.opening]))
    return [
        _fired(p, next(opened) if p.opening else None, now) if isinstance(p, _Occurrence) else p
        for p in prepared
    ]


def _prepare(
    entry: ScheduleEntry,
    loaded: tuple[PulseProgram, Team, Workspace] | None,
    people: dict[int, list[Person]],
    now: datetime,
) -> Fired | _Occurrence:
    if loaded is None or not loaded[0].active:
        return Fired("program inactive", None, None)
    program, team, workspace = loaded
    members = _as_members(people.get(team.id or 0, []), team, workspace)
    if entry.occurrence is None:
        found = _next_due(program, members, now.date() - timedelta(days=2), now)
        return Fired("planned", *(found[1], found[0].isoformat()) if found else (None, None))
    day = date.fromisoformat(entry.occurrence)
    plans = occurrence_plans(program, members, day)
    earliest = _earliest(plans)
    if earliest is None:
        return _Occurrence(program, team, members, day, f"{day}: nobody to ask")
    if now - earliest > CATCH_UP_GRACE:
        missed = f"{day}: missed (due {earliest:%Y-%m-%d %H:%M} UTC, found at {now:%H:%M})"
        return _Occurrence(program, team, members, day, missed, missed=True)
    opening = Opening(
        program,
        team,
        workspace,
        [m.person for m in members],
        kind="scheduled",
        occurrence=day.isoformat(),
        send_at={pid: p.utc for pid, p in plans.items() if p.skipped is None},
        skipped={pid: p.skipped for pid, p in plans.items() if p.skipped},
        availability={m.id: m.availability for m in members},
    )
    return _Occurrence(program, team, members, day, opening=opening)


def _fired(
    due: _Occurrence, opened: RoundOpened | Exception | None, now: datetime
) -> Fired | Exception:
    """The outcome of a due occurrence, and when the program is due next."""
    try:
        return _next(due, _outcome(due, opened), now)
    except Exception as error:
        return error


def _outcome(due: _Occurrence, opened: RoundOpened | Exception | None) -> str:
    if isinstance(opened, RoundOpened):
        done = "already open" if opened.already else "opened"
        return f"{due.day}: round {opened.number} {done}"
    if isinstance(opened, Refused):
        return f"{due.day}: not opened: {opened}"
    if isinstance(opened, Exception):
        raise opened
    return due.outcome or ""


def _next(due: _Occurrence, outcome: str, now: datetime) -> Fired:
    found = _next_due(due.program, due.members, due.day, now)
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
