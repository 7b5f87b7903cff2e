"""Check-ins and their reminders in chat: answering Kept / Partly / Missed / Skip (one
row per occurrence, so double clicks update it), adding a note, and the `snooze`
command: commitment reminders, or pulses (the one place both kinds are snoozed, so
`snooze` can answer with both). Also the small lookups every commitment action shares."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.events import ActionEvent, Refused, Reply
from handlers.commitments import view
from handlers.commitments.schedule import cadence_of, plan_in
from handlers.context import ActionHandler, Services
from prompts.texts import text
from scheduler.calendar.people import person_timezone
from storage.commitments import queries as commitments
from storage.commitments.models import Commitment, CommitmentCheckIn
from storage.core import directory, outbox
from storage.core.models import Person
from storage.pulse import rounds as pulse

OPEN = ("pending", "active", "paused")


async def person_of(session: AsyncSession, person_id: int) -> Person:
    person = await directory.person(session, person_id)
    assert person is not None
    return person


async def owned(
    session: AsyncSession, person_id: int, commitment_id: int, statuses: tuple[str, ...] = OPEN
) -> Commitment:
    c = await commitments.get(session, commitment_id)
    if c is None:
        raise Refused(text("commitment.refused.not_found", id=commitment_id))
    if c.person_id != person_id:
        raise Refused(text("commitment.refused.not_yours"))
    if c.status not in statuses:
        raise Refused(text("commitment.refused.closed", status=c.status))
    return c


def number(value: str) -> int:
    if not value.strip().lstrip("#").isdigit():
        raise Refused(text("commitment.refused.unreadable"))
    return int(value.strip().lstrip("#"))


async def _checkin_for(
    session: AsyncSession, event: ActionEvent, checkin_id: int
) -> tuple[CommitmentCheckIn, Commitment, Person]:
    checkin = await commitments.checkin(session, checkin_id)
    if checkin is None:
        raise Refused(text("commitment.refused.checkin_unknown"))
    c = await owned(session, event.actor.person_id, checkin.commitment_id, ("active", "paused"))
    return checkin, c, await person_of(session, event.actor.person_id)


def _reflection(event: ActionEvent, required: bool) -> str | None:
    note = " ".join(event.inputs.get(view.REFLECTION_INPUT, "").split())
    if not note:
        if required:
            raise Refused(text("commitment.reflection.empty"))
        return None
    if len(note) > view.REFLECTION_MAX:
        raise Refused(
            text("commitment.reflection.too_long", max=view.REFLECTION_MAX, length=len(note))
        )
    return note


def _is_last(c: Commitment, checkin: CommitmentCheckIn) -> bool:
    return cadence_of(c).next_occurrence(date.fromisoformat(checkin.occurrence)) > c.ends_on


async def on_checkin(services: Services, event: ActionEvent) -> Reply:
    """Kept / Partly / Missed / Skip: one row per occurrence, so clicks update it."""
    checkin_id, _, outcome = event.value.partition(":")
    if not checkin_id.isdigit() or outcome not in view.OUTCOMES:
        raise Refused(text("commitment.refused.unreadable"))
    note = _reflection(event, required=False)
    async with services.db.session() as session:
        checkin, c, person = await _checkin_for(session, event, int(checkin_id))
        checkin.outcome, checkin.answered_at = outcome, services.clock.now()
        checkin.reflection = note or checkin.reflection
        session.add(checkin)
        prefix = f"commitment:{c.id}:chase:{checkin.occurrence}"
        await outbox.cancel_pending(session, prefix, "answered")
        return Reply(update=view.checkin_message(c, checkin, _is_last(c, checkin), person.locale))


async def on_reflect(services: Services, event: ActionEvent) -> Reply:
    note = _reflection(event, required=True)
    async with services.db.session() as session:
        checkin, c, person = await _checkin_for(session, event, number(event.value))
        checkin.reflection = note
        session.add(checkin)
        update = view.checkin_message(c, checkin, _is_last(c, checkin), person.locale)
    return Reply(update=update, notice=text("commitment.reflection.saved", person.locale))


PULSES = ("pulse", "pulses")
FILLER = ("reminders", "reminder", "until", "till", "for")
OFF = ("off", "stop", "none")
SNOOZE_DAYS_MAX = 365
_SPAN = re.compile(r"^(\d{1,3}) ?(d|days?|w|weeks?)$")


def _said(words: list[str]) -> str:
    return " ".join(w for w in words if w.lower() not in FILLER).lower()


def snooze_end(words: list[str], now: datetime, tz: ZoneInfo, refusal: str) -> tuple[datetime, str]:
    """When a snooze of `2026-12-10` (that day included, the person's time), `2w` or
    `3 days` ends, in UTC, and how to say it; Refused past a year or unreadable."""
    said = _said(words)
    today = now.astimezone(tz).date()
    span = _SPAN.match(said)
    if span:
        days = int(span.group(1)) * (7 if span.group(2).startswith("w") else 1)
        if 0 < days <= SNOOZE_DAYS_MAX:
            until = now + timedelta(days=days)
            return until, f"{until.astimezone(tz):%Y-%m-%d %H:%M}"
    else:
        try:
            last = date.fromisoformat(said)
        except ValueError:
            last = None
        if last is not None and today < last <= today + timedelta(days=SNOOZE_DAYS_MAX):
            until = datetime.combine(last + timedelta(days=1), time(0), tz).astimezone(UTC)
            return until, last.isoformat()
    raise Refused(text(refusal))


async def snooze(services: Services, person_id: int, words: list[str]) -> str:
    """`snooze` alone answers with the options. `snooze pulses until 2026-12-10`, `2w`
    or `off`: no pulses meanwhile (the Snooze button does the same for two weeks).
    Otherwise commitment reminders, as ever: `snooze [reminders] until 2026-12-10`,
    `snooze reminders 1w`, `snooze off`."""
    if not words:
        async with services.db.session() as session:
            person = await person_of(session, person_id)
        return text("snooze.options", person.locale)
    if words[0].lower() in PULSES:
        return await _snooze_pulses(services, person_id, words[1:])
    return await _snooze_reminders(services, person_id, words)


async def _snooze_pulses(services: Services, person_id: int, words: list[str]) -> str:
    now = services.clock.now()
    async with services.db.session() as session:
        person = await person_of(session, person_id)
        if _said(words) in OFF:
            person.snoozed_until = None
            session.add(person)
            return text("pulse.unsnoozed", person.locale)
        roles = await directory.roles_of(session, person_id)
        team = roles[0][0] if roles else None
        workspace = await directory.workspace(session, person.workspace_id)
        tz = person_timezone(person, team, workspace)
        until, said = snooze_end(words, now, tz, "pulse.refused.snooze_date")
        person.snoozed_until = until
        session.add(person)
        # The open pulses stay answerable; only their reminders stop.
        programs = [
            p.id or 0 for t, _ in roles for p in await pulse.programs_for_team(session, t.id or 0)
        ]
        for round_ in (await pulse.open_rounds_of(session, programs)).values():
            prefix = f"pulse:{round_.id}:remind:{person_id}:"
            await outbox.cancel_pending(session, prefix, "snoozed")
    return text("pulse.snoozed", person.locale, until=said)


async def _snooze_reminders(services: Services, person_id: int, words: list[str]) -> str:
    now = services.clock.now()
    async with services.db.session() as session:
        person = await person_of(session, person_id)
        rows = await commitments.of_person(session, person_id, ("active",))
        if not rows:
            raise Refused(text("commitment.refused.nothing_to_snooze"))
        team = await directory.team(session, rows[0].team_id)
        workspace = await directory.workspace(session, person.workspace_id)
        tz = person_timezone(person, team, workspace)
        until: datetime | None = None
        said = ""
        if _said(words) not in OFF:
            until, said = snooze_end(words, now, tz, "commitment.refused.snooze_date")
        for c in rows:
            c.snoozed_until = until
            session.add(c)
            if until:
                await outbox.cancel_pending(session, f"commitment:{c.id}:", "snoozed")
            await plan_in(session, now, c)
    if until is None:
        return text("commitment.unsnoozed", person.locale)
    return text("commitment.snoozed", person.locale, until=said, count=len(rows))


ACTIONS: dict[str, ActionHandler] = {view.CHECKIN: on_checkin, view.REFLECT: on_reflect}
