"""The Messenger port: how the sender hands a message to a channel."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol

from bot.core.messages import Message


@dataclass(frozen=True)
class Delivery:
    """Where the channel put the message, so it can be updated in place later."""

    external_ref: dict[str, Any]


class TemporaryDeliveryError(Exception):
    """Try again later (rate limit, 5xx, timeout). `retry_after`: the channel asked us
    to wait that long; `rate_limited` (by default, when it did): the channel refused us
    for the pace, not for the message, so the attempt does not count as a failure."""

    def __init__(
        self, reason: str, retry_after: float | None = None, rate_limited: bool | None = None
    ) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        self.rate_limited = retry_after is not None if rate_limited is None else rate_limited


class Fenced(TemporaryDeliveryError):
    """This process no longer holds the sending lane (its lease ran out): nothing was
    sent, and the message goes back for the lane's new holder."""

    def __init__(self) -> None:
        super().__init__("the sending lane's lease ran out", rate_limited=True)


# Set by the outbox sender around a paced lane's deliveries: False once this process
# may no longer send there. A channel asks it last thing before a call to the platform.
FENCE: ContextVar[Callable[[], bool] | None] = ContextVar("fence", default=None)


def check_fence() -> None:
    """Raise Fenced unless this process still holds the lane being sent."""
    fence = FENCE.get()
    if fence is not None and not fence():
        raise Fenced


class PermanentDeliveryError(Exception):
    """This address will not work again (user deactivated, bot removed, uninstalled)."""


class Messenger(Protocol):
    """`paced`: the channel limits posts per workspace and paces them in this process,
    so a workspace's lane goes out from one process at a time, the holder of its lease
    (see scheduler/runtime/leases.py), which asks `check_fence()` before each call; an
    unpaced channel's lanes go out from every process. A paced channel may also say
    `handover_seconds`: how long after another process stopped sending a lane the new
    holder waits before its first call (one slot of the pace, so that the platform's
    window never sees the two processes' posts closer than the pace)."""

    channel: str
    paced: bool

    async def deliver(
        self, person_id: int, address: dict[str, Any], message: Message
    ) -> Delivery: ...
