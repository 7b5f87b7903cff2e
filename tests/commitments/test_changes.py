"""Commitments refused, edited and paused: bad input, closed check-ins, the form, snooze."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from storage.core import schedule
from storage.core.models import Person, Workspace
from tests.support.clock import FakeClock
from tests.support.commitments import (
    BEHAVIOUR,
    _checkins,
    _commitments,
    _latest,
    _run_until,
)
from tests.support.pulse_fixtures import Org, running_org


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
