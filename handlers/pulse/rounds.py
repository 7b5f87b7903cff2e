"""Opening pulse rounds: who is asked, what, and the rules a program sets (the
messages and reminders that go out: pulse_outbox.py)."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.events import Refused
from handlers.context import Services
from handlers.pulse import said
from handlers.pulse.outbox import round_messages
from prompts.instruments import Instrument
from prompts.texts import text
from scheduler.calendar.localtime import Availability, next_allowed
from scheduler.calendar.people import availability, person_timezone
from scheduler.calendar.timeparse import ScheduleError
from storage.core import audit, directory, outbox
from storage.core.models import Person, Role, Team, Workspace
from storage.pulse import rounds as pulse
from storage.pulse.models import PulseProgram, PulseRound

log = logging.getLogger(__name__)
MAX_PULSES_PER_WEEK = 3  # fatigue governor: prompts per person per week, all programs
PAUSE_AFTER_UNANSWERED = 3
OPEN_BATCH_PEOPLE = 200  # people per transaction when many rounds open at once


@dataclass(frozen=True)
class RoundOpened:
    round_id: int
    team: str
    number: int
    items: list[str]
    invited: list[str]
    left_out: dict[str, str] = field(default_factory=dict)
    closes_at: datetime | None = None
    already: bool = False  # the occurrence had been opened before
    # Invitees reached later than the opening (outside their hours then): handle -> the
    # local time their invite goes out, in their own zone.
    later: dict[str, datetime] = field(default_factory=dict)


@dataclass(frozen=True)
class RoundClosed:
    round_id: int
    team: str
    invited: int
    answered: int
    paused: list[str]


@dataclass(frozen=True)
class Opening:
    """A round to open, its program, team and candidates loaded: each person's send
    time (`send_at`, default now), the people the plan skipped with why, and, when
    known, each person's availability."""

    program: PulseProgram
    team: Team
    workspace: Workspace | None
    candidates: Sequence[Person]
    kind: str = "manual"
    requested_by: int | None = None
    occurrence: str | None = None
    send_at: Mapping[int, datetime] = field(default_factory=dict)
    skipped: Mapping[int, str] = field(default_factory=dict)
    availability: Mapping[int, Availability] = field(default_factory=dict)


@dataclass
class _Rounds:
    """The rounds that exist for the programs of a batch, kept current as the batch
    plans each round, so a later opening sees the earlier ones as if committed."""

    opened: dict[tuple[int, str], PulseRound]  # by (program, occurrence)
    current: dict[int, PulseRound]  # the open (not test) round by program
    numbers: dict[int, int]  # the next round number by program
    paused: dict[int, set[int]]  # by program
    recent: dict[int, int]  # pulse prompts per person in the last seven days


@dataclass(frozen=True)
class _Planned:
    opening: Opening
    round_: PulseRound
    instrument: Instrument | None = None  # None: the occurrence's round existed already
    invitees: list[Person] = field(default_factory=list)
    left_out: dict[str, str] = field(default_factory=dict)

    @property
    def new(self) -> bool:
        return self.instrument is not None

    def opened(self) -> RoundOpened:
        round_ = self.round_
        opening = self.opening
        later = {
            p.handle: when.astimezone(person_timezone(p, opening.team, opening.workspace))
            for p in self.invitees
            if (when := opening.send_at.get(p.id or 0)) is not None and when > round_.opened_at
        }
        return RoundOpened(
            round_id=round_.id or 0,
            team=self.opening.team.key,
            number=round_.number,
            items=list(round_.item_keys),
            invited=[p.handle for p in self.invitees],
            left_out=self.left_out,
            closes_at=round_.closes_at,
            already=not self.new,
            later=later,
        )


def rotation(item_keys: Sequence[str], per_pulse: int | None, number: int) -> list[str]:
    """Items for round `number` (1-based): a sliding window over the instrument, so
    every item is asked at least once every ceil(N / per_pulse) rounds."""
    keys = list(item_keys)
    if not per_pulse or per_pulse >= len(keys):
        return keys
    start = ((number - 1) * per_pulse) % len(keys)
    return [keys[(start + offset) % len(keys)] for offset in range(per_pulse)]


async def team_and_program(
    session: AsyncSession, team_key: str, program_key: str | None
) -> tuple[Team, PulseProgram]:
    team = await directory.team_by_key(session, team_key)
    if team is None:
        raise Refused(text("refused.no_team", team=team_key))
    assert team.id is not None
    programs = await pulse.programs_for_team(session, team.id)
    if program_key:
        programs = [p for p in programs if p.key == program_key]
    if not programs:
        raise Refused(text("pulse.refused.no_program", team=team_key))
    return team, programs[0]


