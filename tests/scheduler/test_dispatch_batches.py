"""A dispatch pass that opens many teams' pulse rounds at once: every due team opens
exactly once, exactly as one by one would have opened it, a team that cannot open does
not stop the others, and dispatching again opens nothing more (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text, update
from sqlmodel import col, select

from bot.app import Pulsecoach
from bot.settings import Settings
from handlers.pulse import rounds as pulse_rounds
from scheduler.runtime.dispatch import Dispatcher, PassReport
from storage.core.models import AuditEntry, Membership, OutboxMessage, Person, Team, Workspace
from storage.core.schedule_models import ScheduleEntry
from storage.pulse.models import (
    PulseInvite,
    PulseParticipant,
    PulseProgram,
    PulseRound,
    PulseRoundKey,
)
from tests.conftest import reset_postgres
from tests.support.clock import FakeClock

MONDAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)  # Monday
# Each team's 09:00 on Monday, local: all due by now; Tokyo's found 9.5 h late (still
# sent), Auckland's 13.5 h late (recorded as missed).
ZONES = [
    "UTC",
    "Europe/Berlin",
    "Europe/Helsinki",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Europe/Lisbon",
    "Africa/Nairobi",
    "Pacific/Auckland",
    "Europe/Paris",  # its program's instrument is not loaded: not opened
]
OPENED = 8

Fresh = Callable[[], Awaitable[str]]


@pytest.fixture(params=["sqlite", "postgres"])
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Fresh:
    """An empty database's URL each call (PostgreSQL: the run's private one, reset)."""
    made: list[str] = []

    async def new() -> str:
        if request.param == "postgres":
            return await reset_postgres()
        made.append(f"sqlite:///{tmp_path / f'db{len(made)}.db'}")
        return made[-1]

    return new


async def _org(url: str, clock: FakeClock, *, broken: bool = False) -> Pulsecoach:
    """Teams across time zones with weekly Monday 09:00 pulses, all due at NOW: a person
    in four teams (the fatigue governor allows three), someone paused, on leave, snoozed,
    a confidential program, a program with rotation and a round before. `broken` adds a
    team whose member's time zone is invalid, so that planning its round fails."""
    app = Pulsecoach.build(Settings(PULSECOACH_DATABASE_URL=url), clock=clock)
    await app.db.upgrade()
    zones = ZONES + (["Europe/Rome"] if broken else [])
    async with app.db.session() as session:
        workspace = Workspace(key="w", name="W", channel="local", external_id="w", timezone="UTC")
        session.add(workspace)
        await session.flush()
        everywhere = Person(workspace_id=workspace.id or 0, handle="multi", name="M")
        session.add(everywhere)
        for t, zone in enumerate(zones):
            team = Team(workspace_id=workspace.id or 0, key=f"t{t}", name=f"Team {t}")
            people = [
                Person(
                    workspace_id=workspace.id or 0,
                    handle=f"t{t}-p{i}",
                    name="P",
                    timezone=zone,
                    work_days=[0, 1, 2, 3, 4, 5, 6],
                    work_start="00:00",
                    work_end="23:59",
                    quiet_hours=None,
                )
                for i in range(3 + t % 3)
            ]
            if t == 2:
                people[0].leave_from, people[0].leave_until = MONDAY, MONDAY + timedelta(days=3)
                people[1].snoozed_until = NOW + timedelta(days=2)
            if t == 10:
                people[0].timezone = "Mars/Olympus_Mons"
            coach = Person(workspace_id=workspace.id or 0, handle=f"t{t}-coach", name="C")
            session.add_all([team, *people, coach])
            await session.flush()
            executives = people + ([everywhere] if t in (0, 1, 3, 4) else [])
            session.add_all(
                [
                    Membership(team_id=team.id or 0, person_id=p.id or 0, role="executive")
                    for p in executives
                ]
                + [Membership(team_id=team.id or 0, person_id=coach.id or 0, role="coach")]
            )
            program = PulseProgram(
                team_id=team.id or 0,
                key="safety",
                instrument="gone" if t == 9 else "team_safety",
                weekday=0,
                at="09:00",
                privacy="confidential" if t == 4 else "anonymous",
                items_per_pulse=3 if t == 5 else None,
            )
            session.add(program)
            await session.flush()
            if t == 1:
                session.add(
                    PulseParticipant(
                        program_id=program.id or 0, person_id=people[0].id or 0, paused_at=NOW
                    )
                )
            if t == 5:
                session.add(
                    PulseRound(
                        program_id=program.id or 0,
                        team_id=team.id or 0,
                        number=1,
                        status="closed",
                        item_keys=["a"],
                        privacy="anonymous",
                        min_respondents=3,
                        min_comments=5,
                        opened_at=NOW - timedelta(days=7),
                        closes_at=NOW - timedelta(days=4),
                        closed_at=NOW - timedelta(days=4),
                    )
                )
            session.add(
                ScheduleEntry(
                    kind="pulse",
                    subject_id=program.id or 0,
                    due_at=NOW - timedelta(hours=t % 4),
                    occurrence=MONDAY.isoformat(),
                )
            )
    return app


