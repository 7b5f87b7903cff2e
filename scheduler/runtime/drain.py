"""What one outbox drain shares between its lanes and their two streams (fresh and
retried): the tally, each stream's pace, and when the retry stream looks again."""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from dataclasses import dataclass, field

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

    def mark(self) -> None:
        self.last = time.monotonic()
        self.event.set()

    async def until_due(self) -> None:
        if time.monotonic() - self.last < RETRY_ACTIVE:
            await asyncio.sleep(RETRY_POLL)
            return
        self.event.clear()
        try:
            await asyncio.wait_for(self.event.wait(), RETRY_IDLE)
        except TimeoutError:
            pass


@dataclass
class DrainState:
    """One drain's shared state: the lanes waiting for a slot, each lane's channel, how
    many paced lanes this process should hold (its fair share), and whether to stop."""

    batch: int
    result: DrainResult = field(default_factory=DrainResult)
    waiting: deque[int] = field(default_factory=deque)
    channels: dict[int, str] = field(default_factory=dict)
    share: int = 1
    stopping: bool = False
