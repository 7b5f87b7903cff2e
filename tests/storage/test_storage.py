"""Core storage on SQLite and PostgreSQL: schema, UTC timestamps, outbox exactly-once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlmodel import select

from bot.core.messages import notice
from bot.local.channel import LocalMessenger
from scheduler.runtime.sender import Sender
from storage.channels import local_inbox
from storage.core import outbox
from storage.core.db import Database
from storage.core.models import ChatAddress, OutboxMessage, Person, Workspace
from tests.support.clock import FakeClock


async def _person(db: Database, channel: str = "local") -> int:
    async with db.session() as session:
        workspace = Workspace(key="w", name="W", channel=channel, external_id="w")
        session.add(workspace)
        await session.flush()
        person = Person(workspace_id=workspace.id or 0, handle="ana", name="Ana")
        session.add(person)
        await session.flush()
        session.add(
            ChatAddress(person_id=person.id or 0, channel=channel, address={"inbox": "ana"})
        )
        return person.id or 0


async def test_schema_is_at_head(any_db: Database) -> None:
    assert await any_db.current_revision() is not None
    await any_db.upgrade()  # idempotent


async def test_timestamps_round_trip_as_utc(any_db: Database) -> None:
    berlin = timezone(timedelta(hours=1))
    async with any_db.session() as session:
        session.add(Workspace(key="w", name="W", channel="local", external_id="w"))
        await session.flush()
        person = Person(
            workspace_id=1,
            handle="a",
            name="A",
            snoozed_until=datetime(2026, 3, 1, 10, tzinfo=berlin),
        )
        session.add(person)
    async with any_db.session() as session:
        stored = (await session.exec(select(Person))).one()
    assert stored.snoozed_until == datetime(2026, 3, 1, 9, tzinfo=UTC)
    assert stored.snoozed_until.tzinfo is not None
    assert stored.snoozed_until.utcoffset() == timedelta(0)


async def test_naive_datetimes_are_refused(db: Database) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        async with db.session() as session:
            session.add(Workspace(key="w", name="W", channel="local", external_id="w"))
            await session.flush()
            session.add(
                Person(workspace_id=1, handle="a", name="A", snoozed_until=datetime(2026, 1, 1))
            )


async def test_outbox_dedupe_key_adds_once(any_db: Database, clock: FakeClock) -> None:
    person_id = await _person(any_db)
    message = notice("hello", "Hello").model_dump(mode="json")
    added = []
    for _ in range(3):
        async with any_db.session() as session:
            added.append(
                await outbox.enqueue(
                    session,
                    dedupe_key="k1",
                    person_id=person_id,
                    kind="test",
                    ref="hello",
                    payload=message,
                    not_before=clock.now(),
                )
            )
    assert added == [True, False, False]
    async with any_db.session() as session:
        assert len((await session.exec(select(OutboxMessage))).all()) == 1


async def test_sender_delivers_once_and_respects_not_before(
    any_db: Database, clock: FakeClock
) -> None:
    person_id = await _person(any_db)
    sender = Sender(any_db, clock, {"local": LocalMessenger(any_db)})
    async with any_db.session() as session:
        for key, delay in (("now", 0), ("later", 3600)):
            await outbox.enqueue(
                session,
                dedupe_key=key,
                person_id=person_id,
                kind="test",
                ref=key,
                payload=notice(key, key).model_dump(mode="json"),
                not_before=clock.now() + timedelta(seconds=delay),
            )
    first = await sender.drain()
    again = await sender.drain()
    assert (first.sent, again.sent) == (1, 0)
    clock.advance(timedelta(hours=1))
    assert (await sender.drain()).sent == 1
    async with any_db.session() as session:
        history = await local_inbox.history(session, person_id)
        statuses = await outbox.counts(session)
    assert [m.ref for m in history] == ["now", "later"]
    assert statuses == {"sent": 2}


async def test_expired_messages_are_cancelled_not_sent_late(db: Database, clock: FakeClock) -> None:
    person_id = await _person(db)
    async with db.session() as session:
        await outbox.enqueue(
            session,
            dedupe_key="stale",
            person_id=person_id,
            kind="test",
            ref="stale",
            payload=notice("stale", "stale").model_dump(mode="json"),
            not_before=clock.now(),
            expires_at=clock.now() + timedelta(minutes=5),
        )
    clock.advance(timedelta(minutes=10))
    result = await Sender(db, clock, {"local": LocalMessenger(db)}).drain()
    assert (result.sent, result.expired) == (0, 1)
    async with db.session() as session:
        assert await outbox.counts(session) == {"cancelled": 1}
        assert await local_inbox.history(session, person_id) == []


async def test_message_without_active_address_is_recorded_failed(
    db: Database, clock: FakeClock
) -> None:
    person_id = await _person(db, channel="slack")
    async with db.session() as session:
        await outbox.enqueue(
            session,
            dedupe_key="x",
            person_id=person_id,
            kind="test",
            ref="x",
            payload=notice("x", "x").model_dump(mode="json"),
            not_before=clock.now(),
        )
    result = await Sender(db, clock, {"local": LocalMessenger(db)}).drain()
    assert result.failed == 1
    async with db.session() as session:
        row = (await session.exec(select(OutboxMessage))).one()
    assert (row.status, row.last_error) == ("failed", "slack is off")


async def test_enqueue_many_adds_only_new_keys(any_db: Database, clock: FakeClock) -> None:
    person_id = await _person(any_db)
    payload = notice("x", "x").model_dump(mode="json")

    def message(key: str) -> outbox.Outgoing:
        return outbox.Outgoing(key, person_id, "test", key, payload, clock.now())

    async with any_db.session() as session:
        assert await outbox.enqueue_many(session, [message("a")]) == 1
    async with any_db.session() as session:
        assert await outbox.enqueue_many(session, [message(k) for k in "abc"]) == 2
        assert await outbox.enqueue_many(session, []) == 0
    async with any_db.session() as session:
        assert await outbox.counts(session) == {"pending": 3}
