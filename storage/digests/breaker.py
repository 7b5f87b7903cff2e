"""The language model's shared failure state (`model_breaker`): one row per endpoint
and model, read before every summary and written when the model fails or answers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.digests.models import ModelBreaker


async def state(session: AsyncSession, key: str) -> ModelBreaker | None:
    return await session.get(ModelBreaker, key)


async def trip(
    session: AsyncSession, key: str, now: datetime, open_until: datetime, reason: str
) -> ModelBreaker:
    """Record a failure; `failures` counts them in a row. Two processes tripping at
    once both write the same kind of row: the later one wins, which is as good."""
    row = await session.get(ModelBreaker, key, with_for_update=True)
    if row is None:
        row = ModelBreaker(key=key, open_until=open_until, tripped_at=now, reason=reason[:300])
    else:
        row.open_until, row.tripped_at, row.reason = open_until, now, reason[:300]
        row.failures += 1
    session.add(row)
    await session.flush()
    return row


async def reset(session: AsyncSession, key: str) -> None:
    await session.exec(delete(ModelBreaker).where(col(ModelBreaker.key) == key))
