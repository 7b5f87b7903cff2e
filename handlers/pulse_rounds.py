"""Opening and closing pulse rounds: who is asked, what, and when they are nudged."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.events import Refused
from bot.messages import Message, notice
from handlers.context import Services
from handlers.pulse_view import local_time, pulse_message, round_ref
from prompts.instruments import Instrument
from prompts.texts import text
from scheduler.localtime import next_allowed
from scheduler.people import availability, person_timezone
from storage import audit, directory, outbox, pulse
from storage.models import Person, Role, Team, Workspace
from storage.pulse_models import PulseProgram, PulseRound

MAX_PULSES_PER_WEEK = 3  # fatigue governor: prompts per person per week, all programs
PAUSE_AFTER_UNANSWERED = 3
DEFAULT_REMINDERS = {"halfway": True, "before_close_hours": 12, "max": 2}
REMINDER_STALE_AFTER = timedelta(hours=6)


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


@dataclass(frozen=True)
class RoundClosed:
    round_id: int
    team: str
    invited: int
    answered: int
    paused: list[str]


def rotation(item_keys: Sequence[str], per_pulse: int | None, number: int) -> list[str]:
    """Items for round `number` (1-based): a sliding window over the instrument, so
    every item is asked at least once every ceil(N / per_pulse) rounds."""
    keys = list(item_keys)
    if not per_pulse or per_pulse >= len(keys):
        return keys
    start = ((number - 1) * per_pulse) % len(keys)
    return [keys[(start + offset) % len(keys)] for offset in range(per_pulse)]


def rounds_to_cover(n_items: int, per_pulse: int | None) -> int:
    return 1 if not per_pulse or per_pulse >= n_items else math.ceil(n_items / per_pulse)


async def _team_and_program(
    session: AsyncSession, team_key: str, program_key: str | None
) -> tuple[Team, PulseProgram]:
    team = await directory.team_by_key(session, team_key)
    if team is None:
        raise Refused(f"There is no team {team_key!r}.")
    assert team.id is not None
    programs = await pulse.programs_for_team(session, team.id)
    if program_key:
        programs = [p for p in programs if p.key == program_key]
    if not programs:
        raise Refused(
            f"Team {team_key!r} has no active pulse program: add one under `programs:` "
            "in the configuration file and run `pulsecoach apply`."
        )
    return team, programs[0]


def instrument_for(services: Services, program: PulseProgram) -> Instrument:
    instrument = services.instruments.get(program.instrument)
    if instrument is None:
        raise Refused(
            f"Instrument {program.instrument!r} of program {program.key!r} is not loaded."
        )
    return instrument


async def _eligible(
    session: AsyncSession,
    services: Services,
    program: PulseProgram,
    team: Team,
    workspace: Workspace | None,
    people: Sequence[Person],
    kind: str,
) -> tuple[list[Person], dict[str, str]]:
    """Who gets this round, and why the others don't (leave, snooze, pause, fatigue)."""
    now = services.clock.now()
    assert program.id is not None
    paused = await pulse.paused_people(session, program.id)
    recent = await pulse.prompts_since(
        session, [p.id or 0 for p in people], now - timedelta(days=7)
    )
    chosen: list[Person] = []
    left_out: dict[str, str] = {}
    for person in people:
        today = now.astimezone(person_timezone(person, team, workspace)).date()
        if kind != "test" and person.id in paused:
            left_out[person.handle] = "paused after unanswered pulses"
        elif person.snoozed_until and person.snoozed_until > now:
            left_out[person.handle] = f"snoozed until {person.snoozed_until:%Y-%m-%d}"
        elif (
            person.leave_from
            and person.leave_until
            and person.leave_from <= today <= person.leave_until
        ):
            left_out[person.handle] = f"on leave until {person.leave_until}"
        elif kind != "test" and recent.get(person.id or 0, 0) >= MAX_PULSES_PER_WEEK:
            left_out[person.handle] = f"already had {MAX_PULSES_PER_WEEK} pulses this week"
        else:
            chosen.append(person)
    return chosen, left_out


def _why_not(left_out: Mapping[str, str]) -> str:
    """'maya: on leave until …' for a few people, counts by reason for many."""
    if not left_out:
        return "the team has no executives"
    if len(left_out) <= 3:
        return "; ".join(f"{handle}: {why}" for handle, why in left_out.items())
    reasons: dict[str, int] = {}
    for why in left_out.values():
        reason = why.split(" until ")[0]
        reasons[reason] = reasons.get(reason, 0) + 1
    return "; ".join(f"{n} {reason}" for reason, n in sorted(reasons.items()))


