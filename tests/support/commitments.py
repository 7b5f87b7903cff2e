"""Commitment test helpers: office hours, running the clock, rows, messages and answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import select

from storage.commitments.models import Commitment, CommitmentCheckIn
from storage.core import schedule
from storage.core.models import OutboxMessage, Person
from tests.support.pulse_fixtures import Org

BEHAVIOUR = "ask for dissent before every decision"


async def _office_hours(org: Org, handle: str, zone: str) -> None:
    """A leader with a real working week in their own time zone."""
    async with org.app.db.session() as session:
        person = await session.get(Person, org.ids[handle])
        assert person is not None
        person.timezone = zone
        person.work_days, person.work_start, person.work_end = [0, 1, 2, 3, 4], "08:00", "18:00"
        session.add(person)


async def _run_until(org: Org, end: datetime) -> None:
    """Jump from due time to due time (no sleeping), dispatching and sending."""
    app, clock = org.app, org.clock
    while True:
        async with app.db.session() as session:
            due = [e.due_at for e in await schedule.entries(session) if e.due_at]
            pending = (
                await session.exec(
                    select(OutboxMessage.not_before).where(OutboxMessage.status == "pending")
                )
            ).all()
        upcoming = [t for t in [*due, *pending] if t > clock.now()]
        if not upcoming or min(upcoming) > end:
            clock.set(end)
            await app.dispatcher.run_once()
            await app.sender.drain()
            return
        clock.set(min(upcoming))
        await app.dispatcher.run_once()
        await app.sender.drain()


async def _commitments(org: Org) -> list[Commitment]:
    async with org.app.db.session() as session:
        return list((await session.exec(select(Commitment))).all())


async def _checkins(org: Org) -> list[CommitmentCheckIn]:
    async with org.app.db.session() as session:
        return list((await session.exec(select(CommitmentCheckIn))).all())


async def _outbox(org: Org, kind: str) -> list[OutboxMessage]:
    async with org.app.db.session() as session:
        query = select(OutboxMessage).where(OutboxMessage.kind == kind)
        return list((await session.exec(query)).all())


def _latest(messages: list[dict[str, Any]], prefix: str) -> dict[str, Any]:
    found = [m for m in messages if m["ref"].startswith(prefix) and "nudge" not in m["ref"]]
    assert found, f"no message {prefix}"
    return found[-1]


async def _answer(org: Org, handle: str, outcome: str, note: str = "") -> dict[str, Any]:
    message = _latest(await org.messages(handle), "commitment-checkin:")
    checkin_id = message["ref"].split(":")[1]
    status, body = await org.click(
        handle,
        "commitment.checkin",
        f"{checkin_id}:{outcome}",
        message_id=message["id"],
        inputs={"reflection": note},
    )
    assert status == 200, body
    return body
