"""Commitments between people: the coach proposes, the partner summary, who sees what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from handlers.commitments.follow_through import follow_through
from storage.core import schedule
from tests.support.clock import FakeClock
from tests.support.commitments import (
    BEHAVIOUR,
    _answer,
    _commitments,
    _latest,
    _outbox,
    _run_until,
)
from tests.support.pulse_fixtures import running_org


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
