"""Matching people to Slack users (by user id or email) and their time zones, and the
Slack storage queries, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

import bot.slack.link as slack_link
import bot.slack.mount as slack_mount
import bot.slack.roster as roster_module
from bot.slack.actors import Actors
from bot.slack.link import SlackConfig, SlackLink
from bot.slack.roster import DEACTIVATED, Roster
from scheduler.runtime.leader import LeaderLock
from storage.channels import slack as slack_store
from storage.channels.slack_models import SlackMessage
from storage.core.db import Database
from storage.core.models import ChatAddress, Person, Workspace
from tests.support.clock import FakeClock
from tests.support.slack.helpers import slack_org
from tests.support.slack.standin import BOT_TOKEN, TEAM, SlackStandIn


@pytest.fixture
async def standin() -> AsyncIterator[SlackStandIn]:
    running = await SlackStandIn().start()
    yield running
    await running.stop()


@pytest.fixture
async def link(any_db: Database, standin: SlackStandIn, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(slack_link, "TIER_2", 6000.0)
    monkeypatch.setattr(slack_link, "TIER_3", 6000.0)
    monkeypatch.setattr(slack_link, "TIER_4", 6000.0)
    config = SlackConfig(
        api_url=standin.api_url,
        bot_token=BOT_TOKEN,
        signing_secret="s",
        app_token=None,
        client_id=None,
        client_secret=None,
        secret_key=None,
    )
    made = SlackLink(config, any_db)
    yield made
    await made.close()


async def people(db: Database, *rows: tuple[str, str | None, str | None]) -> dict[str, int]:
    """(handle, email, slack user id or None) in the Slack workspace."""
    ids: dict[str, int] = {}
    async with db.session() as session:
        workspace = await slack_store.ensure_workspace(session, TEAM, "Acme", "Europe/Berlin")
        for handle, email, user in rows:
            person = Person(workspace_id=workspace.id or 0, handle=handle, name=handle, email=email)
            session.add(person)
            await session.flush()
            ids[handle] = person.id or 0
            if user:
                session.add(
                    ChatAddress(
                        person_id=person.id or 0, channel="slack", address={"user_id": user}
                    )
                )
    return ids


async def address_of(db: Database, person_id: int) -> ChatAddress | None:
    async with db.session() as session:
        query = select(ChatAddress).where(ChatAddress.person_id == person_id)
        return (await session.exec(query)).first()


async def test_sync_matches_by_user_id_or_email_and_takes_time_zones(
    link: SlackLink, standin: SlackStandIn
) -> None:
    standin.add_user("UANA", "ana@acme.test", tz="America/New_York")
    standin.add_user("UERIN", "Erin@Acme.test", tz="Asia/Tokyo")
    standin.add_user("UGONE", "gone@acme.test", deleted=True)
    ids = await people(
        link.db,
        ("ana", "ana@acme.test", "UANA"),
        ("erin", "erin@acme.test", None),
        ("gone", "gone@acme.test", "UGONE"),
        ("nobody", "nobody@acme.test", None),
    )
    report = await Roster(link).sync(TEAM)
    assert (report.matched, report.unmatched, report.deactivated) == (2, 1, 1)
    erin = await address_of(link.db, ids["erin"])
    assert erin is not None and erin.address == {"user_id": "UERIN", "team_id": TEAM}
    gone = await address_of(link.db, ids["gone"])
    assert gone is not None and not gone.active and gone.inactive_reason == DEACTIVATED
    async with link.db.session() as session:
        zones = {p.handle: p.timezone for p in (await session.exec(select(Person))).all()}
    assert zones["ana"] == "America/New_York" and zones["erin"] == "Asia/Tokyo"
    assert {c.method for c in standin.calls} == {"users.list"}  # one page, no one by one


async def test_a_large_roster_is_read_in_pages_and_a_500_is_asked_again(
    link: SlackLink, standin: SlackStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """450 people: three users.list pages of at most 200 (not 450 users.info calls); a
    page answered 500 is asked again after a backoff, and nobody is left unmatched."""
    monkeypatch.setattr(roster_module, "BACKOFF", 0.01)
    rows = []
    for n in range(450):
        standin.add_user(f"U{n:04d}", f"p{n}@acme.test", tz="Asia/Tokyo")
        rows.append((f"p{n}", f"p{n}@acme.test", f"U{n:04d}" if n % 2 else None))
    await people(link.db, *rows)
    standin.fail("users.list", status=500)
    report = await Roster(link).sync(TEAM)
    assert (report.matched, report.unmatched, report.timezones) == (450, 0, 450)
    pages = standin.of("users.list")
    assert [c.status for c in pages] == [500, 200, 200, 200]
    assert {c.method for c in standin.calls} == {"users.list"}
    again = await Roster(link).sync(TEAM)  # all known: nothing written this time
    assert (again.matched, again.timezones) == (450, 0)


async def test_an_unknown_clicker_is_matched_by_email_once(
    link: SlackLink, standin: SlackStandIn
) -> None:
    standin.add_user("UFRED", "fred@acme.test")
    standin.add_user("USTRANGER", "stranger@else.test")
    ids = await people(link.db, ("fred", "fred@acme.test", None))
    actors = Actors(link.db, Roster(link))
    fred = await actors.resolve(TEAM, "UFRED", BOT_TOKEN)
    assert fred is not None and fred.person_id == ids["fred"] and fred.channel == "slack"
    assert await actors.resolve(TEAM, "USTRANGER", BOT_TOKEN) is None
    assert await actors.resolve(TEAM, "USTRANGER", BOT_TOKEN) is None
    lookups = [c for c in standin.of("users.info") if c.args["user"] == "USTRANGER"]
    assert len(lookups) == 1  # the stranger is not looked up on every click


async def test_person_for_user_needs_the_right_workspace(any_db: Database) -> None:
    ids = await people(any_db, ("ana", None, "UANA"))
    async with any_db.session() as session:
        other = Workspace(key="other", name="Other", channel="slack", external_id="TOTHER")
        session.add(other)
        await session.flush()
        assert await slack_store.person_for_user(session, TEAM, "UANA") == (ids["ana"], 1)
        assert await slack_store.person_for_user(session, "TOTHER", "UANA") is None
        assert await slack_store.deactivate_team(session, TEAM, "slack app uninstalled") == 1
        assert await slack_store.reactivate_team(session, TEAM, ["slack app uninstalled"]) == 1


async def test_event_ids_and_oauth_states_are_taken_once(any_db: Database) -> None:
    now = datetime.now(UTC)
    async with any_db.session() as session:
        assert await slack_store.first_sighting(session, "Ev1", now)
        assert not await slack_store.first_sighting(session, "Ev1", now)
        await slack_store.add_state(session, "s1", now + timedelta(minutes=10))
        await slack_store.add_state(session, "old", now - timedelta(minutes=1))
    async with any_db.session() as session:
        assert await slack_store.consume_state(session, "s1", now)
        assert not await slack_store.consume_state(session, "s1", now)
        assert not await slack_store.consume_state(session, "old", now)
        assert await slack_store.purge_events(session, now + timedelta(seconds=1)) == 1


async def test_message_locations_mark_posts_under_way(any_db: Database) -> None:
    ids = await people(any_db, ("ana", None, "UANA"))
    now = datetime.now(UTC)
    async with any_db.session() as session:
        await slack_store.begin_post(session, ids["ana"], "pulse:1", now)
    async with any_db.session() as session:
        mark = await slack_store.message_at(session, ids["ana"], "pulse:1")
        assert mark is not None and mark.ts is None and mark.attempted_at == now
        await slack_store.record_post(session, ids["ana"], "pulse:1", "DUANA", "1.000100")
    async with any_db.session() as session:
        assert await slack_store.dm_channel(session, ids["ana"]) == "DUANA"
        await slack_store.forget_post(session, ids["ana"], "pulse:1")  # posted: kept
        assert await slack_store.message_at(session, ids["ana"], "pulse:1") is not None


async def test_two_posts_with_one_ref_at_once_both_mark_it(any_db: Database) -> None:
    """Two `help` DMs from one person answered at once: each marks its post under way
    (an upsert), where a read then an insert broke the unique constraint."""
    ids = await people(any_db, ("ana", None, "UANA"))
    now = datetime.now(UTC)

    async def post(ts: str) -> None:
        async with any_db.session() as session:
            await slack_store.begin_post(session, ids["ana"], "help", now)
            # Long enough for the other to mark too: a read-then-insert would have
            # found nothing in both, and both would insert at the commit.
            await asyncio.sleep(0.2)
        async with any_db.session() as session:
            await slack_store.record_post(session, ids["ana"], "help", "DUANA", ts)

    await asyncio.gather(post("1.000100"), post("1.000200"))
    async with any_db.session() as session:
        rows = (await session.exec(select(SlackMessage))).all()
    assert [(r.ref, r.channel) for r in rows] == [("help", "DUANA")]
    assert rows[0].ts in ("1.000100", "1.000200") and rows[0].attempted_at is None


async def _zone_of(db: Database, person_id: int) -> str | None:
    async with db.session() as session:
        person = await session.get(Person, person_id)
        return person.timezone if person else None


async def test_the_server_syncs_once_it_leads_and_waits_out_a_429(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, no_env: None
) -> None:
    """On PostgreSQL the leader probe may take the lock after start-up: the roster is a
    leader job, so it runs once this process leads (probed every 10 s; here 50 ms), and
    a 429 on the way is waited out rather than leaving the person for 12 hours."""
    leading = {"now": False}

    async def probe(_: LeaderLock) -> bool:
        return leading["now"]

    monkeypatch.setattr(LeaderLock, "probe", probe)
    fast = {"leader_probe_seconds": 0.05}
    async with slack_org(tmp_path, clock, monkeypatch, roster=True, settings=fast) as org:
        org.standin.add_user("UANA", "ana@acme.test", tz="Asia/Tokyo")
        org.standin.fail("users.list", retry_after=1)
        await asyncio.sleep(0.3)  # passes while another process leads
        assert org.standin.of("users.list") == []
        leading["now"] = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 8.0
        while await _zone_of(org.app.db, org.ids["ana"]) != "Asia/Tokyo":
            assert loop.time() < deadline, "no roster sync once this process led"
            await asyncio.sleep(0.05)
        asked = org.standin.of("users.list")
        assert [c.status for c in asked] == [429, 200]  # refused once, asked again
        await asyncio.sleep(0.3)
        assert len(org.standin.of("users.list")) == 2  # the next pass is 12 hours away


async def test_the_start_up_check_asks_again_after_a_500_and_then_reads_the_roster(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, no_env: None
) -> None:
    """auth.test answered 500 twice is asked again after a backoff (not a minute or 12
    hours later); a token refused at first and accepted at the next check has its
    roster read at once, not at the next pass."""
    monkeypatch.setattr(slack_mount, "START_BACKOFF", 0.01)
    async with slack_org(tmp_path, clock, monkeypatch) as org:
        [mount] = [c for c in org.app.channels if isinstance(c, slack_mount.SlackMount)]
        org.standin.add_user("UANA", "ana@acme.test", tz="Asia/Tokyo")
        org.standin.fail("auth.test", status=500, count=2)
        assert await mount.sync_roster() == 1
        assert [c.status for c in org.standin.of("auth.test")] == [500, 500, 200]
        assert await _zone_of(org.app.db, org.ids["ana"]) == "Asia/Tokyo"

    async with slack_org(tmp_path / "2", clock, monkeypatch) as org:
        [mount] = [c for c in org.app.channels if isinstance(c, slack_mount.SlackMount)]
        org.standin.add_user("UANA", "ana@acme.test", tz="Asia/Tokyo")
        org.standin.fail("auth.test", error="invalid_auth")
        assert await mount.sync_roster() == 0  # refused: no retry can help, no roster
        assert org.standin.of("users.list") == []
        assert await mount.check()  # the next check (a minute on) passes
        assert len(org.standin.of("users.list")) == 1  # and the roster is read at once
        assert await _zone_of(org.app.db, org.ids["ana"]) == "Asia/Tokyo"