async def _state(app: Pulsecoach) -> dict[str, Any]:
    """Everything opening rounds writes, without what differs from run to run by nature
    (audit times, the rounds' secret keys)."""
    async with app.db.session() as session:

        async def rows(query: Any) -> list[Any]:
            found = (await session.exec(query)).all()  # rows, or scalars for one column
            return [tuple(r) if hasattr(r, "_mapping") else (r,) for r in found]

        return {
            "rounds": await rows(
                select(
                    PulseRound.id,
                    PulseRound.program_id,
                    PulseRound.number,
                    PulseRound.kind,
                    PulseRound.occurrence,
                    PulseRound.status,
                    PulseRound.item_keys,
                    PulseRound.privacy,
                    PulseRound.opened_at,
                    PulseRound.closes_at,
                ).order_by(col(PulseRound.id))
            ),
            "keys": await rows(
                select(PulseRoundKey.round_id).order_by(col(PulseRoundKey.round_id))
            ),
            "invites": await rows(
                select(PulseInvite.round_id, PulseInvite.person_id, PulseInvite.answered).order_by(
                    col(PulseInvite.round_id), col(PulseInvite.person_id)
                )
            ),
            "outbox": await rows(
                select(
                    OutboxMessage.dedupe_key,
                    OutboxMessage.person_id,
                    OutboxMessage.kind,
                    OutboxMessage.ref,
                    OutboxMessage.payload,
                    OutboxMessage.status,
                    OutboxMessage.not_before,
                    OutboxMessage.expires_at,
                ).order_by(col(OutboxMessage.dedupe_key))
            ),
            "audit": sorted(  # by team: teams' rows need not come in one order
                await rows(
                    select(
                        AuditEntry.actor, AuditEntry.action, AuditEntry.target, AuditEntry.detail
                    ).order_by(col(AuditEntry.id))
                ),
                key=lambda row: (row[2], row[1]),
            ),
            "schedule": await rows(
                select(
                    ScheduleEntry.subject_id,
                    ScheduleEntry.due_at,
                    ScheduleEntry.occurrence,
                    ScheduleEntry.last_outcome,
                ).order_by(col(ScheduleEntry.subject_id))
            ),
        }


async def _redispatch(app: Pulsecoach) -> None:
    """As after a crash before the entries' moves were committed: the same occurrence due again."""
    async with app.db.session() as session:
        await session.exec(  # type: ignore[call-overload]
            update(ScheduleEntry).values(due_at=NOW, occurrence=MONDAY.isoformat())
        )


async def test_many_teams_open_together_exactly_as_one_by_one(
    fresh: Fresh, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pulse_rounds, "OPEN_BATCH_PEOPLE", 9)  # several transactions a pass
    reports: dict[str, PassReport] = {}
    states: dict[str, dict[str, Any]] = {}
    for how in ("one by one", "together"):
        clock = FakeClock(NOW)
        app = await _org(await fresh(), clock)
        dispatcher = app.dispatcher
        if how == "one by one":
            dispatcher = Dispatcher(app.db, clock, app.dispatcher.kinds)
        reports[how] = await dispatcher.run_once()
        states[how] = await _state(app)
        if how == "together":
            assert (await dispatcher.run_once()).fired == []  # moved on: nothing due
            await _redispatch(app)
            again = await dispatcher.run_once()
            assert len(again.fired) == len(ZONES) and not again.failed
            assert sum(line.endswith("already open") for line in again.fired) == OPENED
            after, before = await _state(app), states[how]
            for what in ("rounds", "keys", "invites", "outbox"):
                assert after[what] == before[what], what
            assert [a for a in after["audit"] if a[1] == "pulse.open"] == [
                a for a in before["audit"] if a[1] == "pulse.open"
            ]
            assert [e[:3] for e in after["schedule"]] == [e[:3] for e in before["schedule"]]
        await app.db.dispose()

    assert reports["together"] == reports["one by one"]
    assert states["together"] == states["one by one"]
    state, report = states["together"], reports["together"]
    assert not report.failed
    outcomes = sorted(line.split(": ", 1)[1] for line in report.fired)
    assert sum(o.endswith("opened") for o in outcomes) == OPENED
    assert sum("missed" in o for o in outcomes) == 1  # Auckland
    assert sum("not opened: Instrument 'gone'" in o for o in outcomes) == 1
    # One round per program that opened, each with its audit row.
    opened = [r for r in state["rounds"] if r[4] == MONDAY.isoformat()]
    assert len(opened) == len({r[1] for r in opened}) == OPENED
    actions = [a[1] for a in state["audit"]]
    assert (actions.count("pulse.open"), actions.count("pulse.missed")) == (OPENED, 1)
    # Anonymity: a key for every anonymous round, none for the confidential one.
    anonymous = [r[0] for r in opened if r[7] == "anonymous"]
    assert [k for (k,) in state["keys"]] == anonymous and len(anonymous) == OPENED - 1
    # The fatigue governor within one pass: "multi", in four teams, is asked in three.
    per_person: dict[int, int] = {}
    for _, person, _ in state["invites"]:
        per_person[person] = per_person.get(person, 0) + 1
    assert sorted(per_person.values())[-2:] == [1, 3]
    # One invite message each, and their reminders.
    kinds = [row[2] for row in state["outbox"]]
    assert kinds.count("pulse") == len(state["invites"])
    assert kinds.count("pulse-reminder") > len(state["invites"])  # up to two each
    # The rotating program went on at round 2, with the next three items.
    [rotating] = [r for r in opened if r[2] == 2]
    assert len(rotating[6]) == 3


