"""A round opened by hand respects people's hours (#15.7): each person gets it now if
it is within their hours, else at the start of their next working hours, and the
confirmation says so."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from bot.app import Pulsecoach
from bot.core.events import Actor, TextEvent
from bot.demo.load import load_demo
from bot.settings import Settings
from storage.core.models import OutboxMessage, Person
from tests.support.clock import FakeClock


async def test_send_now_waits_for_each_persons_working_hours(tmp_path: Path, no_env: None) -> None:
    # Tuesday 10:00 UTC: Berlin 11:00 and London 10:00 are at work; New York (05:00),
    # Los Angeles (02:00), Singapore (18:00, after work) and Sydney (21:00) are not.
    clock = FakeClock(datetime(2026, 11, 24, 10, 0, tzinfo=UTC))
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    app = Pulsecoach.build(Settings(PULSECOACH_DATABASE_URL=url), clock=clock)
    await app.db.upgrade()
    await load_demo(app)
    async with app.db.session() as session:
        people = {p.handle: p for p in (await session.exec(select(Person))).all()}
    sam = Actor(people["sam"].id or 0, 1, "local")
    await app.router.on_text(TextEvent(sam, "pulse close leadership"))

    reply = await app.router.on_text(TextEvent(sam, "pulse send leadership"))

    assert reply.notice == (
        "Pulse sent to 6 people in leadership: 2 now, 2 at 08:00 their time, "
        "1 at Wed 08:30 their time, 1 at Wed 09:00 their time — each within their own "
        "working hours."
    )
    async with app.db.session() as session:
        rows = (
            await session.exec(
                select(OutboxMessage).where(col(OutboxMessage.dedupe_key).contains(":invite:"))
            )
        ).all()
    by_id = {p.id: h for h, p in people.items()}
    local = {
        by_id[r.person_id]: r.not_before.replace(tzinfo=UTC).astimezone(
            ZoneInfo(people[by_id[r.person_id]].timezone or "UTC")
        )
        for r in rows
        if r.not_before.replace(tzinfo=UTC) >= clock.now()
    }
    assert {h: f"{t:%a %H:%M}" for h, t in local.items()} == {
        "maya": "Tue 11:00",
        "oliver": "Tue 10:00",
        "priya": "Tue 08:00",
        "daniel": "Tue 08:00",
        "weiling": "Wed 09:00",
        "chloe": "Wed 08:30",
    }
    await app.db.dispose()