def reminder_times(program: PulseProgram, opened: datetime, closes: datetime) -> list[datetime]:
    policy = {**DEFAULT_REMINDERS, **(program.reminders or {})}
    times: list[datetime] = []
    if policy.get("halfway"):
        times.append(opened + (closes - opened) / 2)
    before = policy.get("before_close_hours")
    if before:
        times.append(closes - timedelta(hours=float(before)))
    wanted = sorted({t for t in times if opened < t < closes})
    return wanted[: int(policy.get("max", 2))]


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
    now = services.clock.now()
    send_at = send_at or {}
    async with services.db.session() as session:
        team, program = await _team_and_program(session, team_key, program_key)
        assert team.id is not None and program.id is not None
        if occurrence and (
            done := await pulse.round_for_occurrence(session, program.id, occurrence)
        ):
            return RoundOpened(
                round_id=done.id or 0,
                team=team.key,
                number=done.number,
                items=list(done.item_keys),
                invited=[],
                closes_at=done.closes_at,
                already=True,
            )
        if kind != "test" and (current := await pulse.open_round(session, program.id)):
            raise Refused(
                f"A pulse for {team.name} is already open (round {current.number}); close it "
                f"first with `pulsecoach pulse close {team.key}`."
            )
        instrument = instrument_for(services, program)
        workspace = await directory.workspace(session, team.workspace_id)
        if kind == "test":
            tester = await directory.person(session, requested_by or 0)
            candidates = [tester] if tester else []
        else:
            candidates = await directory.members(session, team.id, Role.EXECUTIVE)
        skipped = skipped or {}
        left_out = {p.handle: skipped[p.id or 0] for p in candidates if (p.id or 0) in skipped}
        invitees, not_eligible = await _eligible(
            session,
            services,
            program,
            team,
            workspace,
            [p for p in candidates if (p.id or 0) not in skipped],
            kind,
        )
        left_out |= not_eligible
        if not invitees:
            raise Refused(f"Nobody in {team.name} can be asked right now: {_why_not(left_out)}.")
        number = await pulse.next_round_number(session, program.id)
        round_ = await pulse.create_round(
            session,
            PulseRound(
                program_id=program.id,
                team_id=team.id,
                number=number,
                kind=kind,
                item_keys=rotation(
                    [i.key for i in instrument.items], program.items_per_pulse, number
                ),
                privacy=program.privacy,
                min_respondents=program.min_respondents,
                min_comments=program.min_comments,
                occurrence=occurrence,
                opened_at=now,
                # Everyone gets the whole window, counted from their own send time.
                closes_at=max(send_at.get(p.id or 0, now) for p in invitees)
                + timedelta(hours=program.window_hours),
            ),
            [p.id or 0 for p in invitees],
        )
        assert round_.id is not None
        batch: list[outbox.Outgoing] = []
        rendered: dict[tuple[str, str], Message] = {}  # the same for everyone in a zone
        for person in invitees:
            tz = person_timezone(person, team, workspace)
            sent_at = max(send_at.get(person.id or 0, now), now)
            message = rendered.get((tz.key, person.locale))
            if message is None:
                message = pulse_message(round_, team.name, instrument, tz, {}, locale=person.locale)
                rendered[(tz.key, person.locale)] = message
            batch.append(
                outgoing(
                    f"pulse:{round_.id}:invite:{person.id}",
                    person,
                    "pulse",
                    message,
                    sent_at,
                    round_.closes_at,
                )
            )
            reminders = reminder_times(program, sent_at, round_.closes_at)
            for n, when in enumerate(reminders, start=1):
                at, _ = next_allowed(when, availability(person, team, workspace))
                if at >= round_.closes_at:
                    continue
                nudge = notice(
                    f"{round_ref(round_.id)}:reminder:{n}",
                    text(
                        "pulse.reminder",
                        person.locale,
                        team=team.name,
                        answered=0,
                        total=len(round_.item_keys),
                        closes=local_time(round_.closes_at, tz),
                    ),
                )
                # A nudge hours late (say, after downtime) is noise: it expires instead.
                expires = min(round_.closes_at, at + REMINDER_STALE_AFTER)
                batch.append(
                    outgoing(
                        f"pulse:{round_.id}:remind:{person.id}:{n}",
                        person,
                        "pulse-reminder",
                        nudge,
                        at,
                        expires,
                    )
                )
        await outbox.enqueue_many(session, batch)
        audit.record(
            session,
            f"person:{requested_by}" if requested_by else "cli",
            "pulse.open",
            f"team:{team.key}",
            round=round_.id,
            kind=kind,
            invited=len(invitees),
        )
        return RoundOpened(
            round_id=round_.id,
            team=team.key,
            number=number,
            items=list(round_.item_keys),
            invited=[p.handle for p in invitees],
            left_out=left_out,
            closes_at=round_.closes_at,
        )


def outgoing(
    key: str, person: Person, kind: str, message: Message, at: datetime, expires: datetime | None
) -> outbox.Outgoing:
    return outbox.Outgoing(
        dedupe_key=key,
        person_id=person.id or 0,
        kind=kind,
        ref=message.ref,
        payload=message.model_dump(mode="json"),
        not_before=at,
        expires_at=expires,
    )
