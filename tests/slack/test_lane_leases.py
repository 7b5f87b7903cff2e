"""Two `pulsecoach serve` processes on one PostgreSQL, each with its own Slack pacer,
drain one workspace's queue against the stand-in: only the holder of the workspace's
lane lease posts, so the workspace sees one process's pace, not twice it; when the
holder stops, the other process takes the lane and sends the rest, each message once."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.slack.link import HEADROOM, SlackConfig, SlackLink
from bot.slack.sender import SlackMessenger
from scheduler.runtime.sender import Sender
from storage.core.db import Database
from storage.core.models import OutboxMessage
from tests.support.clock import FakeClock
from tests.support.lanes import PacedChannel, enqueue, workspace
from tests.support.slack.standin import BOT_TOKEN, TEAM, SlackStandIn

PER_MINUTE = 1200.0  # posts per workspace: one every 50 ms, so the test is quick


@pytest.fixture
async def standin() -> AsyncIterator[SlackStandIn]:
    running = await SlackStandIn().start()
    running.limit("chat.postMessage", int(PER_MINUTE))
    yield running
    await running.stop()


class Process:
    """What one `pulsecoach serve` brings to sending: its engine, Slack link (with its
    own pacer) and outbox sender (with its own lane leases)."""

    def __init__(self, url: str, standin: SlackStandIn, clock: FakeClock) -> None:
        self.db = Database(url)
        config = SlackConfig(
            api_url=standin.api_url,
            bot_token=BOT_TOKEN,
            signing_secret=None,
            app_token=None,
            client_id=None,
            client_secret=None,
            secret_key=None,
            posts_per_minute=PER_MINUTE,
        )
        self.link = SlackLink(config, self.db)
        self.local = PacedChannel("local", {})
        messengers = {"slack": SlackMessenger(self.link), "local": self.local}
        self.sender = Sender(self.db, clock, messengers, rescan_seconds=0.2)

    async def stop(self) -> None:
        await self.link.close()
        await self.db.dispose()


async def until(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Wait for the condition, checking every 10 ms; fail the test after `seconds`."""
    for _ in range(int(seconds * 100)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("timed out waiting")


def busiest_second(times: list[float]) -> int:
    """The most posts within any one second."""
    times = sorted(times)
    return max(sum(1 for t in times[i:] if t < start + 1.0) for i, start in enumerate(times))


async def test_only_the_lease_holder_posts_and_the_other_takes_over_when_it_stops(
    pg_db: Database, standin: SlackStandIn, clock: FakeClock
) -> None:
    people = await workspace(pg_db, TEAM, "slack", 12)
    refs = await enqueue(pg_db, people, 5, clock.now())
    home = await workspace(pg_db, "home", "local", 1)
    local_refs = await enqueue(pg_db, home, 3, clock.now())
    first, second = Process(pg_db.url, standin, clock), Process(pg_db.url, standin, clock)
    try:
        leading = asyncio.create_task(first.sender.drain(batch=5))
        await until(lambda: len(standin.of("chat.postMessage")) >= 1)  # first holds the lane

        followed = 0

        async def follower() -> None:  # the other process's send-outbox job, every tick
            nonlocal followed
            while True:
                followed += (await second.sender.drain(batch=5)).sent
                await asyncio.sleep(0.1)

        following = asyncio.create_task(follower())
        await until(lambda: len(second.local.sent) + len(first.local.sent) == len(local_refs))
        await until(lambda: len(standin.of("chat.postMessage")) >= 25)
        leading.cancel()  # the holder stops: its lane's lease is handed back
        await asyncio.gather(leading, return_exceptions=True)
        by_first = len(standin.of("chat.postMessage"))
        assert 25 <= by_first < len(refs)
        assert followed == len(second.local.sent)  # it sent unpaced lanes only, so far
        clock.advance(timedelta(seconds=31))  # the claim the stopped one held lapses
        for _ in range(200):  # until the other process has sent (and recorded) the rest
            async with pg_db.session() as session:
                rows = (await session.exec(select(OutboxMessage))).all()
            if {row.status for row in rows} == {"sent"}:
                break
            await asyncio.sleep(0.1)
        following.cancel()
        await asyncio.gather(following, return_exceptions=True)
        agents = [post.agent for post in standin.of("chat.postMessage")]
        switch = agents.index(agents[-1])
        assert set(agents[:switch]) == {agents[0]} != {agents[-1]}  # one, then the other
        assert set(agents[switch:]) == {agents[-1]}
    finally:
        await first.stop()
        await second.stop()

    posts = standin.of("chat.postMessage")
    assert all(post.status == 200 for post in posts)  # never over Slack's limit
    # One process's pace, not two (which would be 36 or more): allow one post for the
    # window's edges and one for loopback jitter (a new holder keeps one slot after the
    # old one stopped: tests/scheduler/test_sender_leases.py).
    assert busiest_second([post.at for post in posts]) <= PER_MINUTE * HEADROOM / 60 + 2
    async with pg_db.session() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
    assert {row.status for row in rows} == {"sent"}
    delivered = Counter(str(m["text"]) for dm in standin.messages.values() for m in dm)
    assert delivered == Counter(refs)  # each message once, none lost in the handover
