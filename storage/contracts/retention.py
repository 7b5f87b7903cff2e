"""The retention period's purge of closed contract checks' ratings
(storage/core/retention.py has the other kinds): each check's figures are kept in
`contract_check_summary` before its ratings go, in the same transaction, so the
follow-through report and digests read the same afterwards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.contracts.models import (
    ContractCheck,
    ContractCheckInvite,
    ContractCheckSummary,
    ContractRating,
    ContractVersion,
)
from storage.core.models import Team


def due_check_ids(workspace_id: int, cutoff: datetime) -> Any:
    return (
        select(ContractCheck.id)
        .join(Team, col(Team.id) == ContractCheck.team_id)
        .where(
            Team.workspace_id == workspace_id,
            ContractCheck.status == "closed",
            col(ContractCheck.closed_at) < cutoff,
            exists().where(col(ContractRating.check_id) == ContractCheck.id),
        )
    )


@dataclass(frozen=True)
class DueCheck:
    check: ContractCheck
    version: ContractVersion | None
    invited: int
    ratings: list[tuple[str, str, int]]  # (respondent, norm key, score)


async def checks_due(
    session: AsyncSession, workspace_id: int, cutoff: datetime, limit: int
) -> list[DueCheck]:
    """Closed checks past the cutoff that still hold ratings, oldest id first, with
    what their figures are computed from; at least one, then as many more as fit in
    `limit` ratings."""
    ids = (
        await session.exec(
            due_check_ids(workspace_id, cutoff).order_by(col(ContractCheck.id)).limit(limit)
        )
    ).all()
    found: list[DueCheck] = []
    rows = 0
    for check_id in ids:
        check, version = (
            await session.exec(
                select(ContractCheck, ContractVersion)
                .outerjoin(ContractVersion, col(ContractVersion.id) == ContractCheck.version_id)
                .where(ContractCheck.id == check_id)
            )
        ).one()
        ratings = (
            await session.exec(
                select(
                    ContractRating.respondent, ContractRating.norm_key, ContractRating.score
                ).where(ContractRating.check_id == check_id)
            )
        ).all()
        invited = (
            await session.exec(
                select(func.count())
                .select_from(ContractCheckInvite)
                .where(ContractCheckInvite.check_id == check_id)
            )
        ).one()
        if found and rows + len(ratings) > limit:
            break
        found.append(
            DueCheck(check, version, int(invited), [(r, k, score) for r, k, score in ratings])
        )
        rows += len(ratings)
    return found


async def purge_check(
    session: AsyncSession, check_id: int, summary: dict[str, object] | None
) -> int:
    """Keep the check's figures (unless kept already), then delete its ratings, in the
    caller's transaction: how many ratings went. Its comments go with the row kinds."""
    if summary is not None and await session.get(ContractCheckSummary, check_id) is None:
        session.add(ContractCheckSummary(check_id=check_id, summary=summary))
        await session.flush()
    deleted = await session.exec(
        delete(ContractRating).where(col(ContractRating.check_id) == check_id)
    )
    return int(deleted.rowcount or 0)
