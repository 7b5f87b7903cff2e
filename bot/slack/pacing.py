"""Per-workspace, per-method pacing: calls are spread evenly at a set rate, and a 429's
Retry-After holds back every later call of that method in that workspace."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping


class Pacer:
    def __init__(self, per_minute: Mapping[str, float]) -> None:
        self.per_minute = dict(per_minute)
        self._next: dict[tuple[str, str], float] = {}
        self._held: dict[tuple[str, str], float] = {}
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    async def wait(self, team: str, method: str) -> None:
        """Return when this call may go: at its slot, and after any hold."""
        key = (team, method)
        rate = self.per_minute.get(method)
        while True:
            lock = self._locks.setdefault(key, asyncio.Lock())
            async with lock:
                now = time.monotonic()
                start = max(now, self._held.get(key, 0.0))
                if rate:
                    start = max(start, self._next.get(key, 0.0))
                    self._next[key] = start + 60.0 / rate  # the slot is ours
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
