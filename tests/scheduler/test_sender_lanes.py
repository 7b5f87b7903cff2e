"""The outbox sender's lanes: a workspace paced down to a crawl holds back only itself.
Other workspaces' messages go out beside its backlog, each person's messages stay in
order, nothing goes twice, and no lane keeps claimed rows past their lease."""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import select

import scheduler.runtime.sender as sender_module
from bot.core.messages import Message, notice
from bot.core.messenger import Delivery, TemporaryDeliveryError, check_fence
from scheduler.runtime.drain import RETRY_IDLE, Retried
from scheduler.runtime.leases import LaneLeases
from scheduler.runtime.sender import Sender
from storage.core import outbox
from storage.core.db import Database
from storage.core.models import ChatAddress, OutboxMessage, Person, Workspace
from tests.support.clock import FakeClock


class PacedChannel:
    """A channel that posts one message at a time per team, `pace[team]` seconds each
    (as the Slack pacer does per workspace), and records what went out, when, and how
    many were under way at once."""

    def __init__(self, channel: str, pace: dict[str, float], paced: bool = False) -> None:
        self.channel = channel
        self.pace = pace
        self.paced = paced  # one process at a time sends its lanes (the lease holder)
        self.locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.sent: list[tuple[str, int, str]] = []  # (team, person, ref)
        self.at: dict[str, float] = {}  # ref -> when it went out (monotonic)
        self.failed_at: dict[str, float] = {}  # ref -> when its failure was raised
        self.busy: Counter[str] = Counter()  # deliveries under way per team / person
        self.most: Counter[str] = Counter()
        self.failures: dict[str, Exception] = {}  # ref -> raised on its first attempt
        self.after: Callable[[int], Awaitable[None]] | None = None  # called per delivery

    async def deliver(self, person_id: int, address: dict[str, Any], message: Message) -> Delivery:
        team = str(address.get("team_id", "local"))
        keys = (team, f"person:{person_id}", "all")
        for key in keys:
            self.busy[key] += 1
            self.most[key] = max(self.most[key], self.busy[key])
        try:
            async with self.locks[team]:
                await asyncio.sleep(self.pace.get(team, 0.0))
            if self.paced:
                check_fence()  # as the Slack messenger does before each call
            if (failure := self.failures.pop(message.ref, None)) is not None:
                self.failed_at[message.ref] = time.monotonic()
                raise failure
            self.sent.append((team, person_id, message.ref))
            self.at[message.ref] = time.monotonic()
        finally:
            for key in keys:
                self.busy[key] -= 1
        if self.after is not None:
            await self.after(len(self.sent))
        return Delivery(external_ref={"n": len(self.sent)})


async def _workspace(db: Database, key: str, channel: str, people: int) -> list[int]:
    """A workspace (Slack team `key`, or the local channel) with `people` reachable people."""
    async with db.session() as session:
        workspace = Workspace(key=key, name=key, channel=channel, external_id=key)
        session.add(workspace)
        await session.flush()
        ids = []
        for n in range(people):
            person = Person(workspace_id=workspace.id or 0, handle=f"{key}{n}", name=f"{key}{n}")
            session.add(person)
            await session.flush()
            address = {"user_id": f"U{key}{n}", "team_id": key} if channel == "slack" else {}
            session.add(ChatAddress(person_id=person.id or 0, channel=channel, address=address))
            ids.append(person.id or 0)
        return ids


async def _enqueue(db: Database, people: list[int], each: int, at: datetime) -> list[str]:
    """`each` messages per person, due a second apart up to `at`; their refs in the
    order each person must receive them."""
    rows = []
    for person in people:
        for n in range(each):
            ref = f"p{person}:m{n}"
            payload = notice(ref, ref).model_dump(mode="json")
            due = at + timedelta(seconds=n - each)
            rows.append(outbox.Outgoing(ref, person, "test", ref, payload, due))
    async with db.session() as session:
        await outbox.enqueue_many(session, rows)
    return [row.ref for row in rows]


async def _rows(db: Database) -> list[OutboxMessage]:
    async with db.session() as session:
        return list((await session.exec(select(OutboxMessage))).all())


def _in_order(channel: PacedChannel, refs: list[str]) -> None:
    """Every person got each of their messages once, in order."""
    got: defaultdict[int, list[str]] = defaultdict(list)
    for _, person, ref in channel.sent:
        got[person].append(ref)
    expected: defaultdict[int, list[str]] = defaultdict(list)
    for ref in refs:
        expected[int(ref[1:].split(":")[0])].append(ref)
    assert got == expected


