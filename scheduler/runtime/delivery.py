"""One outbox message handed to its channel, and the outcome recorded: sent, retried
later (a rate limit: the channel's pace, not a failure), or failed for good (an
address the platform refused is switched off)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta

from bot.core.messages import Message
from bot.core.messenger import Fenced, Messenger, PermanentDeliveryError, TemporaryDeliveryError
from bot.core.metrics import OUTBOX
from scheduler.calendar.clock import Clock
from scheduler.runtime import drain as said
from scheduler.runtime.drain import DrainResult
from storage.core import directory, outbox
from storage.core.db import Database
from storage.core.models import ChatAddress, OutboxMessage, OutboxStatus

log = logging.getLogger("scheduler.runtime.sender")

MAX_ATTEMPTS = 8


def backoff(attempt: int) -> timedelta:
    """A failed message's wait before its next try: 5 s, 10 s, 20 s … capped at 30 minutes."""
    return timedelta(seconds=min(5 * 2**attempt, 1800))


class Delivery:
    def __init__(self, db: Database, clock: Clock, messengers: Mapping[str, Messenger]) -> None:
        self.db = db
        self.clock = clock
        self.messengers = messengers

    async def send(
        self, row: OutboxMessage, result: DrainResult, address: ChatAddress | None
    ) -> float | None:
        """Deliver one message to `address` (read with the claim) and record the outcome;
        the seconds the channel asked us to wait before the next, if it did."""
        assert row.id is not None
        if address is None or address.channel not in self.messengers:
            reason = "no active chat address" if address is None else f"{address.channel} is off"
            await self._final(row.id, OutboxStatus.FAILED, reason, "-", result)
            return None
        messenger = self.messengers[address.channel]
        message = Message.model_validate(row.payload)
        try:
            delivery = await messenger.deliver(row.person_id, dict(address.address), message)
        except Fenced:
            raise  # nothing was sent: the lane hands the row back to its next holder
        except PermanentDeliveryError as error:
            async with self.db.session() as session:
                await directory.deactivate_address(
                    session, row.person_id, address.channel, str(error)
                )
                await outbox.mark_final(session, row.id, OutboxStatus.FAILED, str(error))
            OUTBOX.labels(address.channel, "failed").inc()
            result.failed += 1
            said.channel_error(row.id, address.channel, error, final=True)
            return None
        except TemporaryDeliveryError as error:
            # Rate limited: the channel is fine and the message too; waiting is the cure,
            # and the row's expiry (if any) still bounds how long it may wait.
            if not error.rate_limited and row.attempts + 1 >= MAX_ATTEMPTS:
                await self._final(
                    row.id, OutboxStatus.FAILED, f"gave up: {error}", address.channel, result
                )
                return None
            delay = (
                timedelta(seconds=error.retry_after)
                if error.retry_after is not None
                else backoff(row.attempts)
            )
            async with self.db.session() as session:
                await outbox.mark_retry(
                    session,
                    row.id,
                    str(error),
                    self.clock.now() + delay,
                    count_attempt=not error.rate_limited,
                )
            OUTBOX.labels(address.channel, "retried").inc()
            result.retried += 1
            if not error.rate_limited:  # a limit is the channel's pace, not an error
                said.channel_error(row.id, address.channel, error, final=False)
            # Only a rate limit holds the lane; any other wait is this message's own.
            return error.retry_after if error.rate_limited else None
        async with self.db.session() as session:
            await outbox.mark_sent(
                session, row.id, address.channel, delivery.external_ref, self.clock.now()
            )
        OUTBOX.labels(address.channel, "sent").inc()
        result.sent += 1
        return None

    async def _final(
        self, message_id: int, status: str, reason: str, channel: str, result: DrainResult
    ) -> None:
        async with self.db.session() as session:
            await outbox.mark_final(session, message_id, status, reason)
        OUTBOX.labels(channel, "failed").inc()
        result.failed += 1
        log.warning("outbox %s: %s", message_id, reason)
