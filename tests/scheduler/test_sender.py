"""The outbox sender's retry policy with a scripted channel: temporary failures back
off (or wait as told), permanent ones deactivate the address, nothing is dropped."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import select

from bot.core.messages import Message, notice
from bot.core.messenger import Delivery, PermanentDeliveryError, TemporaryDeliveryError
from scheduler.runtime.sender import MAX_ATTEMPTS, Sender, backoff
from storage.core import outbox
from storage.core.db import Database
from storage.core.models import ChatAddress, OutboxMessage
from tests.support.clock import FakeClock
from tests.support.people import local_person


class ScriptedChannel:
    channel = "local"
    paced = False

    def __init__(self, *outcomes: Exception | None) -> None:
        self.outcomes = list(outcomes)
        self.delivered: list[str] = []

    async def deliver(self, person_id: int, address: dict[str, Any], message: Message) -> Delivery:
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if outcome is not None:
            raise outcome
        self.delivered.append(message.ref)
        return Delivery(external_ref={"n": len(self.delivered)})


async def _one_message(db: Database, clock: FakeClock) -> None:
    async with db.session() as session:
        person = await local_person(session)
        session.add(ChatAddress(person_id=person.id or 0, channel="local", address={}))
        await outbox.enqueue(
            session,
            dedupe_key="m",
            person_id=person.id or 0,
            kind="test",
            ref="m",
            payload=notice("m", "hi").model_dump(mode="json"),
            not_before=clock.now(),
        )


async def _row(db: Database) -> OutboxMessage:
    async with db.session() as session:
        return (await session.exec(select(OutboxMessage))).one()


async def test_temporary_failures_back_off_then_deliver_once(
    db: Database, clock: FakeClock
) -> None:
    await _one_message(db, clock)
    channel = ScriptedChannel(
        TemporaryDeliveryError("502"), TemporaryDeliveryError("429", retry_after=30)
    )
    sender = Sender(db, clock, {"local": channel})
    assert (await sender.drain()).retried == 1
    row = await _row(db)
    assert row.not_before == clock.now() + backoff(0) and row.last_error == "502"
    assert (await sender.drain()).sent == 0  # not before the backoff
    clock.advance(backoff(0))
    assert (await sender.drain()).retried == 1
    assert (await _row(db)).not_before == clock.now() + timedelta(seconds=30)  # Retry-After
    clock.advance(timedelta(seconds=30))
    assert (await sender.drain()).sent == 1
    assert channel.delivered == ["m"]
    row = await _row(db)
    # The 502 and the delivery count; being rate limited is no failed attempt.
    assert (row.status, row.attempts, row.external_ref) == ("sent", 2, {"n": 1})


async def test_permanent_failure_deactivates_the_address_and_keeps_the_record(
    db: Database, clock: FakeClock
) -> None:
    await _one_message(db, clock)
    sender = Sender(
        db, clock, {"local": ScriptedChannel(PermanentDeliveryError("account_inactive"))}
    )
    assert (await sender.drain()).failed == 1
    row = await _row(db)
    assert (row.status, row.last_error) == ("failed", "account_inactive")
    async with db.session() as session:
        address = (await session.exec(select(ChatAddress))).one()
    assert (address.active, address.inactive_reason) == (False, "account_inactive")


async def test_gives_up_after_max_attempts_and_says_so(db: Database, clock: FakeClock) -> None:
    await _one_message(db, clock)
    failures = [TemporaryDeliveryError("timeout") for _ in range(MAX_ATTEMPTS)]
    sender = Sender(db, clock, {"local": ScriptedChannel(*failures)})
    for _ in range(MAX_ATTEMPTS):
        await sender.drain()
        clock.advance(timedelta(hours=1))
    row = await _row(db)
    assert row.status == "failed" and row.last_error == "gave up: timeout"


async def test_rate_limits_never_use_up_the_attempts(db: Database, clock: FakeClock) -> None:
    await _one_message(db, clock)
    limited = [TemporaryDeliveryError("429", retry_after=5) for _ in range(MAX_ATTEMPTS + 2)]
    channel = ScriptedChannel(TemporaryDeliveryError("502"), *limited)
    sender = Sender(db, clock, {"local": channel})
    for _ in range(len(channel.outcomes) + 1):
        await sender.drain()
        clock.advance(timedelta(minutes=1))
    row = await _row(db)
    assert channel.delivered == ["m"] and channel.outcomes == []
    assert (row.status, row.attempts) == ("sent", 2)  # the 502 and the delivery
