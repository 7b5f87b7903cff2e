"""The outbox sender: claims due messages and hands them to their channel."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from bot.messages import Message
from bot.messenger import Messenger, PermanentDeliveryError, TemporaryDeliveryError
from bot.metrics import OUTBOX
from scheduler.clock import Clock
from storage import directory, outbox
from storage.db import Database
from storage.models import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
# A crashed sender's claimed rows return after the lease: keep batches small enough to
# send well within it, so a restart resumes within seconds, not minutes.
LEASE = timedelta(seconds=30)


@dataclass
class DrainResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    expired: int = 0


def backoff(attempt: int) -> timedelta:
    """Exponential backoff: 5 s, 10 s, 20 s … capped at 30 minutes."""
    return timedelta(seconds=min(5 * 2**attempt, 1800))


class Sender:
    def __init__(self, db: Database, clock: Clock, messengers: Mapping[str, Messenger]) -> None:
        self.db = db
        self.clock = clock
        self.messengers = messengers

    async def drain(self, batch: int = 25) -> DrainResult:
        """Send everything due now, one batch at a time, until nothing is due."""
        result = DrainResult()
        async with self.db.session() as session:
            result.expired = await outbox.expire_due(session, self.clock.now())
        while True:
            async with self.db.session() as session:
                claimed = await outbox.claim_due(session, self.clock.now(), batch, LEASE)
            for row in claimed:
                await self._send_one(row, result)
            if len(claimed) < batch:
                return result

    async def _send_one(self, row: OutboxMessage, result: DrainResult) -> None:
        assert row.id is not None
        async with self.db.session() as session:
            address = await directory.active_address(session, row.person_id)
        if address is None or address.channel not in self.messengers:
            reason = "no active chat address" if address is None else f"{address.channel} is off"
            await self._final(row.id, OutboxStatus.FAILED, reason, "-", result)
            return
        messenger = self.messengers[address.channel]
        message = Message.model_validate(row.payload)
        try:
            delivery = await messenger.deliver(row.person_id, dict(address.address), message)
        except PermanentDeliveryError as error:
            async with self.db.session() as session:
                await directory.deactivate_address(
                    session, row.person_id, address.channel, str(error)
                )
                await outbox.mark_final(session, row.id, OutboxStatus.FAILED, str(error))
            OUTBOX.labels(address.channel, "failed").inc()
            result.failed += 1
            log.warning("outbox %s: permanent failure on %s: %s", row.id, address.channel, error)
            return
        except TemporaryDeliveryError as error:
            if row.attempts + 1 >= MAX_ATTEMPTS:
                await self._final(
                    row.id, OutboxStatus.FAILED, f"gave up: {error}", address.channel, result
                )
                return
            delay = (
                timedelta(seconds=error.retry_after)
                if error.retry_after is not None
                else backoff(row.attempts)
            )
            async with self.db.session() as session:
                await outbox.mark_retry(session, row.id, str(error), self.clock.now() + delay)
            OUTBOX.labels(address.channel, "retried").inc()
            result.retried += 1
            return
        async with self.db.session() as session:
            await outbox.mark_sent(
                session, row.id, address.channel, delivery.external_ref, self.clock.now()
            )
        OUTBOX.labels(address.channel, "sent").inc()
        result.sent += 1

    async def _final(
        self, message_id: int, status: str, reason: str, channel: str, result: DrainResult
    ) -> None:
        async with self.db.session() as session:
            await outbox.mark_final(session, message_id, status, reason)
        OUTBOX.labels(channel, "failed").inc()
        result.failed += 1
        log.warning("outbox %s: %s", message_id, reason)