async def _trigger_failure(app: Pulsecoach, team_id: int) -> Callable[[], Awaitable[None]]:
    """Make inserting this team's round fail in the database; returns the undo."""
    statements = (
        [
            f"CREATE TRIGGER boom BEFORE INSERT ON pulse_round WHEN NEW.team_id = {team_id} "
            "BEGIN SELECT RAISE(ABORT, 'boom'); END"
        ]
        if app.db.dialect == "sqlite"
        else [
            "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF NEW.team_id = {team_id} THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$",
            "CREATE TRIGGER boom BEFORE INSERT ON pulse_round FOR EACH ROW EXECUTE FUNCTION boom()",
        ]
    )
    async with app.db.engine.begin() as connection:
        for statement in statements:
            await connection.execute(text(statement))

    async def undo() -> None:
        async with app.db.engine.begin() as connection:
            await connection.execute(
                text(
                    "DROP TRIGGER boom" + ("" if app.db.dialect == "sqlite" else " ON pulse_round")
                )
            )

    return undo


async def test_a_team_that_fails_does_not_stop_the_others(
    fresh: Fresh, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock(NOW)
    app = await _org(await fresh(), clock, broken=True)
    async with app.db.session() as session:
        teams = {t.key: t.id or 0 for t in (await session.exec(select(Team))).all()}
        programs = {p.team_id: p.id or 0 for p in (await session.exec(select(PulseProgram))).all()}
    undo = await _trigger_failure(app, teams["t3"])

    report = await app.dispatcher.run_once()

    assert "rounds together failed" in caplog.text  # then one by one
    # t3 fails in the database, t10 (a bad time zone) before it: both retried soon.
    assert sorted(report.failed) == sorted(
        f"pulse:{programs[teams[t]]}@{MONDAY}" for t in ("t3", "t10")
    )
    assert sum(line.endswith("opened") for line in report.fired) == OPENED - 1
    assert sum("not opened: Instrument 'gone'" in line for line in report.fired) == 1
    async with app.db.session() as session:
        rounds = (await session.exec(select(PulseRound).where(PulseRound.status == "open"))).all()
        entry = (
            await session.exec(
                select(ScheduleEntry).where(ScheduleEntry.subject_id == programs[teams["t3"]])
            )
        ).one()
        t3_people = (
            await session.exec(select(Person.id).where(col(Person.handle).startswith("t3-")))
        ).all()
        t3_messages = (
            await session.exec(
                select(OutboxMessage).where(col(OutboxMessage.person_id).in_(list(t3_people)))
            )
        ).all()
    assert teams["t3"] not in {r.team_id for r in rounds} and len(rounds) == OPENED - 1
    assert t3_messages == []
    assert entry.due_at == NOW + timedelta(minutes=5)
    assert entry.last_outcome is not None and "boom" in entry.last_outcome

    # Repaired, the retry opens t3, once, and nothing else twice.
    await undo()
    clock.set(NOW + timedelta(minutes=5))
    retry = await app.dispatcher.run_once()
    assert [line.endswith("round 1 opened") for line in retry.fired] == [True]
    assert sorted(retry.failed) == [f"pulse:{programs[teams['t10']]}@{MONDAY}"]
    assert (await app.dispatcher.run_once()).fired == []
    async with app.db.session() as session:
        rounds = (await session.exec(select(PulseRound).where(PulseRound.status == "open"))).all()
        invites = (await session.exec(select(PulseInvite))).all()
        kinds = (await session.exec(select(OutboxMessage.kind))).all()
    assert len(rounds) == len({r.program_id for r in rounds}) == OPENED
    assert kinds.count("pulse") == len(invites)
    await app.db.dispose()
