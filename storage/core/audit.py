"""The audit log: who changed what, never what anyone answered."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.core.models import AuditEntry


def record(
    session: AsyncSession, actor: str, action: str, target: str, **detail: Any
) -> AuditEntry:
    entry = AuditEntry(actor=actor, action=action, target=target, detail=detail)
    session.add(entry)
    return entry


async def recent(session: AsyncSession, limit: int = 50) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(limit)
    return list((await session.exec(query)).all())
