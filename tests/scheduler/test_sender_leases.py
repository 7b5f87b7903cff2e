"""Lanes across processes: a paced lane goes from its lease holder only, each process
takes its fair share and no more, a lane changing hands waits a slot of the pace, and a
holder whose lease ran out stops before its next send."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import text

from scheduler.runtime.drain import RETRY_IDLE, Retried
from scheduler.runtime.leases import LaneLeases
from scheduler.runtime.sender import Sender
from storage.core import outbox
from storage.core.db import Database
from tests.support.clock import FakeClock
from tests.support.lanes import (
    PacedChannel,
    enqueue,
    in_order,
    outbox_rows,
    workspace,
    workspace_id,
)


async def test_a_paced_lane_goes_from_its_lease_holder_and_unpaced_ones_from_anyone(
    pg_db: Database, clock: FakeClock
) -> None:
    slack_people = await workspace(pg_db, "TA", "slack", 3)
    local_people = await workspace(pg_db, "home", "local", 1)
    await enqueue(pg_db, slack_people, 2, clock.now())
    await enqueue(pg_db, local_people, 2, clock.now())
    slack = PacedChannel("slack", {}, paced=True)
    home = PacedChannel("local", {})
    other = LaneLeases(pg_db)  # another process, sending workspace TA
    taken = await other.take(await workspace_id(pg_db, "TA"))
    assert taken is not None
    sender = Sender(pg_db, clock, {"slack": slack, "local": home})
    assert (await sender.drain()).sent == 2
    assert len(home.sent) == 2 and slack.sent == []
    await other.release(taken)
    assert (await sender.drain()).sent == 6
    assert len(slack.sent) == 6
    assert sender.leases.held == {}  # an emptied lane's lease is handed back


async def test_a_lane_taken_over_from_another_process_waits_one_slot_first(
    pg_db: Database, clock: FakeClock
) -> None:
    """The platform counts a workspace's posts over its window; the new holder's pacer
    knows none of the old holder's, so its first post keeps one slot of the pace
    (`handover_seconds`) after the other process stopped. Its own lane again: no wait."""
    people = await workspace(pg_db, "TA", "slack", 2)
    await enqueue(pg_db, people, 1, clock.now())
    lane = await workspace_id(pg_db, "TA")
    slack = PacedChannel("slack", {}, paced=True)
    slack.handover_seconds = 0.6  # type: ignore[attr-defined]
    other = LaneLeases(pg_db)  # another process, which sent the lane until now
    held = await other.take(lane)
    assert held is not None and held.others_stopped is None  # nobody held it before
    await other.release(held)
    stopped = time.monotonic()
    sender = Sender(pg_db, clock, {"slack": slack})
    assert (await sender.drain()).sent == 2
    first = min(slack.at.values())
    assert first - stopped >= 0.5  # one slot, less the database's and our clocks' skew
    assert sender.leases.held == {}  # handed back when the lane emptied
    mine = await sender.leases.take(lane)  # its own lane again: nothing to wait for
    assert mine is not None and mine.others_stopped is None


async def test_a_sender_whose_lease_runs_out_stops_before_its_next_send(
    pg_db: Database, clock: FakeClock
) -> None:
    """As if the process had been paused past its lease (a stop, a long GC, a network
    split): it sends nothing more, hands back its claim, and the next holder (after a
    new take, under a new fencing token) sends the rest in order."""
    people = await workspace(pg_db, "TA", "slack", 4)
    refs = await enqueue(pg_db, people, 2, clock.now())
    slack = PacedChannel("slack", {}, paced=True)
    sender = Sender(pg_db, clock, {"slack": slack})

    async def paused(sent: int) -> None:
        if sent == 3:  # the pause outlasted the lease, here and in the database
            for lease in sender.leases.held.values():
                lease.until = time.monotonic() + sender.leases.margin / 2
            async with pg_db.engine.begin() as connection:
                await connection.execute(
                    text("UPDATE lane_lease SET expires_at = now() - interval '1 second'")
                )

    slack.after = paused
    result = await sender.drain(batch=1)  # one at a time: none under way at the pause
    assert result.sent == 3
    left = [row for row in await outbox_rows(pg_db) if row.status == "pending"]
    assert len(left) == len(refs) - 3 and all(row.claimed_until is None for row in left)
    slack.after = None
    lane = await workspace_id(pg_db, "TA")
    other = LaneLeases(pg_db)
    lease = await other.take(lane)  # it handed the lane back as it stopped
    assert lease is not None and lease.token == 2  # under a new fencing token
    following = Sender(pg_db, clock, {"slack": slack}, leases=other)
    assert (await following.drain()).sent == len(refs) - 3
    in_order(slack, refs)


async def test_lanes_whose_rows_are_all_claimed_still_count_in_the_fair_share(
    pg_db: Database, clock: FakeClock
) -> None:
    """Two processes, two lanes each. A lane sending its last claim has no claimable
    rows left, yet it is busy: counted out, every process's share shrank near the end
    of a fan-out and lanes were handed over (a pause each) while all of them still
    sent. Nor does a lane give way to lanes that wait for another process (theirs have
    rows left to claim): each of ours is taken once, under its first fencing token."""
    ours = [await workspace(pg_db, key, "slack", 1) for key in ("TA", "TB")]
    theirs = [await workspace(pg_db, key, "slack", 1) for key in ("TC", "TD")]
    for people in ours:
        await enqueue(pg_db, people, 3, clock.now())
    for people in theirs:
        await enqueue(pg_db, people, 4, clock.now())
    other = LaneLeases(pg_db)  # another process, sending TC and TD right now
    assert await other.heartbeat() == 1
    for key in ("TC", "TD"):
        lane = await workspace_id(pg_db, key)
        lease = await other.take(lane)
        assert lease is not None
        async with pg_db.session() as session:
            fence = (other.node, lease.token)
            claim = timedelta(minutes=1)
            assert (
                len(await outbox.claim_due(session, clock.now(), 3, claim, lane, fence=fence)) == 3
            )
    slack = PacedChannel("slack", {"TA": 0.1, "TB": 0.1}, paced=True)
    sender = Sender(pg_db, clock, {"slack": slack}, rescan_seconds=0.05)
    assert (await sender.drain(batch=2)).sent == 6  # each lane's second claim is its last
    assert sender.leases.live == 2
    async with pg_db.engine.connect() as connection:
        found = await connection.execute(text("SELECT workspace_id, token FROM lane_lease"))
        tokens = dict(found.all())
    for key in ("TA", "TB"):
        assert tokens[await workspace_id(pg_db, key)] == 1, f"{key} was handed over"


async def test_a_lane_that_ends_wakes_its_idle_retry_stream() -> None:
    """A lane ends (empty, or giving way) once both streams have: the retry stream's
    idle look (five seconds) must not keep the lane's slot, and its lease, meanwhile."""
    retried = Retried()
    looking = asyncio.create_task(retried.until_due())
    await asyncio.sleep(0.05)
    assert not looking.done()  # idle: looking again only after RETRY_IDLE
    retried.end()
    await asyncio.wait_for(looking, timeout=1.0)  # at once, not RETRY_IDLE later
    await asyncio.wait_for(retried.until_due(), timeout=1.0)  # and never waits again