async def test_a_paced_workspace_holds_back_only_itself(any_db: Database, clock: FakeClock) -> None:
    a = await _workspace(any_db, "TA", "slack", 10)
    b = await _workspace(any_db, "TB", "slack", 3)
    local = await _workspace(any_db, "home", "local", 1)
    # A's backlog has waited an hour: a single queue would send all of it first.
    refs = await _enqueue(any_db, a, 4, clock.now() - timedelta(hours=1))
    refs += await _enqueue(any_db, b, 2, clock.now())
    refs += await _enqueue(any_db, local, 2, clock.now())
    slack = PacedChannel("slack", {"TA": 0.05})
    home = PacedChannel("local", {})
    result = await Sender(any_db, clock, {"slack": slack, "local": home}).drain(batch=5)

    assert (result.sent, result.retried, result.failed) == (48, 0, 0)
    order = [team for team, _, _ in slack.sent]
    a_before_b_done = order[: max(i for i, team in enumerate(order) if team == "TB")].count("TA")
    assert a_before_b_done < 10, f"B waited for {a_before_b_done} of A's 40 messages"
    assert len(home.sent) == 2 and max(home.at.values()) < max(slack.at.values())
    _in_order(slack, [r for r in refs if int(r[1:].split(":")[0]) in a + b])
    _in_order(home, [r for r in refs if int(r[1:].split(":")[0]) in local])
    # A lane has a few messages under way at once (database work overlaps the wait for
    # the pace), never one person's two.
    assert 1 <= slack.most["TA"] <= sender_module.PIPELINE
    assert slack.most["TB"] <= sender_module.PIPELINE
    assert slack.most["all"] >= 2  # lanes side by side
    assert all(n == 1 for key, n in slack.most.items() if key.startswith("person:"))
    assert {row.status for row in await _rows(any_db)} == {"sent"}
    assert await Sender(any_db, clock, {"slack": slack, "local": home}).drain() == type(result)()


async def test_a_workspace_whose_messages_come_due_mid_drain_joins_in(
    db: Database, clock: FakeClock
) -> None:
    a = await _workspace(db, "TA", "slack", 10)
    b = await _workspace(db, "TB", "slack", 2)
    refs = await _enqueue(db, a, 4, clock.now() - timedelta(hours=1))
    slack = PacedChannel("slack", {"TA": 0.03})
    later: list[str] = []

    async def enqueue_b(sent: int) -> None:
        if sent == 5:  # A's backlog is under way: B's messages come due now
            later.extend(await _enqueue(db, b, 3, clock.now()))

    slack.after = enqueue_b
    result = await Sender(db, clock, {"slack": slack}, rescan_seconds=0.05).drain(batch=5)

    assert result.sent == 46 and len(later) == 6
    order = [team for team, _, _ in slack.sent]
    last_b = max(i for i, team in enumerate(order) if team == "TB")
    assert order[:last_b].count("TA") < 25, "B waited for A's backlog"
    _in_order(slack, refs + later)


async def test_a_slow_lane_hands_back_its_claim_before_the_lease_ends(
    db: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sender_module, "LEASE", timedelta(seconds=1))
    monkeypatch.setattr(sender_module, "LEASE_MARGIN", 0.5)
    claimed_at: dict[str, float] = {}
    claims: Counter[str] = Counter()
    claim_due = outbox.claim_due

    async def spy(*args: Any, **kwargs: Any) -> list[OutboxMessage]:
        rows = await claim_due(*args, **kwargs)
        for row in rows:
            claimed_at[row.ref] = time.monotonic()
            claims[row.ref] += 1
        return rows

    monkeypatch.setattr(outbox, "claim_due", spy)
    a = await _workspace(db, "TA", "slack", 3)
    refs = await _enqueue(db, a, 4, clock.now())
    slack = PacedChannel("slack", {"TA": 0.1})
    # Slack says "wait 0.6 s" once, on the fourth post (people's first messages go
    # first): longer than what is left of the claim after it.
    slack.failures[refs[1]] = TemporaryDeliveryError("ratelimited", retry_after=0.6)
    result = await Sender(db, clock, {"slack": slack}).drain()

    assert (result.sent, result.retried) == (11, 1)
    # Honoured by every send launched after the 429 (those already under way, at most
    # PIPELINE - 1, are this channel's to hold: the Slack pacer does).
    limited = slack.failed_at[refs[1]]
    after = sorted(at for at in slack.at.values() if at > limited)
    assert len(after) == 8
    assert all(at >= limited + 0.6 for at in after[sender_module.PIPELINE - 1 :]), after
    assert max(claims.values()) >= 2, "the lane never handed rows back"
    late = {ref: slack.at[ref] - claimed_at[ref] for ref in slack.at}
    assert max(late.values()) < 1.0, f"sent after its lease: {late}"
    assert sorted(r for _, _, r in slack.sent) == sorted(set(refs) - {refs[1]})
    pending = [row for row in await _rows(db) if row.status == "pending"]
    assert [(row.ref, row.claimed_until) for row in pending] == [(refs[1], None)]


