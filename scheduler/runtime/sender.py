"""The outbox sender: claims due messages and hands them to their channel.

Messages go out in lanes, one per workspace (so per channel, and per Slack team, whose
posts are paced), lanes side by side: a fan-out of thousands holds back only its own
workspace. Within a lane fresh messages go in order, and beside them a second stream
sends those being retried (an uncertain Slack post is checked with tier-3 calls of
their own pace while the fresh posts go on, not after all of them).

Every process sends. A paced channel's lane (Slack: its limit is per workspace, and
each process's pacer knows only its own posts) goes out from one process at a time,
the holder of the lane's lease (leases.py), which stops before its lease can run out
and checks it last thing before each call (FENCE); a lease carries a fencing token
that its claims must match. Each process takes its fair share of the due paced lanes,
so many workspaces go out as fast as the processes serving them allow. Unpaced lanes
go from any process.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from datetime import datetime, timedelta

from bot.core.messenger import FENCE, Fenced, Messenger
from scheduler.calendar.clock import Clock
from scheduler.runtime import drain as said
from scheduler.runtime.delivery import MAX_ATTEMPTS, Delivery, backoff
from scheduler.runtime.drain import DrainResult, DrainState, Pace, Retried
from scheduler.runtime.leases import LaneLeases, Lease
from storage.core import directory, outbox
from storage.core.db import Database
from storage.core.models import OutboxMessage

log = logging.getLogger(__name__)

__all__ = ["LEASE", "MAX_ATTEMPTS", "Sender", "backoff"]  # the tests' names for them
# A crashed sender's claimed rows return after the lease: keep batches small enough to
# send well within it, so a restart resumes within seconds, not minutes.
LEASE = timedelta(seconds=30)
# A lane hands back the rest of its batch once less than this is left of the lease:
# room for the message under way (a slow channel, a timeout) to finish inside it.
LEASE_MARGIN = 10.0
# Lanes sending at once in this process (mostly waiting on their workspace's pace).
CONCURRENCY = 32
# The retry stream's claim: rows being checked take a tier-3 call or two each (~1.2 s).
RETRY_BATCH = 5
# Messages of one stream under way at once (each person's still in order).
PIPELINE = 4
# While a drain runs, how often it looks for lanes with newly due messages.
RESCAN_SECONDS = 1.0


class Sender:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        messengers: Mapping[str, Messenger],
        concurrency: int = CONCURRENCY,
        rescan_seconds: float = RESCAN_SECONDS,
        leases: LaneLeases | None = None,
    ) -> None:
        """`leases`: who sends which paced lane across processes (one made for `db`
        when not given; on SQLite it grants every lane)."""
        self.db = db
        self.clock = clock
        self.messengers = messengers
        self.delivery = Delivery(db, clock, messengers)
        self.concurrency = max(1, concurrency)
        self.rescan_seconds = rescan_seconds
        self.leases = leases or LaneLeases(db)
        self.stopping = False
        self._draining: tuple[DrainState, asyncio.Task[object]] | None = None
        self._taking: set[int] = set()  # paced lanes whose lease we are asking for

    async def stop(self, seconds: float) -> bool:
        """Shutting down: no new drain, and the running one hands back what it has not
        sent (its lanes stop after the message under way); cancelled if it takes more
        than `seconds` (its claims then return after their lease). True: stopped clean."""
        self.stopping = True
        if self._draining is None:
            return True
        state, task = self._draining
        state.stopping = True
        done, _ = await asyncio.wait([task], timeout=seconds)
        if not done:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        return bool(done)

    async def drain(self, batch: int = 25) -> DrainResult:
        """Send everything due now, lane by lane, until nothing is due. While any lane
        is still sending, lanes whose messages came due since join in."""
        state = DrainState(batch)
        if self.stopping or (task := asyncio.current_task()) is None:
            return state.result
        self._draining = (state, task)
        try:
            return await self._drain(state)
        finally:
            self._draining = None

    async def _drain(self, state: DrainState) -> DrainResult:
        async with self.db.session() as session:
            state.result.expired = await outbox.expire_due(session, self.clock.now())
        state.waiting.extend(await self._due_lanes(state))
        started = said.log_started(state)
        running: dict[asyncio.Task[bool], int] = {}
        error: BaseException | None = None
        loop = asyncio.get_running_loop()
        next_scan = loop.time() + self.rescan_seconds
        try:
            while running or (state.waiting and not state.stopping):
                while state.waiting and len(running) < self.concurrency and not state.stopping:
                    lane = state.waiting.popleft()
                    if self._beyond_share(lane, state):
                        continue  # left waiting, it would make our lanes give way
                    running[asyncio.create_task(self._lane(lane, state))] = lane
                done, _ = await asyncio.wait(
                    running,
                    timeout=max(0.0, next_scan - loop.time()),
                    return_when=asyncio.FIRST_COMPLETED,
                )
                for task in done:
                    lane = running.pop(task)
                    if task.exception() is not None:
                        # Let the other lanes hand back their batches, then fail the drain.
                        error = error or task.exception()
                        state.stopping = True
                    elif task.result() and not state.stopping:
                        state.waiting.append(lane)  # it gave way to waiting lanes
                if done and state.deferred:  # a lane ended: room in our share, perhaps
                    state.waiting.extend(state.deferred)
                    state.deferred.clear()
                if loop.time() >= next_scan:
                    next_scan = loop.time() + self.rescan_seconds
                    if running and not state.stopping:
                        busy = set(running.values()) | set(state.waiting) | state.deferred
                        due = await self._rescan(state)
                        fresh = [lane for lane in due if lane not in busy]
                        state.waiting.extend(fresh)
        finally:
            for task in running:  # only when the drain itself was cancelled or failed
                task.cancel()
            if running:
                await asyncio.gather(*running, return_exceptions=True)
        if error is not None:
            raise error
        said.log_finished(state, started)
        return state.result

    def _paced(self) -> set[str]:
        """The channels whose lanes one process at a time sends (Messenger.paced)."""
        return {name for name, m in self.messengers.items() if m.paced}

    async def _due_lanes(self, state: DrainState) -> list[int]:
        """The lanes with due messages, and this process's share of the paced ones: as
        many as there are, over the sending processes alive (heartbeats)."""
        async with self.db.session() as session:
            lanes = await outbox.due_lanes(session, self.clock.now())
        state.channels.update((lane, channel) for lane, channel, _ in lanes)
        paced = self._paced()
        # Lanes whose due rows are all claimed count too: they still send (counting only
        # claimable ones shrank shares near a fan-out's end: needless handovers).
        due_paced = sum(1 for _, channel, _ in lanes if channel in paced)
        if paced:  # idle or not, this process counts in everyone's fair share
            await self.leases.heartbeat()
        state.share = min(self.concurrency, self.leases.share(due_paced))
        return [lane for lane, _, claimable in lanes if claimable]

    async def _rescan(self, state: DrainState) -> list[int]:
        """The due lanes again, while lanes send. A database error here (a dropped
        connection) is logged, not raised: failing the drain would cancel every lane
        mid-claim, and their claims would wait out their lease before anyone sent them."""
        try:
            return await self._due_lanes(state)
        except Exception as error:
            log.warning("outbox: could not look for newly due lanes: %s", error)
            return []

    async def _lane(self, lane: int, state: DrainState) -> bool:
        """Send one lane's due messages: the fresh ones in order, a small claim at a
        time, and beside them the ones being retried (an uncertain post is checked
        while fresh posts go on, not after them). A paced lane needs its lease, taken
        while this process holds fewer than its share. True when the lane gave way
        to lanes waiting for a slot with messages of its own still due."""
        lease: Lease | None = None
        if state.channels[lane] in self._paced():
            if self._beyond_share(lane, state):
                return False
            self._taking.add(lane)  # counted in our share while the database answers
            try:
                lease = await self.leases.take(lane)
            finally:
                self._taking.discard(lane)
            if lease is None:
                return False  # another process sends this lane
            if lease.others_stopped is not None:  # theirs moments ago: one slot apart
                settle = getattr(self.messengers.get(state.channels[lane]), "handover_seconds", 0)
                await asyncio.sleep(max(0.0, settle - lease.others_stopped))
        fence = FENCE.set((lambda: self.leases.may_send(lease)) if lease else None)
        retried = Retried()
        main = asyncio.create_task(self._stream(lane, state, lease, False, retried=retried))
        checks = asyncio.create_task(
            self._stream(lane, state, lease, True, retried=retried, beside=main)
        )
        try:
            gave_way = await main
            retried.end()
            await checks
            return gave_way
        finally:
            for task in (main, checks):
                task.cancel()
            await asyncio.gather(main, checks, return_exceptions=True)
            FENCE.reset(fence)
            if lease is not None:
                await self.leases.release(lease)

    async def _stream(
        self,
        lane: int,
        state: DrainState,
        lease: Lease | None,
        retries: bool,
        retried: Retried | None = None,
        beside: asyncio.Task[bool] | None = None,
    ) -> bool:
        """One of a lane's two streams: fresh rows (`retries` False) or rows tried
        before. The retry stream runs `beside` the fresh one, looking again for rows
        come due until that ends, then until its own rows are done."""
        pace = Pace(retried=retried)
        size = RETRY_BATCH if retries else state.batch
        while not state.stopping:
            if lease is not None and (
                not await self.leases.keep(lease) or self._over_share(state, lease)
            ):
                return False  # the lease ran out, or another process takes the lane
            if (pause := pace.held_until - time.monotonic()) > 0:
                await asyncio.sleep(pause)  # holding no claims
                continue
            now = self.clock.now()
            fence = (self.leases.node, lease.token) if lease and self.leases.shared else None
            async with self.db.session() as session:
                claimed = await outbox.claim_due(
                    session, now, size, LEASE, lane, retries=retries, fence=fence
                )
            pace.stopped = False
            if not await self._send_claimed(claimed, now, state, lease, pace):
                break  # our lane lease is gone
            if pace.stopped:
                continue  # the rest of the claim was handed back: claim again
            if len(claimed) < size:
                if beside is not None and not beside.done() and retried is not None:
                    await retried.until_due()  # retries come due meanwhile
                    continue
                return False  # the lane is empty
            if state.waiting and not retries:
                return True
        return False

    async def _send_claimed(
        self,
        claimed: list[OutboxMessage],
        now: datetime,
        state: DrainState,
        lease: Lease | None,
        pace: Pace,
    ) -> bool:
        """Send a claim, PIPELINE messages under way at once (each person's in order):
        one's database work overlaps the next one's wait for its slot. What is not sent
        (stopping, the claim's lease nearly out, our lane lease gone) is handed back.
        False when the stream must stop."""
        deadline = time.monotonic() + LEASE.total_seconds() - LEASE_MARGIN
        slots = asyncio.Semaphore(PIPELINE)
        last_of: dict[int, asyncio.Task[None]] = {}
        tasks: list[asyncio.Task[None]] = []
        unsent: list[int] = []
        async with self.db.session() as session:  # one query a claim, not one a row
            addresses = await directory.active_addresses(session, [r.person_id for r in claimed])

        async def send(row: OutboxMessage, before: asyncio.Task[None] | None) -> None:
            try:
                if before is not None:
                    await asyncio.gather(before, return_exceptions=True)
                if lease is not None and not self.leases.may_send(lease):
                    pace.fenced = True  # the lease ran out while this waited its turn
                if pace.stopped or pace.fenced or time.monotonic() > deadline:
                    pace.stopped = True
                    unsent.append(row.id or 0)
                    return
                counted = state.result.retried
                try:
                    retry_after = await self.delivery.send(
                        row, state.result, addresses.get(row.person_id)
                    )
                except Fenced:
                    pace.stopped = pace.fenced = True
                    unsent.append(row.id or 0)
                    return
                except BaseException:
                    pace.stopped = True  # the rest of the claim is handed back
                    raise
                if pace.retried is not None and state.result.retried > counted:
                    pace.retried.mark()
                if retry_after is not None:
                    pace.held_until = max(pace.held_until, time.monotonic() + retry_after)
            finally:
                slots.release()

        try:
            for n, row in enumerate(claimed):
                await slots.acquire()
                if (wait := pace.held_until - time.monotonic()) > 0 and not pace.stopped:
                    await asyncio.sleep(wait)  # a rate limit: the channel's own pace
                stop = pace.stopped or state.stopping or time.monotonic() > deadline
                if lease is not None and not stop and not await self.leases.keep(lease):
                    stop = pace.fenced = True
                if stop:
                    slots.release()
                    pace.stopped = True
                    unsent.extend(r.id for r in claimed[n:] if r.id is not None)
                    break
                task = asyncio.create_task(send(row, last_of.get(row.person_id)))
                last_of[row.person_id] = task
                tasks.append(task)
        finally:
            results = await asyncio.gather(*tasks, return_exceptions=True)
            if unsent:
                async with self.db.session() as session:
                    await outbox.release(session, unsent, now + LEASE)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return not pace.fenced

    def _beyond_share(self, lane: int, state: DrainState) -> bool:
        """A paced lane we neither hold nor are taking while our share is full (lanes
        being taken count: dozens of lanes start at once, each awaiting its take).
        Such a lane is deferred until one of ours ends."""
        mine = self.leases.held.keys() | self._taking
        paced = state.channels[lane] in self._paced()
        if beyond := paced and lane not in mine and len(mine) >= state.share:
            state.deferred.add(lane)
        return beyond

    def _over_share(self, state: DrainState, lease: Lease) -> bool:
        """More lanes held than our share (a process joined): hand this one over."""
        return self.leases.shared and len(self.leases.held) > state.share
