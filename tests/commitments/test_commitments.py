"""Commitments end to end in chat: the full loop, local-time reminders across DST, nudges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from handlers.commitments.follow_through import follow_through
from tests.conftest import reset_postgres
from tests.support.clock import FakeClock
from tests.support.commitments import (
    BEHAVIOUR,
    _answer,
    _checkins,
    _commitments,
    _latest,
    _office_hours,
    _outbox,
    _run_until,
)
from tests.support.pulse_fixtures import running_org

NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_full_loop_created_in_chat_reminded_at_local_time_checked_in_and_followed_through(
    tmp_path: Path, clock: FakeClock, backend: str
) -> None:
    url = await reset_postgres() if backend == "postgres" else None
    async with running_org(tmp_path, clock, database_url=url) as org:  # Monday 23 Nov, 09:00 UTC
        await _office_hours(org, "ana", "America/New_York")
        status, body = await org.say(
            "ana", f'commit "{BEHAVIOUR}" until 2027-02-26 stage challenger'
        )
        assert status == 200, body
        assert "First check-in Fri 27 Nov 16:00" in body["notice"]
        [c] = await _commitments(org)
        assert (c.behaviour, c.stage, c.status, c.visibility) == (
            BEHAVIOUR,
            "challenger",
            "active",
            "coach",
        )
        assert (c.frequency, c.weekday, c.at) == ("weekly", 4, "16:00")

        await _run_until(org, datetime(2026, 11, 28, tzinfo=UTC))
        [sent] = await _outbox(org, "commitment-checkin")
        local = sent.not_before.astimezone(NEW_YORK)
        assert (local.weekday(), local.hour, local.minute) == (4, 16, 0)  # Friday 16:00 New York
        message = _latest(await org.messages("ana"), "commitment-checkin:")
        question = next(b for b in message["message"]["blocks"] if b["type"] == "question")
        assert question["prompt"] == f"Did you {BEHAVIOUR} this week?"
        assert [c["label"] for c in question["choices"]] == [
            "Kept",
            "Partly",
            "Missed",
            "Skip this week",
        ]
        assert not [m for m in await org.messages("ben") if "commitment" in m["ref"]]

        # Double clicks and retries store one check-in; the note arrives with the click.
        for _ in range(3):
            await _answer(org, "ana", "kept", "Asked Ben first; he disagreed, usefully.")
        [checkin] = await _checkins(org)
        assert (checkin.outcome, checkin.reflection) == (
            "kept",
            "Asked Ben first; he disagreed, usefully.",
        )
        updated = _latest(await org.messages("ana"), "commitment-checkin:")
        assert updated["id"] == message["id"] and updated["version"] > message["version"]

        # Weeks 2..6: partly, missed, skipped, kept, kept.
        for week, outcome in enumerate(["partly", "missed", "skipped", "kept", "kept"], start=1):
            await _run_until(org, datetime(2026, 11, 28, tzinfo=UTC) + timedelta(weeks=week))
            await _answer(org, "ana", outcome)
        rows = await follow_through(org.app.services, org.ids["team"], org.ids["cora"])
        [row] = rows
        # Counted: kept, partly, missed, kept, kept (the skip does not count).
        assert row.kept_rate_4 == (0.5 + 0 + 1 + 1) / 4
        assert row.kept_rate_12 == (1 + 0.5 + 0 + 1 + 1) / 5
        assert row.streak == 2
        assert row.missed_recent == 1
        assert row.last_reflection == "Asked Ben first; he disagreed, usefully."
        assert (row.person_name, row.behaviour, row.status) == ("Ana", BEHAVIOUR, "active")

        # The leader sees the same figures in chat.
        status, body = await org.say("ana", "commitments")
        assert status == 200
        listing = body["messages"][-1]["message"]
        fields = {
            f["label"]: f["value"]
            for b in listing["blocks"]
            if b["type"] == "fields"
            for f in b["fields"]
        }
        assert (
            fields["Follow-through"] == ("kept 62% of the last 4 answered check-ins, 70% of all 5")
            and fields["Streak"] == "2"
        )

        # … and in their home view, beside the coach's view of the team.
        _, body = await org.say("ana", "home")
        assert f"commitments:{org.ids['ana']}" in [m["ref"] for m in body["messages"]]
        _, body = await org.say("cora", "home")
        team_card = next(m for m in body["messages"] if m["ref"] == "commitments-team:leadership")
        assert "Ana · #1 ask for dissent" in str(team_card["message"])


async def test_missed_checkins_are_chased_once_and_answers_cancel_the_nudge(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with running_org(tmp_path, clock) as org:
        await _office_hours(org, "ana", "Europe/London")
        await org.say("ana", f'commit "{BEHAVIOUR}"')
        await _run_until(org, datetime(2026, 12, 4, 12, tzinfo=UTC))  # a week, unanswered
        nudges = await _outbox(org, "commitment-nudge")
        assert [n.status for n in nudges] == ["sent"]  # chased once, not daily
        local = nudges[0].not_before.astimezone(ZoneInfo("Europe/London"))
        assert (local.weekday(), local.hour) == (0, 8)  # not on the weekend: Monday at work start
        [nudge] = [m for m in await org.messages("ana") if m["ref"].endswith(":nudge")]
        assert "gentle nudge" in nudge["message"]["text"]
        # Week 2: answered before the nudge is due, so it never goes out.
        await _run_until(org, datetime(2026, 12, 4, 17, tzinfo=UTC))
        await _answer(org, "ana", "partly")
        await _run_until(org, datetime(2026, 12, 11, 12, tzinfo=UTC))
        assert sorted(n.status for n in await _outbox(org, "commitment-nudge")) == [
            "cancelled",
            "sent",
        ]


async def test_friday_1600_stays_1600_local_across_the_dst_change(tmp_path: Path) -> None:
    clock = FakeClock(datetime(2027, 3, 15, 9, 0, tzinfo=UTC))  # Berlin moves on 28 March
    async with running_org(tmp_path, clock) as org:
        await _office_hours(org, "ana", "Europe/Berlin")
        status, body = await org.say("ana", f'commit "{BEHAVIOUR}" until 2027-04-30')
        assert status == 200, body
        await _run_until(org, datetime(2027, 4, 3, tzinfo=UTC))
        sends = sorted(m.not_before for m in await _outbox(org, "commitment-checkin"))
        assert sends == [
            datetime(2027, 3, 19, 15, 0, tzinfo=UTC),
            datetime(2027, 3, 26, 15, 0, tzinfo=UTC),
            datetime(2027, 4, 2, 14, 0, tzinfo=UTC),  # summer time: still 16:00 in Berlin
        ]
