"""The durable outbox: write first, send later, exactly once per dedupe key."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import SQLModel, col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import OutboxMessage, OutboxStatus
from storage.types import utcnow


@dataclass(frozen=True)
class Outgoing:
    """One message to write to the outbox."""

    dedupe_key: str
    person_id: int
    kind: str
    ref: str
    payload: dict[str, Any]
    not_before: datetime
    expires_at: datetime | None = None


async def enqueue_many(session: AsyncSession, messages: Sequence[Outgoing]) -> int:
    """Add the messages whose dedupe key is new, in one statement; returns how many.
    A fan-out to thousands is one round trip, and a retried fan-out adds nothing."""
    if not messages:
        return 0
    created = utcnow()
    rows = [
        {
            **vars(m),  # shallow: payloads are not copied
            "status": OutboxStatus.PENDING.value,
            "attempts": 0,
            "created_at": created,
        }
        for m in messages
    ]
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = SQLModel.metadata.tables["outbox_message"]
    statement = (
        insert(table).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(table.c.id)
    )
    connection = await session.connection()
    # RETURNING counts what was added on every driver (asyncpg reports no rowcount).
    return len((await connection.execute(statement, rows)).all())


async def enqueue(
    session: AsyncSession,
    *,
    dedupe_key: str,
    person_id: int,
    kind: str,
    ref: str,
    payload: dict[str, Any],
    not_before: datetime,
    expires_at: datetime | None = None,
) -> bool:
    """Add a message unless one with this dedupe key exists. True when added."""
    message = Outgoing(dedupe_key, person_id, kind, ref, payload, not_before, expires_at)
    return await enqueue_many(session, [message]) == 1


async def claim_due(
    session: AsyncSession, now: datetime, limit: int, lease: timedelta
) -> list[OutboxMessage]:
    """Claim due pending rows for this process. On PostgreSQL other senders skip
    the locked rows; a claim lapses after `lease` so a crashed sender's rows return."""
    query = (
        select(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.PENDING,
            col(OutboxMessage.not_before) <= now,
            or_(col(OutboxMessage.claimed_until).is_(None), col(OutboxMessage.claimed_until) < now),
        )
        .order_by(col(OutboxMessage.not_before), col(OutboxMessage.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = list((await session.exec(query)).all())
    for row in rows:
        row.claimed_until = now + lease
        session.add(row)
    return rows


async def mark_sent(
    session: AsyncSession,
    message_id: int,
    channel: str,
    external_ref: dict[str, Any],
    now: datetime,
) -> None:
    await _set(
        session,
        message_id,
        status=OutboxStatus.SENT.value,
        channel=channel,
        external_ref=external_ref,
        sent_at=now,
        claimed_until=None,
        attempts=OutboxMessage.attempts + 1,
    )


async def mark_retry(
    session: AsyncSession, message_id: int, error: str, next_attempt: datetime
) -> None:
    await _set(
        session,
        message_id,
        last_error=error[:500],
        not_before=next_attempt,
        claimed_until=None,
        attempts=OutboxMessage.attempts + 1,
    )


async def mark_final(session: AsyncSession, message_id: int, status: str, reason: str) -> None:
    await _set(session, message_id, status=status, last_error=reason[:500], claimed_until=None)


async def _set(session: AsyncSession, message_id: int, **values: Any) -> None:
    statement = update(OutboxMessage).where(col(OutboxMessage.id) == message_id).values(**values)
    await session.exec(statement)


async def cancel_pending(session: AsyncSession, key_prefix: str, reason: str) -> int:
    """Cancel every pending message whose dedupe key starts with the prefix:
    its moment has passed (a round closed, an answer came)."""
    statement = (
        update(OutboxMessage)
        .where(
            col(OutboxMessage.status) == OutboxStatus.PENDING,
            col(OutboxMessage.dedupe_key).startswith(key_prefix, autoescape=True),
        )
        .values(status=OutboxStatus.CANCELLED.value, last_error=reason[:500])
    )
    result = await session.exec(statement)
    return int(result.rowcount or 0)


async def expire_due(session: AsyncSession, now: datetime) -> int:
    """Cancel pending messages whose expiry has passed: never send late."""
    statement = (
        update(OutboxMessage)
        .where(
            col(OutboxMessage.status) == OutboxStatus.PENDING,
            col(OutboxMessage.expires_at).is_not(None),
            col(OutboxMessage.expires_at) <= now,
        )
        .values(status=OutboxStatus.CANCELLED.value, last_error="expired before it could be sent")
    )
    result = await session.exec(statement)
    return int(result.rowcount or 0)


async def counts(session: AsyncSession) -> dict[str, int]:
    query = select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    return {status: int(n) for status, n in (await session.exec(query)).all()}


async def sent_for_ref(session: AsyncSession, person_id: int, ref: str) -> OutboxMessage | None:
    query = (
        select(OutboxMessage)
        .where(
            OutboxMessage.person_id == person_id,
            OutboxMessage.ref == ref,
            OutboxMessage.status == OutboxStatus.SENT,
        )
        .order_by(col(OutboxMessage.id).desc())
    )
    return (await session.exec(query)).first()


async def purge_finished(session: AsyncSession, before: datetime) -> int:
    """Delete sent, cancelled, missed and failed rows created before `before`."""
    statement = delete(OutboxMessage).where(
        col(OutboxMessage.status) != OutboxStatus.PENDING, col(OutboxMessage.created_at) < before
    )
    result = await session.exec(statement)
    return int(result.rowcount or 0)