def instrument_for(services: Services, program: PulseProgram) -> Instrument:
    instrument = services.instruments.get(program.instrument)
    if instrument is None:
        raise Refused(
            text("pulse.refused.instrument", instrument=program.instrument, program=program.key)
        )
    return instrument


def _eligible(
    opening: Opening, now: datetime, paused: set[int], recent: Mapping[int, int]
) -> tuple[list[Person], dict[str, str]]:
    """Who gets this round, and why the others don't (leave, snooze, pause, fatigue).
    The people the plan skipped come first, with the plan's reason."""
    kind, skipped = opening.kind, opening.skipped
    chosen: list[Person] = []
    left_out = {p.handle: skipped[p.id or 0] for p in opening.candidates if (p.id or 0) in skipped}
    for person in opening.candidates:
        if (person.id or 0) in skipped:
            continue
        today = now.astimezone(person_timezone(person, opening.team, opening.workspace)).date()
        if kind != "test" and person.id in paused:
            left_out[person.handle] = text("pulse.left_out.paused")
        elif person.snoozed_until and person.snoozed_until > now:
            left_out[person.handle] = text(
                "pulse.left_out.snoozed", until=f"{person.snoozed_until:%Y-%m-%d}"
            )
        elif (
            person.leave_from
            and person.leave_until
            and person.leave_from <= today <= person.leave_until
        ):
            left_out[person.handle] = text("pulse.left_out.leave", until=person.leave_until)
        elif kind != "test" and recent.get(person.id or 0, 0) >= MAX_PULSES_PER_WEEK:
            left_out[person.handle] = text("pulse.left_out.capped", most=MAX_PULSES_PER_WEEK)
        else:
            chosen.append(person)
    return chosen, left_out


def _why_not(left_out: Mapping[str, str]) -> str:
    """'maya: on leave until …' for a few people, counts by reason for many."""
    if not left_out:
        return text("pulse.left_out.nobody")
    if len(left_out) <= 3:
        return "; ".join(f"{handle}: {why}" for handle, why in left_out.items())
    reasons: dict[str, int] = {}
    for why in left_out.values():
        reason = why.split(" until ")[0]
        reasons[reason] = reasons.get(reason, 0) + 1
    return "; ".join(f"{n} {reason}" for reason, n in sorted(reasons.items()))


def within_hours(
    now: datetime, people: Sequence[Person], team: Team, workspace: Workspace | None
) -> dict[int, datetime]:
    """A round opened by hand reaches each person now if it is within their hours,
    else at the start of their next working hours (their own zone, quiet hours,
    holidays). Someone whose hours cannot be worked out gets it now."""
    when: dict[int, datetime] = {}
    for person in people:
        try:
            when[person.id or 0] = next_allowed(now, availability(person, team, workspace))[0]
        except (ScheduleError, ValueError):
            when[person.id or 0] = now
    return when


async def open_round(
    services: Services,
    team_key: str,
    *,
    kind: str = "manual",
    requested_by: int | None = None,
    program_key: str | None = None,
    occurrence: str | None = None,
    send_at: Mapping[int, datetime] | None = None,
    skipped: Mapping[int, str] | None = None,
) -> RoundOpened:
    """Open a round: invites, one message per person (at `send_at[person]`, default
    now) and their reminders, all in the outbox in one transaction — a crash leaves
    all of it or none. A scheduled `occurrence` opens at most one round, however
    often it is dispatched."""
    async with services.db.session() as session:
        team, program = await team_and_program(session, team_key, program_key)
        assert team.id is not None
        if kind == "test":
            tester = await directory.person(session, requested_by or 0)
            candidates = [tester] if tester else []
        else:
            candidates = await directory.members(session, team.id, Role.EXECUTIVE)
        workspace = await directory.workspace(session, team.workspace_id)
        if kind == "manual" and send_at is None:
            send_at = within_hours(services.clock.now(), candidates, team, workspace)
        opening = Opening(
            program,
            team,
            workspace,
            candidates,
            kind=kind,
            requested_by=requested_by,
            occurrence=occurrence,
            send_at=send_at or {},
            skipped=skipped or {},
        )
        [result] = await _open_together(session, services, [opening])
        if isinstance(result, Exception):
            raise result
    said.opened([result])
    return result


async def open_rounds(
    services: Services, openings: Sequence[Opening]
) -> list[RoundOpened | Exception]:
    """`open_round` for many teams at once (a dispatch pass's due programs): a few
    queries and one transaction for up to OPEN_BATCH_PEOPLE people, each round all or
    nothing as ever. A team that cannot open gets its Refused (or error) and the others
    open; should a batch fail in the database, its rounds are retried one by one."""
    results: list[RoundOpened | Exception] = []
    for batch in _batches(openings):
        try:
            async with services.db.session() as session:
                results += await _open_together(session, services, batch)
            continue
        except Exception as error:
            if len(batch) == 1:
                results.append(error)
                continue
            log.warning("opening %d rounds together failed (%s): one by one", len(batch), error)
        for opening in batch:
            try:
                async with services.db.session() as session:
                    results += await _open_together(session, services, [opening])
            except Exception as error:
                results.append(error)
    said.opened(results)
    return results


