"""Scheduled digests firing through the dispatcher: the weekly one, and a hung model that
must not hold up the other teams due in the same pass."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import col, select

from bot.app import Pulsecoach
from handlers.digests import schedule as digest_schedule
from handlers.digests.send import DigestOptions
from scheduler.calendar.fired import Fired
from scheduler.runtime.dispatch import Dispatcher
from storage.core.models import Membership, OutboxMessage, Team
from storage.core.schedule_models import ScheduleEntry
from storage.digests import queries as digests
from storage.digests.models import Digest
from storage.pulse.models import PulseProgram
from tests.support.clock import FakeClock
from tests.support.digests import org_with_history, shown
from tests.support.llm_standin import LLMStandIn, hang, summarizer

# Monday 23 Nov 11:00 Berlin: two hours after the test clock's 09:00 UTC.
WEEKLY_AT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


async def _weekly(app: Pulsecoach, team_id: int) -> None:
    async with app.db.session() as session:
        await digests.save_plan(session, team_id, {"weekly_weekday": 0, "weekly_at": "11:00"})
        await digests.plan_soon(session, team_id)


async def test_weekly_digest_fires_and_is_delivered(tmp_path: Path, clock: FakeClock) -> None:
    app, ids = await org_with_history(tmp_path, clock)
    await _weekly(app, ids["team"])
    await app.dispatcher.run_once()  # plans
    async with app.db.session() as session:
        entry = await digests.schedule.entry(session, "digest", ids["team"])
    assert entry is not None and entry.occurrence == "w:2026-11-23T10:00Z"
    clock.set(WEEKLY_AT - timedelta(seconds=1))
    assert (await app.dispatcher.run_once()).fired == []
    clock.set(WEEKLY_AT)
    report = await app.dispatcher.run_once()
    assert (
        report.fired
        and f"weekly:2026-11-23T10:00Z:t{ids['team']}: 1 sent (fallback)" in report.fired[0]
    )
    await app.sender.drain()
    async with app.db.session() as session:
        (row,) = (await session.exec(select(Digest))).all()
        (queued,) = (await session.exec(select(OutboxMessage))).all()
        entry = await digests.schedule.entry(session, "digest", ids["team"])
    assert (row.reason, row.occasion, row.coach_id) == (
        "weekly",
        f"weekly:2026-11-23T10:00Z:t{ids['team']}",
        ids["cora"],
    )
    assert "Weekly coach digest: Leadership team" in shown(row)
    assert (queued.kind, queued.status, queued.person_id) == ("digest", "sent", ids["cora"])
    # Next: the session digest (24 h before 24 Nov 14:00), before next week's weekly.
    assert entry is not None and entry.occurrence == "s:2026-11-24T14:00Z"
    assert (await app.dispatcher.run_once()).fired == []  # fired once, not again


async def _second_team(app: Pulsecoach, ids: dict[str, int]) -> int:
    async with app.db.session() as session:
        board = Team(workspace_id=1, key="board", name="Board")
        session.add(board)
        await session.flush()
        assert board.id is not None
        session.add(Membership(team_id=board.id, person_id=ids["cora"], role="coach"))
        session.add(Membership(team_id=board.id, person_id=ids["ana"], role="executive"))
        session.add(PulseProgram(team_id=board.id, key="safety", instrument="team_safety"))
        return board.id


async def test_a_hung_model_holds_up_only_the_first_team_due(
    tmp_path: Path, clock: FakeClock, llm: LLMStandIn
) -> None:
    app, ids = await org_with_history(tmp_path, clock)
    board = await _second_team(app, ids)
    for team_id in (ids["team"], board):
        await _weekly(app, team_id)
    llm.push(*[hang()] * 6)
    bound = 1.5

    async def fire(entry: ScheduleEntry, now: datetime) -> Fired:
        # As the app does: a new summarizer (and client) for every entry fired.
        model = summarizer(llm, timeout=0.4, attempts=2, total_seconds=bound)
        try:
            return await digest_schedule.fire(app.services, entry, now, DigestOptions(model))
        finally:
            await model.aclose()

    dispatcher = Dispatcher(app.db, clock, {"digest": fire})
    await dispatcher.run_once()  # plans both
    clock.set(WEEKLY_AT)
    started = time.monotonic()
    report = await dispatcher.run_once()
    took = time.monotonic() - started
    assert len(report.fired) == 2 and all("1 sent (fallback)" in f for f in report.fired)
    assert took < bound + 1.0, took  # the second team did not wait out the bound too
    assert len(llm.requests) == 2  # both attempts were the first team's
    async with app.db.session() as session:
        first, second = (await session.exec(select(Digest).order_by(col(Digest.id)))).all()
    assert "timed out" in (first.fallback_reason or "")
    assert "was skipped: it stopped answering at" in (second.fallback_reason or "")
    assert second.content["summary"]["skipped"] is True
    for row in (first, second):
        assert row.summary_source == "fallback"
        assert "Summary built without a language model" in shown(row)
        assert row.content["summary"]["model"] == "stand-in-1"
