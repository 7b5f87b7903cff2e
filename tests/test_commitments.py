"""Accountability commitments end to end through the local channel's API: created in chat,
reminded at the leader's local time (FakeClock + dispatcher), checked in, followed through."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from handlers.follow_through import follow_through
from scheduler.clock import FakeClock
from storage import schedule
from storage.commitment_models import Commitment, CommitmentCheckIn
from storage.models import OutboxMessage, Person, Workspace
from tests.conftest import reset_postgres
from tests.pulse_fixtures import Org, running_org

NEW_YORK = ZoneInfo("America/New_York")
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
        assert fields["Kept (last 4 / 12)"] == "62% / 70%" and fields["Streak"] == "2"

        # … and in their home view, beside the coach's view of the team.
        _, body = await org.say("ana", "home")
        assert f"commitments:{org.ids['ana']}" in [m["ref"] for m in body["messages"]]
        _, body = await org.say("cora", "home")
        team_card = next(m for m in body["messages"] if m["ref"] == "commitments-team:leadership")
        assert "Ana · #1 ask for dissent" in str(team_card["message"])


async def _other_workspace_person(org: Org, handle: str) -> None:
    async with org.app.db.session() as session:
        other = Workspace(key="other", name="Other", channel="slack", external_id="T1")
        session.add(other)
        await session.flush()
        session.add(Person(workspace_id=other.id or 0, handle=handle, name=handle.title()))


async def test_bad_input_is_refused_with_a_reason_and_stores_nothing(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with running_org(tmp_path, clock) as org:
        await _other_workspace_person(org, "zed")
        cases = [
            ("commit until 2027-01-31", "needs a behaviour"),
            ('commit ""', "needs a behaviour"),
            (f'commit "{BEHAVIOUR}" until 2026-11-01', "end date 2026-11-01 is in the past"),
            (f'commit "{BEHAVIOUR}" until 2026-31-12', "not a date I can read"),
            # Ends Wednesday, checks in on Fridays: it would never fire.
            (f'commit "{BEHAVIOUR}" until 2026-11-25 every fri', "would never fire"),
            (f'commit "{BEHAVIOUR}" every fri 25:00', "can't use that cadence"),
            (f'commit "{BEHAVIOUR}" partner zed', "nobody called @zed in your workspace"),
            (f'commit "{BEHAVIOUR}" partner @nobody', "nobody called @nobody"),
            (f'commit "{BEHAVIOUR}" partner ana', "someone other than you"),
            (f'commit "{BEHAVIOUR}" share', "add `partner HANDLE` too"),
            (f'commit "{BEHAVIOUR}" stage bravery', "not a stage"),
            (f'commit "{BEHAVIOUR}" norm 1', "no norm “1”"),
            (f'commit "{BEHAVIOUR}" loudly', "didn't understand “loudly”"),
            (f'commit "{BEHAVIOUR}" for ben', "Only Ben's coach"),
        ]
        for said, reason in cases:
            status, body = await org.say("ana", said)
            assert status == 409, (said, body)
            assert reason in body["error"], (said, body)
        status, body = await org.say("adam", f'commit "{BEHAVIOUR}"')  # admin, no executive
        assert status == 409 and "not an executive on a team" in body["error"]
        assert await _commitments(org) == []
        async with org.app.db.session() as session:
            assert await schedule.entries(session, "commitment") == []


async def test_checkins_for_closed_or_someone_elses_commitment_are_refused(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with running_org(tmp_path, clock) as org:
        await org.say("ana", f'commit "{BEHAVIOUR}"')
        await _run_until(org, datetime(2026, 11, 28, tzinfo=UTC))
        message = _latest(await org.messages("ana"), "commitment-checkin:")
        checkin_id = message["ref"].split(":")[1]
        status, body = await org.click("ben", "commitment.checkin", f"{checkin_id}:kept")
        assert status == 409 and "someone else's commitment" in body["error"]
        for bad in (f"{checkin_id}:brilliant", "x:kept", "999:kept"):
            status, body = await org.click("ana", "commitment.checkin", bad)
            assert status == 409, bad
        status, body = await org.click(
            "ana", "commitment.checkin", f"{checkin_id}:kept", inputs={"reflection": "x" * 281}
        )
        assert status == 409 and "at most 280" in body["error"]
        assert [c.outcome for c in await _checkins(org)] == [None]
        [c] = await _commitments(org)
        status, body = await org.say("ana", f"commitment {c.id} complete")
        assert status == 200 and "Completed" in body["notice"]
        status, body = await org.click("ana", "commitment.checkin", f"{checkin_id}:kept")
        assert status == 409 and "completed; check-ins and changes are closed" in body["error"]
        status, body = await org.say("ana", f"commitment {c.id} pause")
        assert status == 409 and "completed" in body["error"]
        assert [c.outcome for c in await _checkins(org)] == [None]
        async with org.app.db.session() as session:
            [entry] = await schedule.entries(session, "commitment")
        assert entry.due_at is None  # nothing more is asked


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


async def test_partner_gets_a_weekly_summary_only_with_opt_in_and_never_the_notes(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with running_org(tmp_path, clock) as org:
        await org.say("ana", f'commit "{BEHAVIOUR}" partner ben')  # partner, no opt-in
        await org.say("chloe", 'commit "pause before answering" partner @dev share')
        for week in range(3):
            await _run_until(org, datetime(2026, 11, 28, tzinfo=UTC) + timedelta(weeks=week))
            for handle in ("ana", "chloe"):
                await _answer(org, handle, "kept", f"secret note {handle} {week}")
        summaries = await _outbox(org, "commitment-partner")
        assert {s.person_id for s in summaries} == {org.ids["dev"]}
        assert len(summaries) == 2  # weekly, from the second check-in on
        texts = [str(s.payload) for s in summaries]
        assert all("secret note" not in t for t in texts)
        assert "Last check-in: Kept" in texts[-1] and "streak: 2" in texts[-1]
        assert not [m for m in await org.messages("ben") if "partner" in m["ref"]]


async def test_coach_proposes_and_the_leader_confirms(tmp_path: Path, clock: FakeClock) -> None:
    async with running_org(tmp_path, clock) as org:
        status, body = await org.say("cora", f'commit for ana "{BEHAVIOUR}" until 2027-01-29')
        assert status == 200 and "Proposed to Ana" in body["notice"], body
        [c] = await _commitments(org)
        assert (c.status, c.created_by) == ("pending", org.ids["cora"])
        await org.app.sender.drain()
        card = _latest(await org.messages("ana"), "commitment-confirm:")
        assert "Cora proposed a commitment for you" in card["message"]["text"]
        status, body = await org.click("ben", "commitment.confirm", str(c.id))
        assert status == 409 and "someone else's" in body["error"]
        async with org.app.db.session() as session:
            assert await schedule.entries(session, "commitment") == []  # nothing until confirmed
        status, body = await org.click(
            "ana", "commitment.confirm", str(c.id), message_id=card["id"]
        )
        assert status == 200 and "it's yours" in body["messages"][0]["message"]["text"], body
        [c] = await _commitments(org)
        assert c.status == "active"
        status, body = await org.click("ana", "commitment.confirm", str(c.id))
        assert status == 409


async def test_form_edit_pause_continue_and_snooze(tmp_path: Path, clock: FakeClock) -> None:
    async with running_org(tmp_path, clock) as org:
        status, body = await org.say("ana", "commit")
        form = body["messages"][-1]
        assert [b["input_id"] for b in form["message"]["blocks"] if b["type"] == "input"] == [
            "behaviour",
            "why",
            "until",
            "options",
        ]
        inputs = {
            "behaviour": "To name the decision owner in every meeting.",
            "why": "We leave meetings unsure who decides.",
            "until": "2027-02-26",
            "options": "every 2 weeks mon 10:00 visible team",
        }
        status, body = await org.click(
            "ana", "commitment.create", "", message_id=form["id"], inputs=inputs
        )
        assert status == 200, body
        [c] = await _commitments(org)
        assert (c.behaviour, c.frequency, c.weekday, c.at, c.visibility) == (
            "name the decision owner in every meeting",
            "biweekly",
            0,
            "10:00",
            "team",
        )

        status, body = await org.say(
            "ana", f"commitment {c.id} edit every thu 15:30 until 2027-03-31"
        )
        assert status == 200 and "Updated" in body["notice"], body
        async with org.app.db.session() as session:
            [entry] = await schedule.entries(session, "commitment")
        assert entry.occurrence == "2026-11-26" and entry.due_at == datetime(
            2026, 11, 26, 14, 30, tzinfo=UTC
        )

        # Pause and continue from the list's buttons.
        status, body = await org.say("ana", "commitments")
        listing = body["messages"][-1]
        status, body = await org.click(
            "ana", "commitment.pause", str(c.id), message_id=listing["id"]
        )
        assert status == 200 and "Paused" in body["messages"][-1]["message"]["text"]
        async with org.app.db.session() as session:
            [entry] = await schedule.entries(session, "commitment")
        assert entry.due_at is None
        status, body = await org.click("ana", "commitment.continue", str(c.id))
        assert status == 200

        # Snoozed until Sunday 6 December: the check-in of 3 December is not asked.
        await _run_until(org, datetime(2026, 11, 27, tzinfo=UTC))
        status, body = await org.say("ana", "snooze reminders until 2026-12-06")
        assert status == 200 and "snoozed until 2026-12-06" in body["notice"], body
        await _run_until(org, datetime(2026, 12, 11, tzinfo=UTC))
        assert [ci.occurrence for ci in await _checkins(org)] == ["2026-11-26", "2026-12-10"]
        status, body = await org.say("ana", "snooze reminders until 2025-01-01")
        assert status == 409 and "after today" in body["error"]


async def test_visibility_coach_team_and_admin(tmp_path: Path, clock: FakeClock) -> None:
    async with running_org(tmp_path, clock) as org:
        await org.say("ana", f'commit "{BEHAVIOUR}" visible team')
        await org.say("ben", 'commit "listen first"')  # me and my coach
        await _run_until(org, datetime(2026, 11, 28, tzinfo=UTC))
        for handle in ("ana", "ben"):
            await _answer(org, handle, "kept", f"private {handle}")
        services, team = org.app.services, org.ids["team"]
        coach = await follow_through(services, team, org.ids["cora"])
        assert [(r.person_name, r.last_reflection) for r in coach] == [
            ("Ana", "private ana"),
            ("Ben", "private ben"),
        ]
        teammate = await follow_through(services, team, org.ids["chloe"])
        assert [(r.person_name, r.last_reflection) for r in teammate] == [("Ana", None)]
        assert await follow_through(services, team, org.ids["adam"]) == []  # admins: no one's
        assert len(await follow_through(services, team, None)) == 2  # the system
        _, body = await org.say("chloe", "commitments leadership")
        shown = str(body["messages"][-1]["message"])
        assert BEHAVIOUR in shown and "listen first" not in shown and "private" not in shown


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