def _batches(openings: Sequence[Opening]) -> Iterator[list[Opening]]:
    """Whole teams, up to OPEN_BATCH_PEOPLE people a batch (short write transactions)."""
    batch: list[Opening] = []
    people = 0
    for opening in openings:
        if batch and people + len(opening.candidates) > OPEN_BATCH_PEOPLE:
            yield batch
            batch, people = [], 0
        batch.append(opening)
        people += len(opening.candidates)
    if batch:
        yield batch


async def _open_together(
    session: AsyncSession, services: Services, openings: Sequence[Opening]
) -> list[RoundOpened | Exception]:
    """Plan every round, then write them all: rounds, keys and invites, outbox rows and
    audit rows, one statement per table."""
    now = services.clock.now()
    program_ids = [o.program.id or 0 for o in openings]
    occurrences = [(o.program.id or 0, o.occurrence) for o in openings if o.occurrence]
    people = sorted({p.id or 0 for o in openings for p in o.candidates})
    rounds = _Rounds(
        opened=await pulse.rounds_for_occurrences(session, occurrences),
        current=await pulse.open_rounds_of(session, program_ids),
        numbers=await pulse.next_round_numbers(session, program_ids),
        paused=await pulse.paused_people(session, program_ids),
        recent=await pulse.prompts_since(session, people, now - timedelta(days=7)),
    )
    planned: list[_Planned | Exception] = []
    for opening in openings:
        try:
            planned.append(_plan(services, opening, now, rounds))
        except Exception as error:  # Refused, or one broken team: the others still open
            planned.append(error)
    new = [p for p in planned if isinstance(p, _Planned) and p.new]
    await pulse.create_rounds(session, [(p.round_, [i.id or 0 for i in p.invitees]) for p in new])
    await outbox.enqueue_many(
        session,
        [
            m
            for p in new
            for m in round_messages(p.round_, p.instrument, p.invitees, p.opening, now)
        ],
    )
    for p in new:
        audit.record(
            session,
            f"person:{p.opening.requested_by}" if p.opening.requested_by else "cli",
            "pulse.open",
            f"team:{p.opening.team.key}",
            round=p.round_.id,
            kind=p.opening.kind,
            invited=len(p.invitees),
        )
    return [p.opened() if isinstance(p, _Planned) else p for p in planned]


def _plan(services: Services, opening: Opening, now: datetime, rounds: _Rounds) -> _Planned:
    """The round for one opening, and who is asked (raises Refused when it cannot open)."""
    program, team, kind = opening.program, opening.team, opening.kind
    program_id = program.id or 0
    if opening.occurrence and (done := rounds.opened.get((program_id, opening.occurrence))):
        return _Planned(opening, done)
    if kind != "test" and (current := rounds.current.get(program_id)):
        raise Refused(
            text(
                "pulse.refused.already_open",
                team=team.name,
                number=current.number,
                team_key=team.key,
            )
        )
    instrument = instrument_for(services, program)
    paused = rounds.paused.get(program_id, set())
    invitees, left_out = _eligible(opening, now, paused, rounds.recent)
    if not invitees:
        raise Refused(text("pulse.refused.nobody", team=team.name, why=_why_not(left_out)))
    number = rounds.numbers.get(program_id, 1)
    send_at = opening.send_at
    round_ = PulseRound(
        program_id=program_id,
        team_id=team.id or 0,
        number=number,
        kind=kind,
        item_keys=rotation([i.key for i in instrument.items], program.items_per_pulse, number),
        privacy=program.privacy,
        min_respondents=program.min_respondents,
        min_comments=program.min_comments,
        occurrence=opening.occurrence,
        opened_at=now,
        # Everyone gets the whole window, counted from their own send time.
        closes_at=max(send_at.get(p.id or 0, now) for p in invitees)
        + timedelta(hours=program.window_hours),
    )
    rounds.numbers[program_id] = number + 1
    if kind != "test":
        rounds.current[program_id] = round_
    if opening.occurrence:
        rounds.opened[(program_id, opening.occurrence)] = round_
    for person in invitees:  # the fatigue governor counts this round's invites
        rounds.recent[person.id or 0] = rounds.recent.get(person.id or 0, 0) + 1
    return _Planned(opening, round_, instrument, invitees, left_out)
