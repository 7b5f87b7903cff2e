"""Bot token rotation under trouble, against the stand-in: a refresh Slack fails for a
moment (5xx, 429) is retried and switches nobody off; a definitive refusal does; and a
refresh token is never used twice, whether the other caller is in this process or in
another one (another SlackLink on the same database)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.core.messages import notice
from bot.slack.link import SlackLink
from bot.slack.sender import UNAUTHORISED_REASON, SlackMessenger
from handlers.pulse.rounds import open_round
from storage.core.models import ChatAddress, OutboxMessage
from tests.slack.test_install import OAUTH, install
from tests.support.clock import FakeClock
from tests.support.slack.helpers import SlackOrg, slack_org
from tests.support.slack.standin import TEAM

ANA = {"user_id": "UANA", "team_id": TEAM}


@pytest.fixture
async def org(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, no_env: None
) -> AsyncIterator[SlackOrg]:
    """Installed with a rotating token that is already within its refresh margin."""
    async with slack_org(tmp_path, clock, monkeypatch, settings=OAUTH) as running:
        assert (await install(running, rotating=True)).status == 200
        await running.settle()
        store = messenger(running).link.store
        assert store is not None
        bot = await store.bot_for_team(TEAM, fresh=True)
        assert bot is not None and bot.bot_refresh_token
        bot.bot_token_expires_at = int(time.time()) + 600  # within the 2-hour margin
        await store.async_save_bot(bot)
        yield running


def messenger(org: SlackOrg) -> SlackMessenger:
    found = org.app.messengers["slack"]
    assert isinstance(found, SlackMessenger)
    return found


def refreshes(org: SlackOrg, ok: bool | None = None) -> int:
    calls = org.standin.of("oauth.v2.access", ok=ok)
    return sum(1 for call in calls if call.args.get("grant_type") == "refresh_token")


async def active(org: SlackOrg) -> dict[int, bool]:
    async with org.app.db.session() as session:
        return {a.person_id: a.active for a in (await session.exec(select(ChatAddress))).all()}


async def drain_until_sent(org: SlackOrg) -> list[OutboxMessage]:
    for _ in range(6):
        await org.app.sender.drain()
        org.clock.advance(timedelta(minutes=1))
    async with org.app.db.session() as session:
        return list((await session.exec(select(OutboxMessage))).all())


@pytest.mark.parametrize("fault", [{"status": 500}, {"retry_after": 1, "error": "ratelimited"}])
async def test_a_refresh_that_fails_for_a_moment_is_retried(
    org: SlackOrg, fault: dict[str, object]
) -> None:
    org.standin.fail("oauth.v2.access", **fault)
    await open_round(org.app.services, "leadership")
    result = await org.app.sender.drain()
    assert (result.retried, result.failed, result.sent) == (1, 0, 3)
    assert refreshes(org, ok=False) == 1 and refreshes(org, ok=True) == 1
    assert all((await active(org)).values())  # nobody switched off
    rows = await drain_until_sent(org)
    assert all(row.status == "sent" for row in rows if row.kind == "pulse")
    assert len(org.standin.of("chat.postMessage", ok=True)) == 4


async def test_a_refused_refresh_token_is_permanent(org: SlackOrg) -> None:
    org.standin.refresh_tokens.clear()  # Slack forgot it: invalid_refresh_token
    await open_round(org.app.services, "leadership")
    result = await org.app.sender.drain()
    assert (result.sent, result.retried, result.failed) == (0, 0, 4)
    async with org.app.db.session() as session:
        addresses = (await session.exec(select(ChatAddress))).all()
        invites = (await session.exec(select(OutboxMessage))).all()
    executives = {r.person_id for r in invites if r.kind == "pulse"}
    gone = {a.person_id: a.inactive_reason for a in addresses if not a.active}
    assert gone == dict.fromkeys(executives, UNAUTHORISED_REASON)
    assert org.standin.of("chat.postMessage") == []


async def test_a_second_process_uses_the_token_the_first_refreshed(org: SlackOrg) -> None:
    first = messenger(org)
    other = SlackLink(first.link.config, org.app.db)  # another process: its own cache
    assert other.store is not None
    try:
        stale = await other.store.bot_for_team(TEAM)  # cached, with the refresh token
        await first.deliver(org.ids["ana"], ANA, notice("n:1", "one"))
        assert refreshes(org) == 1
        ben = {**ANA, "user_id": "UBEN"}
        await SlackMessenger(other).deliver(org.ids["ben"], ben, notice("n:2", "two"))
    finally:
        await other.close()
    assert stale is not None and refreshes(org) == 1  # the used-up token was not tried again
    [one, two] = org.standin.of("chat.postMessage")
    assert one.status == two.status == 200
    assert all((await active(org)).values())


async def test_racing_refreshes_in_two_processes_both_end_with_the_new_token(
    org: SlackOrg,
) -> None:
    first = messenger(org)
    other = SlackLink(first.link.config, org.app.db)
    org.standin.delay = 1.0  # each answer comes a second after Slack acted on the call
    try:
        ahead = asyncio.create_task(first.link.bot_token(TEAM))
        await asyncio.sleep(0.3)  # the first refresh is under way, its token used up
        behind = await other.bot_token(TEAM)  # refused: it read the old refresh token
        assert behind == await ahead
        assert refreshes(org, ok=True) == 1 and refreshes(org, ok=False) == 1
        org.standin.delay = 0.0
        await SlackMessenger(other).deliver(org.ids["ana"], ANA, notice("n:1", "one"))
    finally:
        await other.close()
    assert org.standin.of("chat.postMessage", ok=True)
    assert all((await active(org)).values())
