"""Work after the ack: Slack wants an answer within 3 seconds, so listeners acknowledge
at once and hand the slow part (database, Slack API calls) to a task here.

Why not bolt's `process_before_response=False`? In that mode bolt starts the listener
as a task and polls every 10 ms until it has acked, which puts 10 ms or more on every
ack and leaves the tasks unowned. In a long-lived aiohttp server the better shape is
`process_before_response=True` with listeners that ack first and spawn here: the ack
returns as soon as the listener does, concurrency is bounded, failures are logged,
and shutdown (and tests) can wait for the work to finish.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


class AfterAck:
    # Work under way at once. Most of it is clicks waiting for the answer desk's next
    # commit (no database connection each): more of them make bigger, cheaper group
    # commits; many more make longer bursts of work that delay the next acks.
    def __init__(self, concurrency: int = 64) -> None:
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, work: Coroutine[Any, Any, Any], name: str, bounded: bool = True) -> None:
        """Run `work` after the ack. Unbounded work takes no slot: it must mostly wait
        (on a pacer, say) and take `slot` itself for any burst of work it does."""
        task = asyncio.create_task(self._run(work, name, bounded), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def slot(self) -> asyncio.Semaphore:
        return self._slots

    async def _run(self, work: Coroutine[Any, Any, Any], name: str, bounded: bool) -> None:
        try:
            if bounded:
                async with self._slots:
                    await work
            else:
                await work
        except Exception:
            log.exception("slack: %s failed after the ack", name)

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
