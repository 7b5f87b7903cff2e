"""Per-workspace, per-method pacing: calls are spread evenly at a set rate, and a 429's
Retry-After holds back every later call of that method in that workspace. A method can
also be spaced per channel (chat.postMessage: about one a second in any one channel)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

# Per-channel spacing is remembered for this many channels per method, the oldest
# forgotten first: a fan-out to 10,000 people needs no 10,000 entries kept for ever.
CHANNELS_KEPT = 4096


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
        while True:
            lock = self._locks.setdefault(key, asyncio.Lock())
            async with lock:
                now = time.monotonic()
                start = max(now, self._held.get(key, 0.0))
                if spacing:
                    start = max(start, self._channels.pop(spot, 0.0))
                if rate:
                    start = max(start, self._next.get(key, 0.0))
                    self._next[key] = start + 60.0 / rate  # the slot is ours
                if spacing:
                    self._channels[spot] = start + spacing  # newest last
                    if len(self._channels) > CHANNELS_KEPT:
                        del self._channels[next(iter(self._channels))]
            if start > now:
                await asyncio.sleep(start - now)
            # A 429 that arrived while we slept moves us behind its Retry-After.
            if self._held.get(key, 0.0) <= time.monotonic():
                return

    def hold(self, team: str, method: str, seconds: float) -> None:
        """Slack said Retry-After: nothing of this method in this workspace until then."""
        key = (team, method)
        until = time.monotonic() + max(0.0, seconds)
        self._held[key] = max(self._held.get(key, 0.0), until)
        self._next[key] = max(self._next.get(key, 0.0), until)
