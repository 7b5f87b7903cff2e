"""Coaching sessions in chat and config, and digests sent ahead of them or weekly."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from storage.core.models import OutboxMessage
from storage.digests import queries as digests
from storage.digests.models import Digest
from tests.support.clock import FakeClock
from tests.support.digests import NEXT_SESSION, org_with_history
from tests.support.pulse_fixtures import running_org


async def test_digest_goes_out_lead_time_before_the_session(
    tmp_path: Path, clock: FakeClock
) -> None:
    app, ids = await org_with_history(tmp_path, clock)  # now: Mon 23 Nov 09:00 UTC
    async with app.db.session() as session:
        await digests.save_plan(session, ids["team"], {"lead_hours": 24})
        await digests.plan_soon(session, ids["team"])
    await app.dispatcher.run_once()  # plans
    async with app.db.session() as session:
        entry = await digests.schedule.entry(session, "digest", ids["team"])
    assert entry is not None and entry.due_at == NEXT_SESSION - timedelta(hours=24)
    assert entry.occurrence == "s:2026-11-24T14:00Z"
    clock.set(NEXT_SESSION - timedelta(hours=24, seconds=1))
    assert (await app.dispatcher.run_once()).fired == []
    clock.advance(timedelta(seconds=1))
    report = await app.dispatcher.run_once()
    assert report.fired and "1 sent (fallback)" in report.fired[0], report
    await app.dispatcher.run_once()
    await app.sender.drain()
    async with app.db.session() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
        stored = (await session.exec(select(Digest))).all()
    assert [(r.kind, r.status, r.not_before) for r in rows] == [
        ("digest", "sent", NEXT_SESSION - timedelta(hours=24))
    ]
    assert [(d.reason, d.session_at) for d in stored] == [("session", NEXT_SESSION)]


async def test_weekly_digest_and_a_session_added_in_chat(tmp_path: Path, clock: FakeClock) -> None:
    async with running_org(tmp_path, clock) as org:
        async with org.app.db.session() as session:
            await digests.save_plan(
                session, org.ids["team"], {"weekly_weekday": 0, "weekly_at": "08:00"}
            )
        status_, body = await org.say("cora", "session add leadership 2026-12-03 15:00")
        assert status_ == 200 and "Session added" in body["notice"], body
        status_, body = await org.say("cora", "session")
        assert "Thu 03 Dec 2026 15:00 (Europe/Berlin)" in body["notice"]
        status_, body = await org.say("ana", "session add leadership 2026-12-04 15:00")
        assert status_ == 409
        await org.app.dispatcher.run_once()
        async with org.app.db.session() as session:
            entry = await digests.schedule.entry(session, "digest", org.ids["team"])
        # Weekly Monday 08:00 Berlin comes first: 30 Nov 07:00 UTC.
        assert entry is not None and entry.occurrence == "w:2026-11-30T07:00Z"
        status_, body = await org.say("cora", "session cancel leadership 2026-12-03")
        assert status_ == 200 and "cancelled" in body["notice"]


ORG = """\
workspaces:
  - {key: acme, name: Acme, channel: local, timezone: Europe/Berlin}
people:
  - {handle: ana, workspace: acme, name: Ana Silva}
  - {handle: cora, workspace: acme, name: Cora Lind, timezone: Europe/Amsterdam}
teams:
  - key: leadership
    workspace: acme
    name: Leadership
    members: {executive: [ana], coach: [cora]}
sessions:
  - workspace: acme
    team: leadership
    timezone: Europe/Amsterdam
    every: {frequency: biweekly, weekday: thu, at: "15:00", anchor: 2026-11-26}
    dates: ["2026-12-22 10:00", 2026-12-29T09:00:00+00:00]
    weekly_digest: {weekday: mon, at: "08:30"}
"""


async def test_sessions_in_config_apply_export_and_plan(db: Any, tmp_path: Path) -> None:
    from handlers.config.apply import ConfigError, apply_text, export_config

    report = await apply_text(db, ORG, filename="org.yaml")
    assert "create sessions for leadership" in report.changes
    assert "add session 2026-12-22 09:00 UTC for leadership" in report.changes  # 10:00 CET
    assert "add session 2026-12-29 09:00 UTC for leadership" in report.changes
    assert (await apply_text(db, ORG, filename="org.yaml")).changes == []
    exported = await export_config(db)
    assert "every: {frequency: biweekly, weekday: thu, at: '15:00', anchor: 2026-11-26}" in exported
    assert "2026-12-29 10:00" in exported and "digest_lead_hours: 24" in exported
    assert (await apply_text(db, exported, filename="export.yaml")).changes == []
    fewer = ORG.replace(", 2026-12-29T09:00:00+00:00]", "]").replace(
        'weekly_digest: {weekday: mon, at: "08:30"}', "weekly_digest: null"
    )
    changes = (await apply_text(db, fewer, filename="org.yaml")).changes
    assert changes == [
        "update sessions of leadership: weekly_digest",
        "remove session 2026-12-29 09:00 UTC for leadership",
    ]
    async with db.session() as session:
        entry = await digests.schedule.entry(session, "digest", 1)
    assert entry is not None and entry.occurrence is None  # the dispatcher plans it next
    with pytest.raises(ConfigError, match=r"org.yaml:13: sessions\[0\].team: no team 'board'"):
        await apply_text(
            db,
            ORG.replace("team: leadership\n    timezone", "team: board\n    timezone"),
            filename="org.yaml",
        )
