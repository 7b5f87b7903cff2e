"""Cancelling outbox messages by dedupe-key prefix: exact on SQLite and PostgreSQL (an ICU
database collation included), and answered from the unique index on dedupe_key."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, make_url, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.core import outbox
from storage.core.db import Database, async_url
from storage.core.models import OutboxMessage
from tests.conftest import POSTGRES_URL
from tests.support.people import local_person

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _keys(round_id: int) -> dict[str, str]:
    """A round's keys and what cancelling person 5's reminders must leave of each."""
    base = f"pulse:{round_id}:remind"
    return {
        f"{base}:5:1": "cancelled",
        f"{base}:5:2": "cancelled",
        f"{base}:5:x": "cancelled",
        f"{base}:5:sent": "sent",  # already sent: stays so
        f"{base}:50:1": "pending",  # person 50, not 5
        f"{base}:5;x": "pending",  # ";" follows ":" bytewise: the range's upper bound
        f"{base}:4:1": "pending",
        f"pulse:{round_id}:invite:5": "pending",
    }


async def _cancel_prefixes(session: AsyncSession, prefixes: list[str]) -> None:
    """`outbox.cancel_prefixes` inside the session's transaction, as the group commit
    runs it inside its own."""
    await session.run_sync(
        lambda sync: outbox.cancel_prefixes(sync.connection(), prefixes, "answered")
    )


async def _seed(db: Database, round_ids: list[int]) -> None:
    async with db.session() as session:
        person = await local_person(session)
        messages = [
            outbox.Outgoing(key, person.id or 0, "test", key, {}, NOW)
            for round_id in round_ids
            for key in _keys(round_id)
        ]
        assert await outbox.enqueue_many(session, messages) == len(messages)
    async with db.session() as session:
        for message in (await session.exec(select(OutboxMessage))).all():
            if message.dedupe_key.endswith(":sent"):
                await outbox.mark_sent(session, message.id or 0, "local", {}, NOW)


async def _statuses(db: Database) -> dict[str, str]:
    async with db.session() as session:
        rows = (await session.exec(select(OutboxMessage))).all()
    return {row.dedupe_key: row.status for row in rows}


async def _assert_prefixes_cancel_exactly(db: Database) -> None:
    await _seed(db, [1, 2, 3])
    async with db.session() as session:
        assert await outbox.cancel_pending(session, "pulse:1:remind:5:", "answered") == 3
        # LIKE wildcards in a prefix are plain characters: nothing starts with these.
        assert await outbox.cancel_pending(session, "pulse:1:remind:_:", "answered") == 0
        assert await outbox.cancel_pending(session, "pulse:1:remind:%", "answered") == 0
        await _cancel_prefixes(
            session, ["pulse:2:remind:5:", "pulse:3:remind:5:", "pulse:9:remind:5:"]
        )
    expected = {**_keys(1), **_keys(2), **_keys(3)}
    assert await _statuses(db) == expected


async def test_prefix_cancels_exactly_its_keys(any_db: Database) -> None:
    await _assert_prefixes_cancel_exactly(any_db)


@pytest.fixture
async def icu_db() -> AsyncIterator[Database]:
    """A PostgreSQL database of its own whose default collation is ICU en-US, where ":"
    and ";" sort unlike bytes. Under CI an unreachable PostgreSQL fails, never skips."""
    name = f"pulsecoach_icu_{os.getpid()}"
    admin = create_async_engine(async_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")

    async def run(sql: str) -> None:
        async with admin.connect() as connection:
            await connection.execute(text(sql))

    try:
        await run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await run(
            f'CREATE DATABASE "{name}" TEMPLATE template0'
            " LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"
        )
    except Exception as exc:
        await admin.dispose()
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL at {POSTGRES_URL} is unreachable under CI: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    database = Database(url)
    try:
        await database.upgrade()
        yield database
    finally:
        await database.dispose()
        await run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.dispose()


async def test_prefix_cancels_exactly_under_an_icu_database_collation(icu_db: Database) -> None:
    async with icu_db.engine.connect() as connection:
        provider = await connection.scalar(
            text("SELECT datlocprovider::text FROM pg_database WHERE datname = current_database()")
        )
        # The premise: this database's own order puts no key of person 5 in the range.
        bytewise_only = await connection.scalar(
            text("SELECT 'pulse:1:remind:5:x' < 'pulse:1:remind:5;'")
        )
    assert (provider, bytewise_only) == ("i", False)
    await _assert_prefixes_cancel_exactly(icu_db)


async def test_prefix_cancellation_searches_the_dedupe_key_index(db: Database) -> None:
    await _seed(db, [1])
    updates: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE OUTBOX_MESSAGE"):
            updates.append((statement, parameters))

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        async with db.session() as session:
            await _cancel_prefixes(session, ["pulse:1:remind:5:", "pulse:1:remind:4:"])
            await outbox.cancel_pending(session, "pulse:1:remind:50:", "answered")
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)
    assert len(updates) == 2
    assert (await _statuses(db)) == {
        **_keys(1),
        "pulse:1:remind:4:1": "cancelled",
        "pulse:1:remind:50:1": "cancelled",
    }

    async with db.engine.connect() as connection:
        indexes = (await connection.exec_driver_sql("PRAGMA index_list(outbox_message)")).all()
        unique_key_index = None
        for _seq, index_name, unique, *_rest in indexes:
            columns = await connection.exec_driver_sql(f"PRAGMA index_info('{index_name}')")
            if unique and [c[2] for c in columns.all()] == ["dedupe_key"]:
                unique_key_index = index_name
        assert unique_key_index is not None
        for statement, parameters in updates:
            first = parameters[0] if isinstance(parameters, list) else parameters
            plan = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", first)
            details = [row[3] for row in plan.all()]
            # The key range comes from the unique index; the status index may check a
            # row it found (status=? AND rowid=?), never list every pending row itself.
            assert any(unique_key_index in d and "dedupe_key>" in d for d in details), details
            assert not any(d.startswith("SCAN outbox_message") for d in details), details
            assert not any(d.endswith("(status=?)") for d in details), details
