"""`/pulse commitments`, `/pulse digest TEAM` and `/pulse snooze …` answered through
Slack: signed slash commands to the real server, answers at the response URL."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from handlers.pulse.rounds import open_round
from storage.commitments.models import Commitment
from storage.core.models import OutboxMessage, OutboxStatus, Person
from tests.slack.test_home import closed_round_with_answers, slash
from tests.support.clock import FakeClock
from tests.support.slack.helpers import SlackOrg, slack_org

BEHAVIOUR = "ask for dissent before every decision"


@pytest.fixture
async def org(tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, no_env: None):
    async with slack_org(tmp_path, clock, monkeypatch) as running:
        yield running


def said(answer: dict[str, Any]) -> str:
    return answer.get("text", "") + json.dumps(answer.get("blocks", []), ensure_ascii=False)


async def person(org: SlackOrg, handle: str) -> Person:
    async with org.app.db.session() as session:
        found = await session.get(Person, org.ids[handle])
        assert found is not None
        return found


async def commit(org: SlackOrg, user: str) -> None:
    [saved] = await slash(org, user, f'commit "{BEHAVIOUR}" until 2027-02-26')
    assert saved["response_type"] == "ephemeral" and "saved" in saved["text"], saved


async def test_slash_commitments_lists_mine_privately(org: SlackOrg) -> None:
    [none] = await slash(org, "UBEN", "commitments")
    assert "no commitments yet" in said(none)
    await commit(org, "UBEN")
    [listed] = await slash(org, "UBEN", "commitments")
    assert listed["response_type"] == "ephemeral" and BEHAVIOUR in said(listed)
    [other] = await slash(org, "UANA", "commitments")
    assert BEHAVIOUR not in said(other)  # another leader's list is their own


async def test_slash_digest_team_sends_the_coach_a_digest(org: SlackOrg) -> None:
    await closed_round_with_answers(org)
    await org.app.sender.drain()
    [note] = await slash(org, "UCORA", "digest leadership")
    assert note["response_type"] == "ephemeral"
    assert "Your digest for Leadership team is on its way" in note["text"]
    await org.app.sender.drain()
    digest = org.standin.dm("UCORA")[-1]
    assert "Leadership team" in said(digest)
    before = len(org.standin.dm("UANA"))
    [refused] = await slash(org, "UANA", "digest leadership")  # digests are the coach's
    await org.app.sender.drain()
    assert refused["response_type"] == "ephemeral" and "coaches only" in refused["text"]
    assert len(org.standin.dm("UANA")) == before


async def test_slash_snooze_alone_answers_with_the_options(org: SlackOrg) -> None:
    [options] = await slash(org, "UANA", "snooze")
    assert options["response_type"] == "ephemeral"
    assert "snooze pulses" in options["text"] and "snooze reminders" in options["text"]


async def test_slash_snooze_pulses_stops_pulses_and_their_reminders(org: SlackOrg) -> None:
    opened = await open_round(org.app.services, "leadership")
    await org.app.sender.drain()
    [snoozed] = await slash(org, "UANA", "snooze pulses 2w")
    assert snoozed["response_type"] == "ephemeral" and "no pulses for you until" in snoozed["text"]
    ana = await person(org, "ana")
    assert ana.snoozed_until == org.clock.now() + timedelta(days=14)
    async with org.app.db.session() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
    mine = f"pulse:{opened.round_id}:remind:{org.ids['ana']}:"
    theirs = f"pulse:{opened.round_id}:remind:{org.ids['ben']}:"
    assert {r.status for r in rows if r.dedupe_key.startswith(mine)} == {OutboxStatus.CANCELLED}
    assert {r.status for r in rows if r.dedupe_key.startswith(theirs)} == {OutboxStatus.PENDING}

    [dated] = await slash(org, "UANA", "snooze pulses until 2026-12-20")
    assert "2026-12-20" in dated["text"]
    ana = await person(org, "ana")
    assert ana.snoozed_until is not None and f"{ana.snoozed_until:%Y-%m-%d}" == "2026-12-20"
    [refused] = await slash(org, "UANA", "snooze pulses forever")
    assert "snooze pulses until YYYY-MM-DD" in refused["text"]
    [back] = await slash(org, "UANA", "snooze pulses off")
    assert "back on" in back["text"] and (await person(org, "ana")).snoozed_until is None


async def test_slash_snooze_reminders_still_snoozes_commitments(org: SlackOrg) -> None:
    await commit(org, "UBEN")
    [snoozed] = await slash(org, "UBEN", "snooze reminders until 2026-12-06")
    assert "snoozed until 2026-12-06" in snoozed["text"]
    [week] = await slash(org, "UBEN", "snooze reminders 1w")
    assert "snoozed until 2026-11-30" in week["text"]
    async with org.app.db.session() as session:
        [c] = (await session.exec(select(Commitment))).all()
    assert c.snoozed_until == org.clock.now() + timedelta(days=7)
    assert (await person(org, "ben")).snoozed_until is None  # pulses untouched
    [off] = await slash(org, "UBEN", "snooze off")
    assert "back on" in off["text"]
