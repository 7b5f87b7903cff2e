"""Queries for schedule entries: the due rows, and keeping one row per subject."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.core.schedule_models import ScheduleEntry

# Due before any clock's now: "plan this subject at the next dispatch pass".
ASAP = datetime(1970, 1, 1, tzinfo=UTC)


async def claim_due(session: AsyncSession, now: datetime, limit: int) -> list[ScheduleEntry]:
    """Due entries, locked for this transaction (other processes skip them)."""
    query = (
        select(ScheduleEntry)
        .where(col(ScheduleEntry.due_at).is_not(None), col(ScheduleEntry.due_at) <= now)
        .order_by(col(ScheduleEntry.due_at), col(ScheduleEntry.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.exec(query)).all())


async def entry(session: AsyncSession, kind: str, subject_id: int) -> ScheduleEntry | None:
    query = select(ScheduleEntry).where(
        ScheduleEntry.kind == kind, ScheduleEntry.subject_id == subject_id
    )
    return (await session.exec(query)).first()


async def set_due(
    session: AsyncSession,
    kind: str,
    subject_id: int,
    due_at: datetime | None,
    occurrence: str | None,
) -> ScheduleEntry:
    """Create or move the subject's entry (None: nothing planned)."""
    found = await entry(session, kind, subject_id)
    if found is None:
        found = ScheduleEntry(kind=kind, subject_id=subject_id)
    found.due_at, found.occurrence = due_at, occurrence
    session.add(found)
    return found


async def entries(session: AsyncSession, kind: str | None = None) -> list[ScheduleEntry]:
    query = select(ScheduleEntry).order_by(col(ScheduleEntry.due_at))
    if kind:
        query = query.where(ScheduleEntry.kind == kind)
    return list((await session.exec(query)).all())


async def due_count(session: AsyncSession, now: datetime) -> int:
    """How many entries are due and not yet run (a backlog the dispatcher works off)."""
    query = (
        select(func.count())
        .select_from(ScheduleEntry)
        .where(col(ScheduleEntry.due_at).is_not(None), col(ScheduleEntry.due_at) <= now)
    )
    return int((await session.exec(query)).one())
