"""Per-workspace, per-method pacing: calls are spread evenly at a set rate, and a 429's
Retry-After holds back every later call of that method in that workspace. A method can
also be spaced per channel (chat.postMessage: about one a second in any one channel).

Work done after an ack (background.py) waits differently: it hands its after-ack slot
back while it waits for its turn (held, DMs and Home tabs waiting on Slack's limits
took every slot and stalled every click), and a call whose turn is more than its
patience away is not made (`Booked`): when people ask more than Slack's limits allow,
an answer minutes late helps nobody, and the queue of them would grow without end."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar

# Per-channel spacing is remembered for this many channels per method, the oldest
# forgotten first: a fan-out to 10,000 people needs no 10,000 entries kept for ever.
CHANNELS_KEPT = 4096


class Slot:
    """A slot of a bounded pool that its holder can lend back while it waits."""

    def __init__(self, pool: asyncio.Semaphore) -> None:
        self.pool = pool
        self.held = False

    async def take(self) -> None:
        await self.pool.acquire()
        self.held = True

    def give(self) -> None:
        if self.held:  # not when a cancelled take() left it unheld
            self.held = False
            self.pool.release()

    @asynccontextmanager
    async def lent(self) -> AsyncIterator[None]:
        self.give()
        try:
            yield
        finally:
            await self.take()


# Set for after-ack work (background.py): the slot it holds, and how late its calls
# may go at most (None: as late as the pace says, as the outbox sender's posts).
HELD_SLOT: ContextVar[Slot | None] = ContextVar("pacing_held_slot", default=None)
PATIENCE: ContextVar[float | None] = ContextVar("pacing_patience", default=None)


class Booked(Exception):
    """The call's turn is further away than the caller's patience: not made."""

    def __init__(self, team: str, method: str, seconds: float) -> None:
        super().__init__(f"slack {method} in {team}: booked {seconds:.0f} s ahead")
        self.method = method
        self.seconds = seconds


class Pacer:
    def __init__(
        self, per_minute: Mapping[str, float], per_channel: Mapping[str, float] | None = None
    ) -> None:
        self.per_minute = dict(per_minute)
        self.per_channel = dict(per_channel or {})  # method -> seconds between calls
        self._next: dict[tuple[str, str], float] = {}
        self._held: dict[tuple[str, str], float] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._channels: dict[tuple[str, str, str], float] = {}  # -> next allowed call

    async def wait(self, team: str, method: str, channel: str | None = None) -> None:
        """Return when this call may go: at its slot, and after any hold (and, with a
        channel, at least `per_channel` seconds after the last call to it)."""
        key = (team, method)
        rate = self.per_minute.get(method)
        spacing = self.per_channel.get(method) if channel else None
        spot = (team, method, channel or "")
        patience = PATIENCE.get()
        while True:
            lock = self._locks.setdefault(key, asyncio.Lock())
            async with lock:
                now = time.monotonic()
                start = max(now, self._held.get(key, 0.0))
                if spacing:
                    start = max(start, self._channels.get(spot, 0.0))
                if rate:
                    start = max(start, self._next.get(key, 0.0))
                if patience is not None and start - now > patience:
                    raise Booked(team, method, start - now)  # nothing booked
                if rate:
                    self._next[key] = start + 60.0 / rate  # the slot is ours
                if spacing:
                    self._channels.pop(spot, None)
                    self._channels[spot] = start + spacing  # newest last
                    if len(self._channels) > CHANNELS_KEPT:
                        del self._channels[next(iter(self._channels))]
            if start > now:
                await self._sleep(start - now)
            # A 429 that arrived while we slept moves us behind its Retry-After.
            if self._held.get(key, 0.0) <= time.monotonic():
                return

    @staticmethod
    async def _sleep(seconds: float) -> None:
        """Wait for a turn, lending any after-ack slot held meanwhile."""
        slot = HELD_SLOT.get()
        if slot is None or not slot.held:
            await asyncio.sleep(seconds)
            return
        async with slot.lent():
            await asyncio.sleep(seconds)

    def hold(self, team: str, method: str, seconds: float) -> None:
        """Slack said Retry-After: nothing of this method in this workspace until then."""
        key = (team, method)
        until = time.monotonic() + max(0.0, seconds)
        self._held[key] = max(self._held.get(key, 0.0), until)
        self._next[key] = max(self._next.get(key, 0.0), until)