async def test_a_lane_taken_as_its_holder_releases_it_waits_a_slot_not_a_lease(
    pg_db: Database, clock: FakeClock
) -> None:
    """The take waits for the release's row lock and then sees the release, but its
    read of how the lane stood is from before: the holder's lease end still ahead. That
    is "just now" (one slot to wait), not a negative age that would idle the lane for
    the rest of the old lease."""
    await workspace(pg_db, "TA", "slack", 1)
    lane = await workspace_id(pg_db, "TA")
    holder = LaneLeases(pg_db)
    assert await holder.take(lane) is not None
    async with pg_db.engine.connect() as releasing:
        transaction = await releasing.begin()
        await releasing.execute(
            text("UPDATE lane_lease SET expires_at = clock_timestamp() WHERE workspace_id = :w"),
            {"w": lane},
        )
        taking = asyncio.create_task(LaneLeases(pg_db).take(lane))
        await asyncio.sleep(0.3)
        assert not taking.done()  # waiting for the release's row lock
        await transaction.commit()
        lease = await asyncio.wait_for(taking, timeout=5)
    assert lease is not None and lease.token == 2
    assert lease.others_stopped is not None and 0 <= lease.others_stopped < 1


async def test_lanes_starting_at_once_take_no_more_than_our_share(
    pg_db: Database, clock: FakeClock
) -> None:
    """Every lane starts at once and each awaits its take: those under way count, so the
    process never holds more than its share (and never hands the excess back); the
    lanes beyond it go when ours end."""
    for n in range(4):
        await enqueue(pg_db, await workspace(pg_db, f"T{n}", "slack", 1), 2, clock.now())
    assert await LaneLeases(pg_db).heartbeat() == 1  # another live process: shares of 2
    ch = PacedChannel("slack", {}, paced=True)
    sender = Sender(pg_db, clock, {"slack": ch})
    t0 = time.monotonic()
    most, take = 0, sender.leases.take

    async def counted(lane: int) -> Any:
        nonlocal most
        lease = await take(lane)
        most = max(most, len(sender.leases.held))
        return lease

    sender.leases.take = counted  # type: ignore[method-assign]
    assert (await sender.drain()).sent == 8
    assert most == 2
    # The deferred lanes went as soon as ours ended: an ending lane's retry stream does
    # not finish its idle look first (that kept each lane, and its lease, 5 s longer).
    assert time.monotonic() - t0 < RETRY_IDLE
