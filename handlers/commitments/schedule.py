"""Commitment check-ins on their cadence (kind "commitment"), in the leader's own time.

One schedule entry per active commitment, due at the leader's local send time of the
next occurrence (default: every Friday 16:00 local, moved out of quiet hours, holidays
and leave like every other send). Firing it records the check-in row for the occurrence
(once, however often it fires), sends the question, plans at most one gentle nudge
(cancelled by an answer), and — with the leader's opt-in — the partner's summary of the
previous week.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.messages import Message
from handlers.commitments.follow_through import figures
from handlers.commitments.view import checkin_message, nudge_message, partner_message
from handlers.context import Services
from scheduler.calendar.fired import Fired
from scheduler.calendar.localtime import Availability, Cadence, next_allowed, plan_occurrence
from scheduler.calendar.people import availability
from storage.commitments import queries as commitments
from storage.commitments.models import Commitment
from storage.core import audit, directory, outbox, schedule
from storage.core.models import Person, Team, Workspace
from storage.core.schedule_models import ScheduleEntry

KIND = "commitment"
CATCH_UP_GRACE = timedelta(hours=12)  # found later than this after downtime: missed, not sent
NUDGE_AFTER = timedelta(hours=24)  # the one nudge: a day later, at an allowed time
SEARCH_OCCURRENCES = 60


def cadence_of(c: Commitment) -> Cadence:
    return Cadence.parse(c.frequency, c.weekday, c.at)


def leader_availability(
    c: Commitment, person: Person, team: Team | None, workspace: Workspace | None
) -> Availability:
    """The leader's availability; only this commitment's own snooze applies (a pulse
    snooze is about pulses)."""
    return dataclasses.replace(availability(person, team, workspace), snoozed_until=c.snoozed_until)


def next_due(
    c: Commitment, av: Availability, after: date, now: datetime
) -> tuple[date, datetime] | None:
    """The first occurrence after local day `after`, on or before the end date, that is
    sent (not skipped by leave or snooze) and still ahead of `now`."""
    cadence = cadence_of(c)
    day = after
    for _ in range(SEARCH_OCCURRENCES):
        day = cadence.next_occurrence(day)
        if day > c.ends_on:
            return None
        send = plan_occurrence(cadence, av, day, f"commitment:{c.id}")
        if send.skipped is None and send.utc >= now:
            return day, send.utc
    return None


def first_due(c: Commitment, av: Availability, now: datetime) -> tuple[date, datetime] | None:
    """The next check-in from now (today's counts if its time is still ahead)."""
    return next_due(c, av, now.astimezone(av.tz).date() - timedelta(days=1), now)


async def context_of(
    session: AsyncSession, c: Commitment
) -> tuple[Person, Team | None, Workspace | None]:
    person = await directory.person(session, c.person_id)
    assert person is not None
    team = await directory.team(session, c.team_id)
    return person, team, await directory.workspace(session, person.workspace_id)


async def plan_in(session: AsyncSession, now: datetime, c: Commitment) -> datetime | None:
    """(Re)plan a commitment's next check-in inside the caller's transaction."""
    assert c.id is not None
    found = None
    if c.status == "active":
        person, team, workspace = await context_of(session, c)
        found = first_due(c, leader_availability(c, person, team, workspace), now)
    due, day = (found[1], found[0].isoformat()) if found else (None, None)
    await schedule.set_due(session, KIND, c.id, due, day)
    return due


async def reschedule(services: Services, commitment_id: int) -> datetime | None:
    async with services.db.session() as session:
        c = await commitments.get(session, commitment_id)
        if c is None:
            return None
        return await plan_in(session, services.clock.now(), c)


async def reschedule_all(services: Services) -> int:
    """Plan every active commitment that has no next check-in planned."""
    async with services.db.session() as session:
        planned = {e.subject_id for e in await schedule.entries(session, KIND) if e.due_at}
        count = 0
        for c in await commitments.active(session):
            if c.id not in planned:
                await plan_in(session, services.clock.now(), c)
                count += 1
    return count


async def enqueue(
    session: AsyncSession,
    key: str,
    person_id: int,
    kind: str,
    message: Message,
    at: datetime,
    expires: datetime | None = None,
) -> bool:
    return await outbox.enqueue(
        session,
        dedupe_key=key,
        person_id=person_id,
        kind=kind,
        ref=message.ref,
        payload=message.model_dump(mode="json"),
        not_before=at,
        expires_at=expires,
    )


async def fire(services: Services, entry: ScheduleEntry, now: datetime) -> Fired:
    async with services.db.session() as session:
        c = await commitments.get(session, entry.subject_id)
        if c is None or c.status != "active":
            return Fired("commitment not active", None, None)
        person, team, workspace = await context_of(session, c)
        av = leader_availability(c, person, team, workspace)
        if entry.occurrence is None:
            found = first_due(c, av, now)
            return Fired("planned", *(found[1], found[0].isoformat()) if found else (None, None))
        day = date.fromisoformat(entry.occurrence)
        send = plan_occurrence(cadence_of(c), av, day, f"commitment:{c.id}")
        found = next_due(c, av, day, now)
        if send.skipped is not None:
            outcome = f"{day}: not asked ({send.skipped})"
        elif now - send.utc > CATCH_UP_GRACE:
            outcome = f"{day}: missed (due {send.utc:%Y-%m-%d %H:%M} UTC, found {now:%H:%M})"
            audit.record(
                session, "scheduler", "commitment.missed", f"commitment:{c.id}", day=str(day)
            )
        else:
            outcome = await _ask(session, c, person, av, day, now, found)
    if found is None:
        return Fired(outcome, None, None)
    return Fired(outcome, found[1], found[0].isoformat())


async def _ask(
    session: AsyncSession,
    c: Commitment,
    person: Person,
    av: Availability,
    day: date,
    now: datetime,
    found: tuple[date, datetime] | None,
) -> str:
    assert c.id is not None and person.id is not None
    checkin = await commitments.ensure_checkin(session, c.id, day.isoformat(), now)
    # A question nobody answered is not worth sending once the next one is due.
    expires = found[1] if found else now + timedelta(days=7)
    message = checkin_message(c, checkin, last=found is None, locale=person.locale)
    key = f"commitment:{c.id}:checkin:{day}"
    await enqueue(session, key, person.id, "commitment-checkin", message, now, expires)
    if checkin.outcome is None:
        at, _ = next_allowed(now + NUDGE_AFTER, av)
        if at < expires:
            nudge = nudge_message(c, checkin, person.locale)
            key = f"commitment:{c.id}:chase:{day}"
            await enqueue(session, key, person.id, "commitment-nudge", nudge, at, expires)
    await _partner_summary(session, c, person, day, now)
    return f"{day}: check-in asked"


async def _partner_summary(
    session: AsyncSession, c: Commitment, leader: Person, day: date, now: datetime
) -> None:
    """The previous week's outcome and figures for the partner, never the notes, and only
    with the leader's opt-in."""
    if not (c.partner_id and c.partner_summary):
        return
    last = await commitments.previous_checkin(session, c.id or 0, day.isoformat())
    partner = await directory.person(session, c.partner_id)
    if last is None or partner is None:
        return
    history = (await commitments.checkins(session, [c.id or 0]))[c.id or 0]
    f = figures([h for h in history if h.occurrence <= last.occurrence])
    message = partner_message(c, leader.name, last, f, partner.locale)
    workspace = await directory.workspace(session, partner.workspace_id)
    at, _ = next_allowed(now, availability(partner, None, workspace))
    key = f"commitment:{c.id}:partner:{last.occurrence}"
    await enqueue(session, key, partner.id or 0, "commitment-partner", message, at)
