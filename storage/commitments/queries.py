"""Queries for accountability commitments and their check-ins."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement, or_
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.commitments.models import Commitment, CommitmentCheckIn
from storage.core.dialects import insert_for
from storage.core.models import Person, Team, Workspace

OPEN_STATUSES = ("pending", "active", "paused")
CLOSED_STATUSES = ("completed", "dropped", "declined")


class Outcome(NamedTuple):
    """What follow-through figures read of a check-in: two columns, not the whole row
    (two years of a team's check-ins loaded as full rows took a digest 12 ms)."""

    outcome: str | None
    reflection: str | None


async def add(session: AsyncSession, commitment: Commitment) -> Commitment:
    session.add(commitment)
    await session.flush()
    return commitment


async def get(session: AsyncSession, commitment_id: int) -> Commitment | None:
    return await session.get(Commitment, commitment_id)


async def of_person(
    session: AsyncSession, person_id: int, statuses: Sequence[str] | None = None
) -> list[Commitment]:
    query = select(Commitment).where(Commitment.person_id == person_id)
    if statuses is not None:
        query = query.where(col(Commitment.status).in_(list(statuses)))
    return list((await session.exec(query.order_by(col(Commitment.id)))).all())


async def of_team(
    session: AsyncSession, team_id: int, statuses: Sequence[str] | None = None
) -> list[Commitment]:
    query = select(Commitment).where(Commitment.team_id == team_id)
    if statuses is not None:
        query = query.where(col(Commitment.status).in_(list(statuses)))
    return list((await session.exec(query.order_by(col(Commitment.id)))).all())


async def active(session: AsyncSession) -> list[Commitment]:
    query = select(Commitment).where(Commitment.status == "active")
    return list((await session.exec(query.order_by(col(Commitment.id)))).all())


async def person_in_workspace(
    session: AsyncSession, workspace_id: int, handle: str
) -> Person | None:
    query = select(Person).where(Person.workspace_id == workspace_id, Person.handle == handle)
    return (await session.exec(query)).first()


async def ensure_checkin(
    session: AsyncSession, commitment_id: int, occurrence: str, asked_at: datetime
) -> CommitmentCheckIn:
    """The check-in of one occurrence, created once however often the occurrence fires."""
    insert = insert_for(session.get_bind().dialect.name)
    table = SQLModel.metadata.tables["commitment_checkin"]
    statement = (
        insert(table)
        .values(commitment_id=commitment_id, occurrence=occurrence, asked_at=asked_at)
        .on_conflict_do_nothing(index_elements=["commitment_id", "occurrence"])
    )
    await session.exec(statement)
    found = await checkin_for(session, commitment_id, occurrence)
    assert found is not None
    return found


async def checkin_for(
    session: AsyncSession, commitment_id: int, occurrence: str
) -> CommitmentCheckIn | None:
    query = select(CommitmentCheckIn).where(
        CommitmentCheckIn.commitment_id == commitment_id,
        CommitmentCheckIn.occurrence == occurrence,
    )
    return (await session.exec(query)).first()


async def checkin(session: AsyncSession, checkin_id: int) -> CommitmentCheckIn | None:
    return await session.get(CommitmentCheckIn, checkin_id)


def _asked(commitment_ids: Sequence[int], since: datetime | None) -> list[ColumnElement[bool]]:
    """Which check-ins `checkins` and `outcomes` read: of these commitments, asked since
    `since` (all when None)."""
    which: list[ColumnElement[bool]] = [
        col(CommitmentCheckIn.commitment_id).in_(list(commitment_ids))
    ]
    if since is not None:
        which.append(col(CommitmentCheckIn.asked_at) >= since)
    return which


_OLDEST_FIRST = (col(CommitmentCheckIn.occurrence), col(CommitmentCheckIn.id))


async def checkins(
    session: AsyncSession, commitment_ids: Sequence[int], since: datetime | None = None
) -> dict[int, list[CommitmentCheckIn]]:
    """Check-ins of many commitments in one query, oldest occurrence first."""
    found: dict[int, list[CommitmentCheckIn]] = {cid: [] for cid in commitment_ids}
    if not commitment_ids:
        return found
    query = select(CommitmentCheckIn).where(*_asked(commitment_ids, since)).order_by(*_OLDEST_FIRST)
    for row in (await session.exec(query)).all():
        found[row.commitment_id].append(row)
    return found


async def followed(
    session: AsyncSession, team_id: int, since: datetime | None = None, all_checkins: bool = False
) -> list[tuple[Commitment, str | None, list[Outcome]]]:
    """A team's confirmed commitments (neither pending nor declined, nor closed before
    `since`), by id, each with its leader's name and the outcomes of its check-ins asked
    since `since` (all when None, or with `all_checkins`), oldest occurrence first: two
    queries. (One joined query would load the commitment again with every check-in,
    slower over a long history.)"""
    query = (
        select(Commitment, Person.name)
        .outerjoin(Person, col(Person.id) == Commitment.person_id)
        .where(
            Commitment.team_id == team_id,
            col(Commitment.status).not_in(["pending", "declined"]),
        )
        .order_by(col(Commitment.id))
    )
    if since is not None:
        query = query.where(
            or_(col(Commitment.closed_at).is_(None), col(Commitment.closed_at) >= since)
        )
    rows = (await session.exec(query)).all()
    found = await outcomes(session, [c.id or 0 for c, _ in rows], None if all_checkins else since)
    return [(c, name, found[c.id or 0]) for c, name in rows]


async def outcomes(
    session: AsyncSession, commitment_ids: Sequence[int], since: datetime | None = None
) -> dict[int, list[Outcome]]:
    """The outcomes of many commitments' check-ins in one query, in `checkins`' order."""
    found: dict[int, list[Outcome]] = {cid: [] for cid in commitment_ids}
    if not commitment_ids:
        return found
    query = (
        select(
            CommitmentCheckIn.commitment_id,
            CommitmentCheckIn.outcome,
            CommitmentCheckIn.reflection,
        )
        .where(*_asked(commitment_ids, since))
        .order_by(*_OLDEST_FIRST)
    )
    for commitment_id, outcome, reflection in (await session.exec(query)).all():
        found[commitment_id].append(Outcome(outcome, reflection))
    return found


async def previous_checkin(
    session: AsyncSession, commitment_id: int, before_occurrence: str
) -> CommitmentCheckIn | None:
    query = (
        select(CommitmentCheckIn)
        .where(
            CommitmentCheckIn.commitment_id == commitment_id,
            col(CommitmentCheckIn.occurrence) < before_occurrence,
        )
        .order_by(col(CommitmentCheckIn.occurrence).desc())
    )
    return (await session.exec(query)).first()


async def all_with_people(session: AsyncSession) -> list[tuple[Commitment, Person, str, str]]:
    """Every commitment with its leader, workspace key and team key, in a stable order."""
    query = (
        select(Commitment, Person, Workspace.key, Team.key)
        .join(Person, col(Person.id) == Commitment.person_id)
        .join(Workspace, col(Workspace.id) == Person.workspace_id)
        .join(Team, col(Team.id) == Commitment.team_id)
        .order_by(col(Workspace.key), col(Person.handle), col(Commitment.id))
    )
    return [(c, p, w, t) for c, p, w, t in (await session.exec(query)).all()]
