"""Check-ins and their reminders in chat: answering Kept / Partly / Missed / Skip (one
row per occurrence, so double clicks update it), adding a note, and snoozing reminders.
Also the small lookups every commitment action shares."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.events import ActionEvent, Refused, Reply
from handlers import commitments_view as view
from handlers.commitment_schedule import cadence_of, plan_in
from handlers.context import ActionHandler, Services
from prompts.texts import text
from scheduler.people import person_timezone
from storage import commitments, directory, outbox
from storage.commitment_models import Commitment, CommitmentCheckIn
from storage.models import Person

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


async def snooze(services: Services, person_id: int, words: list[str]) -> str:
    """`snooze reminders until 2026-12-10` (inclusive) or `snooze off`."""
    now = services.clock.now()
    words = [w for w in words if w.lower() not in ("reminders", "reminder", "until", "till")]
    async with services.db.session() as session:
        person = await person_of(session, person_id)
        rows = await commitments.of_person(session, person_id, ("active",))
        if not rows:
            raise Refused(text("commitment.refused.nothing_to_snooze"))
        team = await directory.team(session, rows[0].team_id)
        workspace = await directory.workspace(session, person.workspace_id)
        tz = person_timezone(person, team, workspace)
        today = now.astimezone(tz).date()
        until: datetime | None = None
        if not (words and words[0].lower() in ("off", "stop", "none")):
            try:
                last = date.fromisoformat(words[0]) if len(words) == 1 else None
            except ValueError:
                last = None
            if last is None or not today < last <= today + timedelta(days=365):
                raise Refused(text("commitment.refused.snooze_date"))
            until = datetime.combine(last + timedelta(days=1), time(0), tz).astimezone(UTC)
        for c in rows:
            c.snoozed_until = until
            session.add(c)
            if until:
                await outbox.cancel_pending(session, f"commitment:{c.id}:", "snoozed")
            await plan_in(session, now, c)
    if until is None:
        return text("commitment.unsnoozed", person.locale)
    return text("commitment.snoozed", person.locale, until=words[0], count=len(rows))


ACTIONS: dict[str, ActionHandler] = {view.CHECKIN: on_checkin, view.REFLECT: on_reflect}
