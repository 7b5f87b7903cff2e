"""The outbox sender: claims due messages and hands them to their channel.

Messages go out in lanes, one per workspace (so per channel, and per Slack team, whose
posts are paced): in order and one at a time within a lane, lanes side by side. A
workspace with a fan-out of thousands queued then holds back only itself.

Every process sends, but a paced channel's lanes (Slack: its pace is per workspace,
and each process's pacer knows only its own posts) go out from the scheduler leader
alone, so N processes never post N times Slack's limit. Other lanes go from any
process. A leader that steps down stops claiming at once and finishes the claim under
way (seconds, at most one batch); a new one takes over on its next drain.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from bot.core.messages import Message
from bot.core.messenger import Messenger, PermanentDeliveryError, TemporaryDeliveryError
from bot.core.metrics import OUTBOX
from scheduler.calendar.clock import Clock
from storage.core import directory, outbox
from storage.core.db import Database
from storage.core.models import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# A crashed sender's claimed rows return after the lease: keep batches small enough to
# send well within it, so a restart resumes within seconds, not minutes.
LEASE = timedelta(seconds=30)
# A lane hands back the rest of its batch once less than this is left of the lease:
# room for the message under way (a slow channel, a timeout) to finish inside it.
LEASE_MARGIN = 10.0
# Lanes sending at once, across all workspaces.
CONCURRENCY = 8
# While a drain runs, how often it looks for lanes with newly due messages.
RESCAN_SECONDS = 1.0


@dataclass
class DrainResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    expired: int = 0


def backoff(attempt: int) -> timedelta:
    """Exponential backoff: 5 s, 10 s, 20 s … capped at 30 minutes."""
    return timedelta(seconds=min(5 * 2**attempt, 1800))


class Leadership(Protocol):
    """Whether this process leads (scheduler.runtime.leader.LeaderLock)."""

    @property
    def held(self) -> bool: ...


@dataclass
class _Drain:
    """One drain's shared state: the lanes waiting for a slot, each lane's channel, and
    whether to stop."""

    batch: int
    result: DrainResult = field(default_factory=DrainResult)
    waiting: deque[int] = field(default_factory=deque)
    channels: dict[int, str] = field(default_factory=dict)
    stopping: bool = False


class Sender:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        messengers: Mapping[str, Messenger],
        concurrency: int = CONCURRENCY,
        rescan_seconds: float = RESCAN_SECONDS,
        leader: Leadership | None = None,
    ) -> None:
        """`leader`: the lock whose holder alone sends paced lanes; None sends all
        lanes (one process: the CLI, tests)."""
        self.db = db
        self.clock = clock
        self.messengers = messengers
        self.concurrency = max(1, concurrency)
        self.rescan_seconds = rescan_seconds
        self.leader = leader

    async def drain(self, batch: int = 25) -> DrainResult:
        """Send everything due now, lane by lane, until nothing is due. While any lane
        is still sending, lanes whose messages came due since join in."""
        state = _Drain(batch)
        async with self.db.session() as session:
            state.result.expired = await outbox.expire_due(session, self.clock.now())
        state.waiting.extend(await self._due_lanes(state))
        running: dict[asyncio.Task[bool], int] = {}
        error: BaseException | None = None
        loop = asyncio.get_running_loop()
        next_scan = loop.time() + self.rescan_seconds
        try:
            while running or (state.waiting and not state.stopping):
                while state.waiting and len(running) < self.concurrency and not state.stopping:
                    lane = state.waiting.popleft()
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
                if loop.time() >= next_scan:
                    next_scan = loop.time() + self.rescan_seconds
                    if running and not state.stopping:
                        busy = set(running.values()) | set(state.waiting)
                        due = await self._due_lanes(state)
                        fresh = [lane for lane in due if lane not in busy]
                        state.waiting.extend(fresh)
        finally:
            for task in running:  # only when the drain itself was cancelled or failed
                task.cancel()
            if running:
                await asyncio.gather(*running, return_exceptions=True)
        if error is not None:
            raise error
        return state.result

    def _leads(self) -> bool:
        return self.leader is None or self.leader.held

    def _paced(self) -> set[str]:
        """The channels whose lanes only the leader sends (Messenger.paced)."""
        return {name for name, m in self.messengers.items() if m.paced}

    def _may_send(self, channel: str) -> bool:
        return self._leads() or channel not in self._paced()

    async def _due_lanes(self, state: _Drain) -> list[int]:
        skip = () if self._leads() else self._paced()
        async with self.db.session() as session:
            lanes = await outbox.due_lanes(session, self.clock.now(), skip)
        state.channels.update(lanes)
        return [lane for lane, _ in lanes]

    async def _lane(self, lane: int, state: _Drain) -> bool:
        """Send one lane's due messages in order, a small claim at a time; each claim is
        sent or handed back within its lease. True when the lane gave way to lanes
        waiting for a slot with messages of its own still due."""
        held_until = 0.0  # the channel asked us to wait (Retry-After) until then
        while not state.stopping:
            if not self._may_send(state.channels[lane]):
                return False  # we stepped down: this paced lane is the new leader's
            if (pause := held_until - time.monotonic()) > 0:
                await asyncio.sleep(pause)  # holding no claims
                continue
            now = self.clock.now()
            async with self.db.session() as session:
                claimed = await outbox.claim_due(session, now, state.batch, LEASE, lane)
            deadline = time.monotonic() + LEASE.total_seconds() - LEASE_MARGIN
            for n, row in enumerate(claimed):
                wait = max(0.0, held_until - time.monotonic())
                if state.stopping or time.monotonic() + wait > deadline:
                    async with self.db.session() as session:
                        rest = [r.id for r in claimed[n:] if r.id is not None]
                        await outbox.release(session, rest, now + LEASE)
                    break
                retry_after = await self._send_one(row, state.result)
                if retry_after is not None:
                    held_until = max(held_until, time.monotonic() + retry_after)
            else:
                if len(claimed) < state.batch:
                    return False  # the lane is empty
                if state.waiting:
                    return True
        return False

    async def _send_one(self, row: OutboxMessage, result: DrainResult) -> float | None:
        """Deliver one message and record the outcome; the seconds the channel asked us
        to wait before the next, if it did."""
        assert row.id is not None
        async with self.db.session() as session:
            address = await directory.active_address(session, row.person_id)
        if address is None or address.channel not in self.messengers:
            reason = "no active chat address" if address is None else f"{address.channel} is off"
            await self._final(row.id, OutboxStatus.FAILED, reason, "-", result)
            return None
        messenger = self.messengers[address.channel]
        message = Message.model_validate(row.payload)
        try:
            delivery = await messenger.deliver(row.person_id, dict(address.address), message)
        except PermanentDeliveryError as error:
            async with self.db.session() as session:
                await directory.deactivate_address(
                    session, row.person_id, address.channel, str(error)
                )
                await outbox.mark_final(session, row.id, OutboxStatus.FAILED, str(error))
            OUTBOX.labels(address.channel, "failed").inc()
            result.failed += 1
            log.warning("outbox %s: permanent failure on %s: %s", row.id, address.channel, error)
            return None
        except TemporaryDeliveryError as error:
            # Rate limited: the channel is fine and the message too; waiting is the cure,
            # and the row's expiry (if any) still bounds how long it may wait.
            if not error.rate_limited and row.attempts + 1 >= MAX_ATTEMPTS:
                await self._final(
                    row.id, OutboxStatus.FAILED, f"gave up: {error}", address.channel, result
                )
                return None
            delay = (
                timedelta(seconds=error.retry_after)
                if error.retry_after is not None
                else backoff(row.attempts)
            )
            async with self.db.session() as session:
                await outbox.mark_retry(
                    session,
                    row.id,
                    str(error),
                    self.clock.now() + delay,
                    count_attempt=not error.rate_limited,
                )
            OUTBOX.labels(address.channel, "retried").inc()
            result.retried += 1
            return error.retry_after
        async with self.db.session() as session:
            await outbox.mark_sent(
                session, row.id, address.channel, delivery.external_ref, self.clock.now()
            )
        OUTBOX.labels(address.channel, "sent").inc()
        result.sent += 1
        return None

    async def _final(
        self, message_id: int, status: str, reason: str, channel: str, result: DrainResult
    ) -> None:
        async with self.db.session() as session:
            await outbox.mark_final(session, message_id, status, reason)
        OUTBOX.labels(channel, "failed").inc()
        result.failed += 1
        log.warning("outbox %s: %s", message_id, reason)