async def test_a_failing_lane_stops_the_drain_and_the_others_hand_back_their_rows(
    db: Database, clock: FakeClock
) -> None:
    a = await _workspace(db, "TA", "slack", 10)
    b = await _workspace(db, "TB", "slack", 1)
    await _enqueue(db, a, 1, clock.now() - timedelta(minutes=1))
    broken = await _enqueue(db, b, 1, clock.now())
    slack = PacedChannel("slack", {"TA": 0.05, "TB": 0.01})
    slack.failures[broken[0]] = RuntimeError("the database went away")
    with pytest.raises(RuntimeError, match="database went away"):
        await Sender(db, clock, {"slack": slack}).drain()
    rows = {row.ref: row for row in await _rows(db)}
    left = [row for ref, row in rows.items() if ref not in broken and row.status == "pending"]
    assert left and all(row.claimed_until is None for row in left)
    assert sum(1 for row in rows.values() if row.status == "sent") == len(slack.sent) < 10


async def test_a_paced_lane_goes_from_its_lease_holder_and_unpaced_ones_from_anyone(
    pg_db: Database, clock: FakeClock
) -> None:
    slack_people = await _workspace(pg_db, "TA", "slack", 3)
    local_people = await _workspace(pg_db, "home", "local", 1)
    await _enqueue(pg_db, slack_people, 2, clock.now())
    await _enqueue(pg_db, local_people, 2, clock.now())
    slack = PacedChannel("slack", {}, paced=True)
    home = PacedChannel("local", {})
    other = LaneLeases(pg_db)  # another process, sending workspace TA
    taken = await other.take(await _workspace_id(pg_db, "TA"))
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
    people = await _workspace(pg_db, "TA", "slack", 2)
    await _enqueue(pg_db, people, 1, clock.now())
    lane = await _workspace_id(pg_db, "TA")
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


async def _workspace_id(db: Database, key: str) -> int:
    async with db.session() as session:
        found = (await session.exec(select(Workspace).where(Workspace.key == key))).one()
        return found.id or 0


async def test_a_sender_whose_lease_runs_out_stops_before_its_next_send(
    pg_db: Database, clock: FakeClock
) -> None:
    """As if the process had been paused past its lease (a stop, a long GC, a network
    split): it sends nothing more, hands back its claim, and the next holder (after a
    new take, under a new fencing token) sends the rest in order."""
    people = await _workspace(pg_db, "TA", "slack", 4)
    refs = await _enqueue(pg_db, people, 2, clock.now())
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
    left = [row for row in await _rows(pg_db) if row.status == "pending"]
    assert len(left) == len(refs) - 3 and all(row.claimed_until is None for row in left)
    slack.after = None
    lane = await _workspace_id(pg_db, "TA")
    other = LaneLeases(pg_db)
    lease = await other.take(lane)  # it handed the lane back as it stopped
    assert lease is not None and lease.token == 2  # under a new fencing token
    following = Sender(pg_db, clock, {"slack": slack}, leases=other)
    assert (await following.drain()).sent == len(refs) - 3
    _in_order(slack, refs)


async def test_lanes_whose_rows_are_all_claimed_still_count_in_the_fair_share(
    pg_db: Database, clock: FakeClock
) -> None:
    """Two processes, two lanes each. A lane sending its last claim has no claimable
    rows left, yet it is busy: counted out, every process's share shrank near the end
    of a fan-out and lanes were handed over (a pause each) while all of them still
    sent. Nor does a lane give way to lanes that wait for another process (theirs have
    rows left to claim): each of ours is taken once, under its first fencing token."""
    ours = [await _workspace(pg_db, key, "slack", 1) for key in ("TA", "TB")]
    theirs = [await _workspace(pg_db, key, "slack", 1) for key in ("TC", "TD")]
    for people in ours:
        await _enqueue(pg_db, people, 3, clock.now())
    for people in theirs:
        await _enqueue(pg_db, people, 4, clock.now())
    other = LaneLeases(pg_db)  # another process, sending TC and TD right now
    assert await other.heartbeat() == 1
    for key in ("TC", "TD"):
        lane = await _workspace_id(pg_db, key)
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
        assert tokens[await _workspace_id(pg_db, key)] == 1, f"{key} was handed over"


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
    await _workspace(pg_db, "TA", "slack", 1)
    lane = await _workspace_id(pg_db, "TA")
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
        await _enqueue(pg_db, await _workspace(pg_db, f"T{n}", "slack", 1), 2, clock.now())
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
