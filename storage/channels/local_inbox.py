"""The local channel's chat history."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.core.models import LocalMessage
from storage.core.types import utcnow


async def upsert(
    session: AsyncSession,
    person_id: int,
    ref: str,
    sender: str,
    payload: dict[str, Any],
    same_is_noop: bool = False,
) -> LocalMessage:
    """Store a message; a message with the same ref is updated in place. With
    `same_is_noop`, an identical payload changes nothing (an outbox redelivery)."""
    query = select(LocalMessage).where(LocalMessage.person_id == person_id, LocalMessage.ref == ref)
    existing = (await session.exec(query)).first()
    if existing is None:
        existing = LocalMessage(person_id=person_id, ref=ref, sender=sender, payload=payload)
    elif same_is_noop and existing.payload == payload:
        return existing
    else:
        existing.payload = payload
        existing.version += 1
        existing.updated_at = utcnow()
    session.add(existing)
    await session.flush()
    return existing


async def post(
    session: AsyncSession, person_id: int, ref: str, sender: str, payload: dict[str, Any]
) -> LocalMessage:
    """Store a message as a new one at the end of the chat, even when the person has a
    message with this ref already: an answer belongs where they are looking. The older
    copy keeps its place and content under a suffixed ref (its buttons still work, on
    itself); the ref's later updates go to the new one."""
    older = await by_ref(session, person_id, ref)
    if older is not None:
        older.ref = f"{ref[: 200 - 12]}~{older.id}"
        session.add(older)
        await session.flush()
    return await upsert(session, person_id, ref, sender, payload)


async def by_ref(session: AsyncSession, person_id: int, ref: str) -> LocalMessage | None:
    query = select(LocalMessage).where(LocalMessage.person_id == person_id, LocalMessage.ref == ref)
    return (await session.exec(query)).first()


async def history(session: AsyncSession, person_id: int, limit: int = 100) -> list[LocalMessage]:
    query = (
        select(LocalMessage)
        .where(LocalMessage.person_id == person_id)
        .order_by(col(LocalMessage.id).desc())
        .limit(limit)
    )
    return list(reversed((await session.exec(query)).all()))


async def remove(session: AsyncSession, person_ids: Sequence[int], ref: str) -> None:
    """Delete these people's message `ref` (every version: the row goes)."""
    if person_ids:
        await session.exec(
            delete(LocalMessage).where(
                col(LocalMessage.person_id).in_(list(person_ids)), col(LocalMessage.ref) == ref
            )
        )
