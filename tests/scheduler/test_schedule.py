"""The scheduling engine end to end: cadences in each person's time zone, DST,
quiet hours, catch-up after downtime and idempotent dispatch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlmodel import col, select

from bot.app import Pulsecoach
from handlers.pulse import schedule as pulse_schedule
from handlers.pulse.close import close_due_rounds
from storage.core import schedule
from storage.core.models import AuditEntry, OutboxMessage, Person
from storage.pulse.models import PulseInvite, PulseProgram, PulseRound
from tests.support.clock import FakeClock
from tests.support.pulse_fixtures import build_org


async def _org(
    tmp_path: Path,
    clock: FakeClock,
    zones: dict[str, str],
    *,
    weekday: int = 0,
    at: str = "09:00",
    all_week: bool = False,
) -> tuple[Pulsecoach, dict[str, int]]:
    app, ids = await build_org(tmp_path, clock, executives=tuple(zones))
    async with app.db.session() as session:
        for handle, zone in zones.items():
            person = await session.get(Person, ids[handle])
            assert person is not None
            person.timezone = zone
            if not all_week:
                person.work_days, person.work_start, person.work_end = (
                    [0, 1, 2, 3, 4],
                    "08:00",
                    "18:00",
                )
            session.add(person)
        program = await session.get(PulseProgram, ids["program"])
        assert program is not None
        program.weekday, program.at, program.window_hours = weekday, at, 48
        session.add(program)
    await pulse_schedule.reschedule(app.services, ids["program"])
    return app, ids


async def _run_until(
    app: Pulsecoach, clock: FakeClock, end: datetime, engaged: bool = False
) -> None:
    """Jump from due time to due time (no sleeping), dispatching, sending and closing.
    `engaged`: everyone answers (so the fatigue governor never pauses anyone)."""
    while True:
        async with app.db.session() as session:
            due = [e.due_at for e in await schedule.entries(session) if e.due_at]
            pending = (
                await session.exec(
                    select(OutboxMessage.not_before).where(OutboxMessage.status == "pending")
                )
            ).all()
            closing = (
                await session.exec(select(PulseRound.closes_at).where(PulseRound.status == "open"))
            ).all()
        upcoming = [t for t in [*due, *pending, *closing] if t > clock.now()]
        if not upcoming or min(upcoming) > end:
            clock.set(end)
            return
        clock.set(min(upcoming))
        await app.dispatcher.run_once()
        if engaged:
            async with app.db.session() as session:
                await session.exec(update(PulseInvite).values(answered=True))  # type: ignore[call-overload]
        await close_due_rounds(app.services)
        await app.sender.drain()


async def _invites(app: Pulsecoach) -> list[tuple[int, datetime]]:
    async with app.db.session() as session:
        rows = (
            await session.exec(
                select(OutboxMessage)
                .where(OutboxMessage.kind == "pulse")
                .order_by(col(OutboxMessage.not_before))
            )
        ).all()
    return [(r.person_id, r.not_before) for r in rows]


async def test_sydney_and_new_york_both_get_nine_local(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 11, 20, 12, 0, tzinfo=UTC))  # a Friday
    app, ids = await _org(tmp_path, clock, {"syd": "Australia/Sydney", "nyc": "America/New_York"})
    await _run_until(app, clock, datetime(2026, 11, 24, 0, 0, tzinfo=UTC))
    sends = {person: at for person, at in await _invites(app)}
    syd = sends[ids["syd"]].astimezone(ZoneInfo("Australia/Sydney"))
    nyc = sends[ids["nyc"]].astimezone(ZoneInfo("America/New_York"))
    assert (syd.weekday(), syd.hour, syd.minute) == (0, 9, 0)
    assert (nyc.weekday(), nyc.hour, nyc.minute) == (0, 9, 0)
    assert sends[ids["syd"]] == datetime(2026, 11, 22, 22, 0, tzinfo=UTC)  # Sunday in UTC
    assert sends[ids["nyc"]] == datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    async with app.db.session() as session:
        rounds = (await session.exec(select(PulseRound))).all()
    assert len(rounds) == 1  # one round for the team, each member at their own time
    assert rounds[0].closes_at == sends[ids["nyc"]] + timedelta(hours=48)
    await app.db.dispose()


async def _weekly_sends(tmp_path: Path, start: datetime, weeks: int) -> list[datetime]:
    clock = FakeClock(start)
    app, ids = await _org(
        tmp_path, clock, {"berlin": "Europe/Berlin"}, weekday=6, at="02:30", all_week=True
    )
    async with app.db.session() as session:
        person = await session.get(Person, ids["berlin"])
        assert person is not None
        # Works any hour and keeps no quiet hours: this test is about DST alone.
        person.work_start, person.work_end, person.quiet_hours = "00:00", "23:59", None
        session.add(person)
    await pulse_schedule.reschedule(app.services, ids["program"])
    await _run_until(app, clock, start + timedelta(weeks=weeks), engaged=True)
    sends = [at for _, at in await _invites(app)]
    await app.db.dispose()
    return sends


async def test_berlin_weekly_0230_across_spring_change_fires_once_a_week_on_sunday(
    tmp_path: Path,
) -> None:
    sends = await _weekly_sends(tmp_path, datetime(2026, 3, 9, tzinfo=UTC), 6)
    berlin = ZoneInfo("Europe/Berlin")
    local = [s.astimezone(berlin) for s in sends]
    assert len(local) == 6
    assert all(day.weekday() == 6 for day in local)
    assert len({day.isocalendar()[1] for day in local}) == 6
    change_day = [d for d in local if d.date().isoformat() == "2026-03-29"]
    assert len(change_day) == 1


async def test_berlin_weekly_0230_across_autumn_change_fires_once(tmp_path: Path) -> None:
    sends = await _weekly_sends(tmp_path, datetime(2026, 10, 5, tzinfo=UTC), 5)
    berlin = ZoneInfo("Europe/Berlin")
    local = [s.astimezone(berlin) for s in sends]
    assert all(day.weekday() == 6 for day in local)
    assert [d.date().isoformat() for d in local].count("2026-10-25") == 1
    assert len(local) == len({d.date() for d in local}) == 5


async def test_a_weekend_send_moves_to_monday_at_the_same_time(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
    app, _ = await _org(tmp_path, clock, {"lon": "Europe/London"}, weekday=5, at="10:00")
    await _run_until(app, clock, datetime(2026, 12, 1, tzinfo=UTC))
    [(_, at)] = await _invites(app)
    local = at.astimezone(ZoneInfo("Europe/London"))
    assert (local.date().isoformat(), local.hour) == ("2026-11-30", 10)  # Sat 28 -> Mon 30
    rows = await pulse_schedule.preview(app.services, "leadership", 14)
    assert rows and all(r.local.weekday() < 5 for r in rows)
    assert all(r.reasons == ("non-working day",) for r in rows)
    await app.db.dispose()


async def test_quiet_hours_move_a_send_to_the_next_allowed_morning(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
    app, _ = await _org(tmp_path, clock, {"nyc": "America/New_York"}, weekday=2, at="21:00")
    await _run_until(app, clock, datetime(2026, 11, 27, tzinfo=UTC))
    [(_, at)] = await _invites(app)
    local = at.astimezone(ZoneInfo("America/New_York"))
    assert (local.date().isoformat(), local.hour) == ("2026-11-26", 8)  # Wed 21:00 -> Thu 08:00
    [row, *_] = await pulse_schedule.preview(app.services, "leadership", 14)
    assert row.reasons == ("quiet hours",)
    await app.db.dispose()


async def test_downtime_catch_up_sends_once_or_records_a_miss(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2026, 11, 20, 12, 0, tzinfo=UTC))
    app, _ = await _org(tmp_path, clock, {"lon": "Europe/London"})
    # Down over the weekend, back two hours after Monday 09:00: still meaningful.
    clock.set(datetime(2026, 11, 23, 11, 0, tzinfo=UTC))
    for _ in range(3):  # restarts dispatching again and again: still one round
        await app.dispatcher.run_once()
    await app.sender.drain()
    assert len(await _invites(app)) == 1
    # Down the whole next week: that Monday's pulse is recorded as missed, not sent.
    clock.set(datetime(2026, 12, 2, 12, 0, tzinfo=UTC))
    await close_due_rounds(app.services)
    report = await app.dispatcher.run_once()
    assert any("missed" in line for line in report.fired)
    assert len(await _invites(app)) == 1
    async with app.db.session() as session:
        missed = (
            await session.exec(select(AuditEntry).where(AuditEntry.action == "pulse.missed"))
        ).all()
        [entry] = await schedule.entries(session, "pulse")
    assert len(missed) == 1
    assert entry.occurrence == "2026-12-07"
    await app.db.dispose()
