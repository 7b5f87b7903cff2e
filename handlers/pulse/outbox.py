"""A pulse round's outbox messages: each invitee's pulse at their send time, and the
reminders that follow it inside their allowed hours, until the round closes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.core.messages import Message, notice
from handlers.pulse.view import local_time, pulse_message, round_ref
from prompts.instruments import Instrument
from prompts.texts import text
from scheduler.calendar.localtime import Availability, next_allowed
from scheduler.calendar.people import availability, person_timezone
from storage.core import outbox
from storage.core.models import Person
from storage.pulse.models import PulseProgram, PulseRound

if TYPE_CHECKING:
    from handlers.pulse.rounds import Opening

DEFAULT_REMINDERS = {"halfway": True, "before_close_hours": 12, "max": 2}
REMINDER_STALE_AFTER = timedelta(hours=6)


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


def round_messages(
    round_: PulseRound,
    instrument: Instrument | None,
    invitees: Sequence[Person],
    opening: Opening,
    now: datetime,
) -> list[outbox.Outgoing]:
    """The round's invites and reminders. A message is rendered once for everyone who
    shares a zone and locale, and its payload shared by their outbox rows."""
    assert round_.id is not None and instrument is not None
    team, workspace, closes = opening.team, opening.workspace, round_.closes_at
    invites: dict[tuple[str, str], dict[str, Any]] = {}
    nudges: dict[tuple[str, str, int], dict[str, Any]] = {}
    moved: dict[tuple[datetime, Availability], datetime] = {}
    batch: list[outbox.Outgoing] = []
    for person in invitees:
        person_id, locale = person.id or 0, person.locale
        tz = person_timezone(person, team, workspace)
        sent_at = max(opening.send_at.get(person_id, now), now)
        zone = (tz.key, locale)
        if zone not in invites:
            message = pulse_message(round_, team.name, instrument, tz, {}, locale=locale)
            invites[zone] = message.model_dump(mode="json")
        batch.append(
            outbox.Outgoing(
                f"pulse:{round_.id}:invite:{person_id}",
                person_id,
                "pulse",
                round_ref(round_.id),
                invites[zone],
                sent_at,
                closes,
            )
        )
        allowed = opening.availability.get(person_id) or availability(person, team, workspace)
        for n, when in enumerate(reminder_times(opening.program, sent_at, closes), start=1):
            if (when, allowed) not in moved:
                moved[(when, allowed)] = next_allowed(when, allowed)[0]
            at = moved[(when, allowed)]
            if at >= closes:
                continue
            ref = f"{round_ref(round_.id)}:reminder:{n}"
            if (*zone, n) not in nudges:
                nudge = text(
                    "pulse.reminder",
                    locale,
                    team=team.name,
                    answered=0,
                    total=len(round_.item_keys),
                    closes=local_time(closes, tz),
                )
                nudges[(*zone, n)] = notice(ref, nudge).model_dump(mode="json")
            # A nudge hours late (say, after downtime) is noise: it expires instead.
            expires = min(closes, at + REMINDER_STALE_AFTER)
            batch.append(
                outbox.Outgoing(
                    f"pulse:{round_.id}:remind:{person_id}:{n}",
                    person_id,
                    "pulse-reminder",
                    ref,
                    nudges[(*zone, n)],
                    at,
                    expires,
                )
            )
    return batch


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
