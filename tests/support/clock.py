"""A clock that only moves when a test tells it to (production uses SystemClock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class FakeClock:
    """A clock that only moves when a test tells it to."""

    def __init__(self, start: datetime) -> None:
        self._now = _aware_utc(start, "start")

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by `delta` (never backwards: use `set` for that) and return the new now."""
        if delta < timedelta(0):
            raise ValueError(f"advance needs a non-negative delta (got {delta}); use set() instead")
        self._now += delta
        return self._now

    def set(self, when: datetime) -> datetime:
        """Jump to `when` (any aware datetime; stored as UTC) and return it."""
        self._now = _aware_utc(when, "when")
        return self._now


def _aware_utc(value: datetime, name: str) -> datetime:
    # A naive datetime is ambiguous (whose local time?), so it is refused rather than guessed.
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime (got {value!r})")
    return value.astimezone(UTC)
