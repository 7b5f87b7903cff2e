"""Work after the ack: Slack wants an answer within 3 seconds, so listeners acknowledge
at once and hand the slow part (database, Slack API calls) to a task here.

Why not bolt's `process_before_response=False`? In that mode bolt starts the listener
as a task and polls every 10 ms until it has acked, which puts 10 ms or more on every
ack and leaves the tasks unowned. In a long-lived aiohttp server the better shape is
`process_before_response=True` with listeners that ack first and spawn here: the ack
returns as soon as the listener does, concurrency is bounded, failures are logged,
and shutdown (and tests) can wait for the work to finish. A task waiting for a Slack
method's turn lends its slot back meanwhile, and gives up on a turn more than
`patience` away (pacing.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Coroutine
from typing import Any

from bot.core.metrics import AFTER_ACK, SLACK_BOOKED
from bot.slack.pacing import HELD_SLOT, PATIENCE, Booked, Slot

log = logging.getLogger(__name__)

# A person waits this long at most for a reply held back by Slack's limits; later, it
# is not sent (pacing.py, Booked): their next click or message gets a fresh answer.
PATIENCE_SECONDS = 30.0
# At most one log line a minute per method about calls not made.
BOOKED_LOG_SECONDS = 60.0


class AfterAck:
    # Work under way at once. Most of it is clicks waiting for the answer desk's next
    # commit (no database connection each): more of them make bigger, cheaper group
    # commits; many more make longer bursts of work that delay the next acks.
    def __init__(self, concurrency: int = 64, patience: float = PATIENCE_SECONDS) -> None:
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self.patience = patience
        self._booked_logged: dict[str, float] = {}

    def spawn(
        self,
        work: Coroutine[Any, Any, Any],
        name: str,
        bounded: bool = True,
        patient: bool = False,
    ) -> None:
        """Run `work` after the ack. Unbounded work takes no slot: it must mostly wait
        (on a pacer, say) and take `slot` itself for any burst of work it does.
        `patient`: nobody waits on it (a roster sync): its calls wait as long as the
        pace says, never Booked."""
        task = asyncio.create_task(self._run(work, name, bounded, patient), name=name)
        self._tasks.add(task)
        AFTER_ACK.inc()
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        AFTER_ACK.dec()

    @property
    def slot(self) -> asyncio.Semaphore:
        return self._slots

    async def _run(
        self, work: Coroutine[Any, Any, Any], name: str, bounded: bool, patient: bool
    ) -> None:
        # This task's own context (create_task copied it): the settings stay here.
        PATIENCE.set(None if patient else self.patience)
        slot = Slot(self._slots)
        try:
            if bounded:
                await slot.take()
                HELD_SLOT.set(slot)  # lent back while a Slack call waits its turn
            await work
        except Booked as booked:
            self.booked(booked)
        except Exception:
            log.exception("slack: %s failed after the ack", name)
        finally:
            slot.give()

    def booked(self, booked: Booked) -> None:
        """Count (and now and then log) a call not made: its turn was too far away."""
        SLACK_BOOKED.labels(booked.method).inc()
        now = time.monotonic()
        if now - self._booked_logged.get(booked.method, -BOOKED_LOG_SECONDS) >= BOOKED_LOG_SECONDS:
            self._booked_logged[booked.method] = now
            log.warning(
                "slack: %s; replies beyond %.0f s are not sent "
                "(pulsecoach_slack_calls_not_made_total counts them)",
                booked,
                self.patience,
            )

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def drain(self, seconds: float = 10.0) -> None:
        """Wait for the work under way (and work it starts) to finish."""
        deadline = asyncio.get_running_loop().time() + seconds
        while self._tasks:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                log.warning("slack: %d tasks still running at shutdown", len(self._tasks))
                return
            await asyncio.wait(set(self._tasks), timeout=left)
