"""Teams' limits, kept in this process: per bot and conversation 7 sends a second, 60
in 30 seconds and 1,800 an hour; per app and tenant about 30-50 requests a second
(we keep to the setting, 30 by default). A 429's Retry-After holds back its key.

Sends wait for a slot in sliding windows; a slot is reserved before the wait, so
concurrent senders queue in order instead of all rushing at the same moment."""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Sequence

Windows = tuple[tuple[float, int], ...]  # (seconds, sends allowed in them)

CONVERSATION: Windows = ((1.0, 7), (30.0, 60), (3600.0, 1800))


def tenant_windows(per_second: float) -> Windows:
    return ((1.0, max(1, int(per_second))),)


def jittered(attempt: int, base: float = 1.0, cap: float = 30.0) -> float:
    """Exponential backoff with full jitter: anywhere in [base, base * 2^attempt] (at
    most `cap`), so messages that failed together do not come back together."""
    return random.uniform(min(base, cap), min(cap, base * 2 ** max(1, attempt)))


def after(seconds: float, spread: float = 0.1) -> float:
    """A Retry-After honoured, never shortened, with up to `spread` of it added: the
    messages one 429 held do not all return in the same instant."""
    return seconds * random.uniform(1.0, 1.0 + spread)


class Pacer:
    def __init__(self, tenant_per_second: float) -> None:
        self.tenant = tenant_windows(tenant_per_second)
        self._sent: dict[str, deque[float]] = {}
        self._held: dict[str, float] = {}

    def _start(self, key: str, windows: Windows, now: float) -> float:
        sent = self._sent.setdefault(key, deque())
        longest = max(seconds for seconds, _ in windows)
        while sent and sent[0] <= now - longest:
            sent.popleft()
        start = max(now, self._held.get(key, 0.0), sent[-1] if sent else 0.0)
        for seconds, allowed in windows:
            if len(sent) >= allowed:
                start = max(start, sent[-allowed] + seconds)
        return start

    async def wait(self, keys: Sequence[tuple[str, Windows]]) -> None:
        """Return when a send under all these keys may go; its slot is taken."""
        while True:
            now = time.monotonic()
            start = max(self._start(key, windows, now) for key, windows in keys)
            for key, _ in keys:
                self._sent[key].append(start)
            if start > now:
                await asyncio.sleep(start - now)
            # A 429 that arrived while we slept moves us behind its Retry-After.
            if all(self._held.get(key, 0.0) <= time.monotonic() for key, _ in keys):
                return
            for key, _ in keys:  # give the slot back and queue again
                self._sent[key].remove(start)

    async def send_slot(self, tenant: str, conversation: str) -> None:
        await self.wait([(f"t:{tenant}", self.tenant), (f"c:{conversation}", CONVERSATION)])

    def hold(self, tenant: str, conversation: str, seconds: float) -> None:
        """Teams said 429: nothing to this conversation until then, and the tenant
        waits too (a 429 may be the tenant's limit as well as the conversation's)."""
        until = time.monotonic() + max(0.0, seconds)
        for key in (f"c:{conversation}", f"t:{tenant}"):
            self._held[key] = max(self._held.get(key, 0.0), until)
