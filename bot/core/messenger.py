"""The Messenger port: how the sender hands a message to a channel."""

from __future__ import annotations

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


class PermanentDeliveryError(Exception):
    """This address will not work again (user deactivated, bot removed, uninstalled)."""


class Messenger(Protocol):
    """`paced`: the channel limits posts per workspace and paces them in this process,
    so only the scheduler leader sends its lanes (see scheduler/runtime/sender.py);
    an unpaced channel's lanes go out from every process."""

    channel: str
    paced: bool

    async def deliver(
        self, person_id: int, address: dict[str, Any], message: Message
    ) -> Delivery: ...
