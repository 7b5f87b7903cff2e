"""What one outbox drain shares between its lanes and their two streams (fresh and
retried): the tally, each stream's pace, and when the retry stream looks again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from dataclasses import dataclass, field

log = logging.getLogger("scheduler.runtime.sender")

# While the fresh stream sends, how often the retry stream looks for rows come due.
RETRY_POLL = 0.5
# ... while a retry was recent (its first is due a second or so after its failure) ...
RETRY_ACTIVE = 5.0
# ... and otherwise (retries due from an earlier drain) at least this often.
RETRY_IDLE = 5.0


@dataclass
class DrainResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    expired: int = 0


@dataclass
class Pace:
    """A stream's shared pacing state: the channel asked us to wait (Retry-After)
    until `held_until`; `stopped`: send nothing more of this claim; `fenced`: nor of
    this lane (our lease is gone)."""

    held_until: float = 0.0
    stopped: bool = False
    fenced: bool = False
    retried: Retried | None = None


class Retried:
    """A lane's fresh stream tells its retry stream that a message will be retried:
    the retry stream looks often while that is recent, else seldom (a look is a claim
    query; fifty idle lanes looking twice a second keep a database busy)."""

    def __init__(self) -> None:
        self.last = -math.inf
        self.event = asyncio.Event()
        self.ended = asyncio.Event()

    def mark(self) -> None:
        self.last = time.monotonic()
        self.event.set()

    def end(self) -> None:
        """The fresh stream ended: the retry stream stops waiting at once (a lane that
        gives way must not keep its slot through an idle look's five seconds)."""
        self.ended.set()
        self.event.set()

    async def until_due(self) -> None:
        if self.ended.is_set():
            return
        if time.monotonic() - self.last < RETRY_ACTIVE:
            wait, woken_by = RETRY_POLL, self.ended  # a retry's due time, not its mark
        else:
            self.event.clear()
            wait, woken_by = RETRY_IDLE, self.event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(woken_by.wait(), wait)


@dataclass
class DrainState:
    """One drain's shared state: the lanes waiting for a slot, each lane's channel, how
    many paced lanes this process should hold (its fair share), and whether to stop."""

    batch: int
    result: DrainResult = field(default_factory=DrainResult)
    waiting: deque[int] = field(default_factory=deque)
    channels: dict[int, str] = field(default_factory=dict)
    share: int = 1
    deferred: set[int] = field(default_factory=set)  # beyond our share for now
    stopping: bool = False


def log_started(state: DrainState) -> float:
    """A line when a drain finds lanes due (a fan-out begins, or a retry comes due);
    nothing for the idle drains every second. When it started (monotonic)."""
    if state.waiting:
        log.info(
            "outbox drain started: %d lanes due",
            len(state.waiting),
            extra={"event": "fanout.started", "lanes": len(state.waiting)},
        )
    return time.monotonic()


def log_finished(state: DrainState, started: float) -> None:
    """The drain's counts, when it did anything."""
    result = state.result
    if not (result.sent or result.retried or result.failed or result.expired):
        return
    seconds = round(time.monotonic() - started, 3)
    log.info(
        "outbox drain finished: %d sent, %d to retry, %d failed, %d expired in %.1f s",
        result.sent,
        result.retried,
        result.failed,
        result.expired,
        seconds,
        extra={"event": "fanout.finished", "seconds": seconds, **vars(result)},
    )


def channel_error(message_id: int, channel: str, error: Exception, final: bool) -> None:
    """A channel refused or failed a message: retried later, or given up (`final`)."""
    what = "permanent failure" if final else "will retry"
    log.warning(
        "outbox %s: %s on %s: %s",
        message_id,
        what,
        channel,
        error,
        extra={"event": "channel.error", "channel": channel, "final": final},
    )
